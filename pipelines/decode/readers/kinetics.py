"""Kinetics-400 (and the layouts that reuse it: Mini-Kinetics-200, Mimetics).

Annotations: ``<split>.csv`` with a header holding ``label,youtube_id,time_start,time_end``
(extra columns such as ``split`` and ``is_cc`` are ignored; ``validate.csv`` and ``val.csv`` are
aliases). Classes: ``label_map.txt`` (one name per line, the label index is the line) if the
annotation folder has one, else the sorted labels of ``train.csv``.

Videos: ``<youtube_id>_<start:06d>_<end:06d>.mp4`` anywhere under the root: in label folders
(raw label, spaces → ``_``, or torchvision's sanitized name), optionally under a split folder,
or flat per split (CVDF); the CVDF ``replacement/`` copies win over the corrupted originals.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.decode.readers.base import RecordSet, dict_rows, find_file, read_lines, require, unique_classes

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi")
SPLIT_ALIASES = {"val": ("val", "validate", "validation"), "validate": ("validate", "val", "validation"),
                 "validation": ("validation", "val", "validate")}
CSV_COLUMNS = ("label", "youtube_id", "time_start", "time_end")


def split_aliases(split: str) -> tuple[str, ...]:
    return SPLIT_ALIASES.get(split, (split,))


def kinetics_csv(ann: Path, split: str) -> Path:
    """``<split>.csv`` (or an alias, or the 2017 ``kinetics-400_<split>.csv`` name) in ``ann``."""
    names = [f"{p}{a}.csv" for a in split_aliases(split) for p in ("", "kinetics-400_", "kinetics_")]
    return find_file([ann], names)


def read_label_map(ann: Path, fallback_csv: str = "train.csv") -> tuple[str, ...]:
    """``label_map.txt`` if present, else the sorted labels of ``fallback_csv``."""
    label_map = ann / "label_map.txt"
    if label_map.is_file():
        return unique_classes(read_lines(label_map), label_map)
    path = require(ann / fallback_csv, "annotation file (no label_map.txt either)")
    labels = set()
    for row_no, row in dict_rows(path, ["label"]):
        labels.add(nonempty_label(row["label"], path, row_no))
    return tuple(sorted(labels))


def nonempty_label(label: str, path: Path, row_no: int) -> str:
    """``label``, or ValueError naming the file and row if it is empty or whitespace."""
    if not label.strip():
        raise ValueError(f"{path} row {row_no}: empty label")
    return label


def clip_stem(row: dict) -> str:
    """``<youtube_id>_<start:06d>_<end:06d>``; times may be written as floats."""
    return f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}"


def label_folders(label: str) -> set[str]:
    """Every folder name a tool gives ``label``: raw, spaces → ``_``, torchvision-sanitized."""
    underscored = label.replace(" ", "_")
    return {label, underscored, underscored.replace("'", "").replace("(", "").replace(")", "")}


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the folder ``path`` leads to; None for a dangling or looping link."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


class VideoIndex:
    """Every video file under a root, by file stem (one walk of the tree)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_stem: dict[str, list[Path]] = {}
        seen: set[tuple[int, int] | None] = {None}  # (device, inode) of every folder walked; None: unreachable
        for folder, subfolders, files in os.walk(root, followlinks=True):
            seen.add(_identity(folder))
            # followed symlinks may loop back to a folder already walked: never enter it twice
            subfolders[:] = [d for d in subfolders if _identity(os.path.join(folder, d)) not in seen]
            for name in files:
                stem, ext = os.path.splitext(name)
                if ext.lower() in VIDEO_EXTENSIONS:
                    self.by_stem.setdefault(stem, []).append(Path(folder) / name)

    def find(self, stem: str, split: str, label: str) -> Path | None:
        """The file of ``stem``: a replacement copy first, then one under a split folder and a
        label folder, then any."""
        paths = self.by_stem.get(stem, [])
        if not paths:
            return None

        def rank(p: Path) -> tuple[int, int, int]:
            parts = set(p.relative_to(self.root).parts[:-1])
            return (0 if "replacement" in parts else 1, 0 if parts & set(split_aliases(split)) else 1,
                    0 if parts & label_folders(label) else 1)

        return min(paths, key=rank)

    def expected(self, stem: str, split: str, label: str) -> Path:
        """Where a missing video would be: under the split folder if the root has one."""
        for alias in split_aliases(split):
            if (self.root / alias).is_dir():
                return self.root / alias / label / f"{stem}.mp4"
        return self.root / label / f"{stem}.mp4"


def add_rows(out: RecordSet, csv_path: Path, split: str, index: VideoIndex, keep=None) -> None:
    """Records (or rejects) for the rows of a Kinetics CSV; ``keep(youtube_id)`` filters rows."""
    classes = {name: i for i, name in enumerate(out.classes)}
    for row_no, row in dict_rows(csv_path, CSV_COLUMNS):
        label, ytid = row["label"], row["youtube_id"]
        if keep is not None and not keep(ytid):
            continue
        nonempty_label(label, csv_path, row_no)
        where = f"{csv_path.name} row {row_no}"
        try:
            stem = clip_stem(row)
        except ValueError:
            out.reject(ytid, "", split, label, "bad_row", f"{where}: bad time_start/time_end")
            continue
        path = index.find(stem, split, label) or index.expected(stem, split, label)
        out.add(path, stem, split, label, where, classes)


def read_kinetics(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """Kinetics-400: one split's records from ``<split>.csv`` (see the module docstring)."""
    root, ann = Path(video_root), Path(annotation_root)
    csv_path = kinetics_csv(ann, split)
    header = next(iter(dict_rows(csv_path, [])), (0, {}))[1]
    if header and "label" not in header:
        raise ValueError(f"{csv_path}: no label column (the Kinetics test labels are not public); "
                         f"use the val split or a CSV with labels")
    out = RecordSet(read_label_map(ann))
    add_rows(out, csv_path, split, VideoIndex(root))
    return out
