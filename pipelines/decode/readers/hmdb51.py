"""HMDB-51: ``<class>/<clip>.avi`` and ``testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt``.

Each split file lists every clip of its class with a tag: ``1`` train, ``2`` test, ``0`` unused.
Splits ``train1..3`` / ``test1..3`` keep the clips tagged 1 / 2 in that fold's files. Labels are
the class names in sorted order (the official code used ``os.listdir`` order, which depends on
the filesystem); the classes are read from the split files of all folds.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.decode.readers.base import RecordSet, fold_split, inside

SPLIT_FILE = re.compile(r"(.+)_test_split([123])\.txt")
TAGS = {"train": "1", "test": "2"}


def _split_dir(ann: Path) -> Path:
    for d in (ann, ann / "testTrainMulti_7030_splits"):
        if any(SPLIT_FILE.fullmatch(p.name) for p in d.glob("*_test_split*.txt")):
            return d
    raise FileNotFoundError(f"{ann}: no HMDB-51 split files (<class>_test_split<N>.txt) found "
                            f"(also looked in {ann / 'testTrainMulti_7030_splits'})")


def split_files(ann: Path) -> dict[tuple[str, int], Path]:
    """(class name, fold) → split file."""
    found = {}
    for p in sorted(_split_dir(ann).iterdir()):
        m = SPLIT_FILE.fullmatch(p.name)
        if m:
            found[(m.group(1), int(m.group(2)))] = p
    return found


def read_hmdb51(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """One HMDB-51 fold split (``train1`` … ``test3``)."""
    kind, fold = fold_split(split, "hmdb51")
    files, root = split_files(Path(annotation_root)), inside(Path(video_root), "videos")
    out = RecordSet(tuple(sorted({name for name, _ in files})))
    index = {name: i for i, name in enumerate(out.classes)}
    for name in out.classes:
        path = files.get((name, fold))
        if path is None:
            raise FileNotFoundError(f"{Path(annotation_root)}: {name}_test_split{fold}.txt not found "
                                    f"(class {name!r} has split files for other folds)")
        for line_no, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            where = f"{path.name} line {line_no}"
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                out.reject(Path(parts[0]).stem, root / name / parts[0], split, name, "bad_row",
                           f"{where}: expected '<clip>.avi <0|1|2>', got {line.strip()!r}")
            elif parts[1] == TAGS[kind]:
                out.add(root / name / parts[0], Path(parts[0]).stem, split, name, where, index)
    return out
