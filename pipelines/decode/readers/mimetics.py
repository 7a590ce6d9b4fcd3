"""Mimetics (evaluation only): mimed actions of 50 Kinetics-400 classes.

Annotations: ``mimetics_v1.0.csv`` (from ``Mimetics_release_v1.0.zip``) with a header holding
``label,youtube_id,time_start,time_end`` (extra columns ignored). Videos, downloaded with the
Kinetics crawler: ``<label>/<youtube_id>_<start:06d>_<end:06d>.mp4`` in any layout the Kinetics
reader accepts. Labels are Kinetics-400 strings. The class list is the Kinetics-400 one when the
annotation folder has its ``label_map.txt`` (labels outside it reach the manifest), else the
sorted labels of the CSV; either way evaluation maps classes by name onto the model's
Kinetics-400 head (see pipelines.evaluation).
"""

from __future__ import annotations

from pathlib import Path

from pipelines.decode.readers.base import RecordSet, dict_rows, find_file, inside, read_lines, unique_classes
from pipelines.decode.readers.kinetics import CSV_COLUMNS, VideoIndex, add_rows

CSV_NAME = "mimetics_v1.0.csv"


def read_mimetics(video_root: str | Path, annotation_root: str | Path, split: str = "test") -> RecordSet:
    """All Mimetics clips (the ``split`` name is only recorded: the dataset is one test set)."""
    root, ann = Path(video_root), Path(annotation_root)
    csv_path = find_file([ann, ann / "Mimetics_release_v1.0"], [CSV_NAME])
    label_map = csv_path.parent / "label_map.txt"
    if label_map.is_file():
        classes = unique_classes(read_lines(label_map), label_map)
    else:
        classes = tuple(sorted({row["label"] for _, row in dict_rows(csv_path, CSV_COLUMNS)}))
    out = RecordSet(classes)
    add_rows(out, csv_path, split, VideoIndex(inside(root, "data")))
    return out
