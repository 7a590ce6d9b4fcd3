"""Something-Something V2: flat ``<id>.webm`` and the JSON annotations.

Both namings are read: 20BN's ``something-something-v2-{labels,train,validation,test}.json``
and Qualcomm's ``labels/{labels,train,validation,test}.json`` (+ ``test-answers.csv``).
``labels.json`` maps a template without brackets to its index *as a string*; a video's class is
its ``template`` with ``[`` and ``]`` removed (never its ``label`` sentence). The ``test`` split
takes its classes from ``test-answers.csv`` (``id;template``), when present.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pipelines.decode.readers.base import RecordSet, check_split, find_file, inside

SPLITS = {"train": "train", "validation": "validation", "val": "validation", "test": "test"}
VIDEO_EXTENSIONS = (".webm", ".mp4")


def annotation(ann: Path, name: str) -> Path:
    return find_file([ann, ann / "labels"], [f"something-something-v2-{name}.json", f"{name}.json"])


def read_labels(ann: Path) -> tuple[str, ...]:
    """Templates in index order, from labels.json's string values."""
    path = annotation(ann, "labels")
    labels = json.loads(path.read_text(encoding="utf-8-sig"))
    try:
        by_index = {int(v): k for k, v in labels.items()}
    except (AttributeError, ValueError):
        raise ValueError(f"{path}: expected an object of template → index string") from None
    if sorted(by_index) != list(range(len(labels))):
        raise ValueError(f"{path}: indices must run 0..{len(labels) - 1} without repeats")
    return tuple(by_index[i] for i in range(len(labels)))


def template_name(template: str) -> str:
    return template.replace("[", "").replace("]", "")


def _items(ann: Path, split: str) -> tuple[Path, list[tuple[str, str, str]]]:
    """(file, [(video id, template or "", where)]) of a split."""
    path = annotation(ann, split)
    items = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of videos")
    answers: dict[str, str] = {}
    if split == "test":
        answers_path = find_file([ann, ann / "labels"], ["test-answers.csv", "something-something-v2-test-answers.csv"])
        with open(answers_path, newline="", encoding="utf-8-sig") as f:
            answers = {row[0].strip(): row[1].strip() for row in csv.reader(f, delimiter=";") if len(row) >= 2}
    out = []
    for i, item in enumerate(items):
        vid = str(item.get("id", "")) if isinstance(item, dict) else ""
        template = answers.get(vid, "") if split == "test" else template_name(str(item.get("template", "")) if isinstance(item, dict) else "")
        out.append((vid, template, f"{path.name} item {i}"))
    return path, out


def _video(root: Path, vid: str) -> Path:
    for ext in VIDEO_EXTENSIONS:
        if (root / f"{vid}{ext}").exists():
            return root / f"{vid}{ext}"
    return root / f"{vid}.webm"


def read_ssv2(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """One SSv2 split (``train``, ``validation`` or ``test``)."""
    check_split("ssv2", split, SPLITS)
    ann, root = Path(annotation_root), inside(Path(video_root), "20bn-something-something-v2")
    out = RecordSet(read_labels(ann))
    index = {name: i for i, name in enumerate(out.classes)}
    _, items = _items(ann, SPLITS[split])
    for vid, template, where in items:
        if not vid or not template:
            out.reject(vid, "", split, template, "bad_row", f"{where}: needs an 'id' and a 'template' (or a test answer)")
        else:
            out.add(_video(root, vid), vid, split, template, where, index)
    return out
