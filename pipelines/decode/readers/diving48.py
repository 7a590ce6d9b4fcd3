"""Diving-48 (V2 annotations): flat ``rgb/<vid_name>.mp4`` and three JSON files.

``Diving48_V2_{train,test}.json`` are lists of ``{"vid_name", "label", "start_frame",
"end_frame"}``; ``label`` (0-based) indexes ``Diving48_vocab.json``, a list of [takeoff,
somersault, twist, flight] lists, named here ``Back+15som+05Twis+FREE`` as mmaction2 does.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.decode.readers.base import RecordSet, check_split, find_file, inside, unique_classes

SPLITS = ("train", "test")


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def read_vocab(ann: Path) -> tuple[str, ...]:
    path = find_file([ann], ["Diving48_vocab.json"])
    vocab = _load_json(path)
    if not isinstance(vocab, list) or not all(isinstance(v, list) and v for v in vocab):
        raise ValueError(f"{path}: expected a list of [takeoff, somersault, twist, flight] lists")
    return unique_classes(["+".join(map(str, v)) for v in vocab], path)


def read_diving48(video_root: str | Path, annotation_root: str | Path, split: str) -> RecordSet:
    """One Diving-48 V2 split (``train`` or ``test``)."""
    check_split("diving48", split, SPLITS)
    ann, root = Path(annotation_root), inside(Path(video_root), "rgb")
    out = RecordSet(read_vocab(ann))
    index = {name: i for i, name in enumerate(out.classes)}
    path = find_file([ann], [f"Diving48_V2_{split}.json"])
    items = _load_json(path)
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of videos")
    for i, item in enumerate(items):
        where = f"{path.name} item {i}"
        vid = str(item.get("vid_name", "")) if isinstance(item, dict) else ""
        label = item.get("label") if isinstance(item, dict) else None
        if not vid or not isinstance(label, int) or isinstance(label, bool):
            out.reject(vid, "", split, "", "bad_row", f"{where}: needs a 'vid_name' string and an integer 'label'")
        elif not 0 <= label < len(out.classes):
            out.reject(vid, root / f"{vid}.mp4", split, str(label), "unknown_label",
                       f"{where}: label {label} outside the vocabulary (0..{len(out.classes) - 1})")
        else:
            out.add(root / f"{vid}.mp4", vid, split, out.classes[label], where, index)
    return out
