"""Readers: a dataset root plus annotations → video records for the decode stage.

Rows that cannot become a record (unknown label, malformed row) come back as rejects, which
the stage writes into the manifest with their reason; nothing is dropped silently.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class VideoRecord:
    """One video to decode: its file, id, split and label (index into the class list)."""

    path: str
    video_id: str
    split: str
    label: int
    label_name: str


@dataclass(frozen=True)
class Reject:
    """An annotation row that yields no record, with the file and row that said so."""

    video_id: str
    path: str
    split: str
    label_name: str
    status: str
    reason: str


@dataclass
class RecordSet:
    classes: tuple[str, ...]
    records: list[VideoRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    return path


def _kinetics_classes(ann: Path) -> tuple[str, ...]:
    """``label_map.txt`` (one name per line) if present, else the sorted labels of train.csv."""
    label_map = ann / "label_map.txt"
    if label_map.is_file():
        names = [line.strip() for line in label_map.read_text().splitlines() if line.strip()]
        if len(set(names)) != len(names):
            raise ValueError(f"{label_map}: duplicate class names")
        return tuple(names)
    with open(_require(ann / "train.csv", "annotation file (no label_map.txt either)"), newline="") as f:
        return tuple(sorted({row["label"].strip('"') for row in csv.DictReader(f)}))


def _kinetics_csv(ann: Path, split: str) -> Path:
    aliases = {"val": ("val", "validate"), "validate": ("validate", "val")}.get(split, (split,))
    for name in aliases:
        if (ann / f"{name}.csv").is_file():
            return ann / f"{name}.csv"
    return _require(ann / f"{split}.csv", "annotation file")


def _kinetics_path(root: Path, split: str, label: str, stem: str) -> str:
    candidates = [root / split / label / f"{stem}.mp4", root / label / f"{stem}.mp4", root / split / f"{stem}.mp4"]
    for c in candidates:
        if c.exists():
            return str(c)
    return str(candidates[0] if (root / split).is_dir() else candidates[1])


def read_kinetics(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """Kinetics-400 layout: ``<split>.csv`` with label,youtube_id,time_start,time_end[,split,...].

    Videos are ``<root>[/<split>]/<label>/<ytid>_<start:06d>_<end:06d>.mp4`` or flat per split.
    """
    root, ann = Path(video_root), Path(annotation_root)
    classes = _kinetics_classes(ann)
    index = {name: i for i, name in enumerate(classes)}
    csv_path = _kinetics_csv(ann, split)
    out = RecordSet(classes)
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"label", "youtube_id", "time_start", "time_end"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{csv_path}: header lacks column(s) {', '.join(sorted(missing))}")
        for row_no, row in enumerate(reader, start=2):
            label, ytid = (row["label"] or "").strip('"'), (row["youtube_id"] or "").strip()
            try:
                stem = f"{ytid}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}"
            except (TypeError, ValueError):
                out.rejects.append(Reject(ytid, "", split, label, "bad_row",
                                          f"{csv_path.name} row {row_no}: bad time_start/time_end"))
                continue
            path = _kinetics_path(root, split, label, stem)
            if label not in index:
                out.rejects.append(Reject(stem, path, split, label, "unknown_label",
                                          f"{csv_path.name} row {row_no}: label {label!r} not in the class list"))
                continue
            out.records.append(VideoRecord(path, stem, split, index[label], label))
    return out


Reader = Callable[[str | Path, str | Path, str], RecordSet]
READERS: dict[str, Reader] = {"kinetics400": read_kinetics}


def get_reader(name: str) -> Reader:
    if name not in READERS:
        raise ValueError(f"unknown dataset reader {name!r} (valid: {', '.join(sorted(READERS))})")
    return READERS[name]
