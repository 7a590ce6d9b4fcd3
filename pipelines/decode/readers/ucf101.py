"""UCF-101: ``UCF-101/<Class>/v_<Class>_gXX_cYY.avi`` and ``ucfTrainTestlist/``.

Splits ``train1..3`` / ``test1..3`` read ``trainlist0N.txt`` (``<Class>/<file>.avi <1-based
label>``) and ``testlist0N.txt`` (``<Class>/<file>.avi``), CRLF line endings. The label order is
``classInd.txt``'s (case-insensitive sort, not Python's), the class is always taken from the
directory part (``HandstandPushups/v_HandStandPushups_…``), and a train-list label that
disagrees with ``classInd.txt`` is listed in the manifest as ``label_mismatch``.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.decode.readers.base import RecordSet, find_file, fold_split, unique_classes

ANNOTATION_FOLDERS = ("", "ucfTrainTestlist")


def _folders(ann: Path) -> list[Path]:
    return [ann / sub for sub in ANNOTATION_FOLDERS]


def _video_root(root: Path) -> Path:
    """The folder of class folders: ``root`` itself, or its ``UCF-101`` / ``videos`` child."""
    for sub in ("UCF-101", "videos"):
        if (root / sub).is_dir() and not (root / "ApplyEyeMakeup").is_dir():
            return root / sub
    return root


def read_class_index(ann: Path) -> tuple[str, ...]:
    """Class names in ``classInd.txt`` order; the file's 1-based numbers must run 1..N."""
    path = find_file(_folders(ann), ["classInd.txt"])
    names = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) != len(names) + 1:
            raise ValueError(f"{path} line {line_no}: expected '<{len(names) + 1}> <ClassName>', got {line.strip()!r}")
        names.append(parts[1])
    return unique_classes(names, path)


def read_ucf101(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """One UCF-101 fold split (``train1`` … ``test3``)."""
    kind, fold = fold_split(split, "ucf101")
    ann, root = Path(annotation_root), _video_root(Path(video_root))
    out = RecordSet(read_class_index(ann))
    index = {name: i for i, name in enumerate(out.classes)}
    path = find_file(_folders(ann), [f"{kind}list0{fold}.txt"])
    for line_no, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        where, rel = f"{path.name} line {line_no}", parts[0]
        label = rel.split("/")[0] if "/" in rel else ""
        vid = Path(rel).stem
        if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()) or not label:
            out.reject(vid, root / rel, split, label, "bad_row", f"{where}: expected '<Class>/<file>.avi [label]', got {line.strip()!r}")
        elif len(parts) == 2 and label in index and int(parts[1]) - 1 != index[label]:
            out.reject(vid, root / rel, split, label, "label_mismatch",
                       f"{where}: label {parts[1]} but classInd.txt gives {label!r} {index[label] + 1}")
        else:
            out.add(root / rel, vid, split, label, where, index)
    return out
