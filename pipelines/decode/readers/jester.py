"""Jester V1: JPEG frame folders ``20bn-jester-v1/<id>/00001.jpg …`` and ``;``-separated CSVs.

Both namings are read: ``jester-v1-{labels,train,validation}.csv`` and
``labels/{labels,train,validation}.csv``. The labels file has one class per line; the label
is the 0-based line (read from the file, never hard-coded: copies differ). Split files are
``<id>;<label text>`` without a header. Frames are played at 12 fps (the dataset's rate).
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.decode.readers.base import RecordSet, check_split, find_file, inside, read_lines, unique_classes

FPS = 12.0
SPLITS = {"train": "train", "validation": "validation", "val": "validation"}


def annotation(ann: Path, name: str) -> Path:
    return find_file([ann, ann / "labels"], [f"jester-v1-{name}.csv", f"{name}.csv"])


def read_jester(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """One Jester split (``train`` or ``validation``); each record is a frame folder."""
    check_split("jester", split, SPLITS)
    ann, root = Path(annotation_root), inside(Path(video_root), "20bn-jester-v1")
    labels_path = annotation(ann, "labels")
    out = RecordSet(unique_classes(read_lines(labels_path), labels_path))
    index = {name: i for i, name in enumerate(out.classes)}
    path = annotation(ann, SPLITS[split])
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line_no, row in enumerate(csv.reader(f, delimiter=";"), start=1):
            if not row or not "".join(row).strip():
                continue
            where = f"{path.name} line {line_no}"
            vid = row[0].strip()
            if len(row) != 2 or not vid:
                out.reject(vid, "", split, "", "bad_row", f"{where}: expected '<id>;<label>', got {';'.join(row)!r}")
            else:
                out.add(root / vid, vid, split, row[1].strip(), where, index, fps=FPS)
    return out
