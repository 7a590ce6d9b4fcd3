"""Mini-Kinetics-200 (Xie et al.): YouTube-ID lists joined to the Kinetics-400 CSVs.

The annotation folder holds ``train_ytid_list.txt`` / ``val_ytid_list.txt`` (one 11-character
YouTube ID per line) next to the Kinetics-400 CSVs (``train.csv``, ``validate.csv`` or
``val.csv``). Labels and times come from the join; the classes are the sorted labels of both
joined lists (200 on the real files), unless a ``label_map.txt`` gives them. Videos are the
Kinetics-400 videos (any layout :mod:`kinetics` reads). An ID missing from the CSV is listed in
the manifest as ``unknown_id``.

The derived ``minikinetics200/{train,validate}.csv`` + ``label_map.txt`` files that the official
code expects are plain Kinetics CSVs: read them with the ``kinetics400`` reader.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.decode.readers.base import RecordSet, check_split, dict_rows, read_lines, require, unique_classes
from pipelines.decode.readers.kinetics import CSV_COLUMNS, VideoIndex, add_rows, kinetics_csv

ID_LISTS = {"train": "train_ytid_list.txt", "val": "val_ytid_list.txt", "validate": "val_ytid_list.txt"}


def id_list(ann: Path, split: str) -> list[str]:
    check_split("minikinetics200", split, ID_LISTS)
    return read_lines(require(ann / ID_LISTS[split], "Mini-Kinetics-200 ID list"))


def joined_labels(ann: Path, split: str, ids: set[str]) -> set[str]:
    return {row["label"] for _, row in dict_rows(kinetics_csv(ann, split), CSV_COLUMNS) if row["youtube_id"] in ids}


def minik_classes(ann: Path) -> tuple[str, ...]:
    if (ann / "label_map.txt").is_file():
        return unique_classes(read_lines(ann / "label_map.txt"), ann / "label_map.txt")
    labels: set[str] = set()
    for split in ("train", "val"):
        if (ann / ID_LISTS[split]).is_file():
            labels |= joined_labels(ann, split, set(id_list(ann, split)))
    return tuple(sorted(labels))


def read_minikinetics(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """One Mini-Kinetics-200 split (``train`` or ``val``)."""
    root, ann = Path(video_root), Path(annotation_root)
    ids = id_list(ann, split)
    wanted, found = set(ids), set()

    def keep(ytid: str) -> bool:
        if ytid in wanted and ytid not in found:
            found.add(ytid)
            return True
        return False

    out = RecordSet(minik_classes(ann))
    csv_path = kinetics_csv(ann, split)
    add_rows(out, csv_path, split, VideoIndex(root), keep)
    for line_no, ytid in enumerate(ids, start=1):
        if ytid not in found:
            out.reject(ytid, "", split, "", "unknown_id",
                       f"{ID_LISTS[split]} line {line_no}: YouTube ID {ytid!r} not in {csv_path.name}")
    return out
