"""Screening a reader's records before anything is opened: paths that leave the video root,
repeated video ids, and names that would leave the output folder.

A record whose path resolves outside the root (``../``, an absolute name, a symlink that points
elsewhere) becomes an ``outside_root`` reject and is never opened; the second and later records
of one video id become ``duplicate`` rejects. Both reach the manifest with the row that said so.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.decode.readers import RecordSet, VideoRecord

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


def check_name(name: str, what: str) -> str:
    """``name`` if it is one safe path component (no ``/``, no ``..``), else ValueError."""
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} {name!r}: must be one folder name of letters, digits and _ . + - "
                         "(no '/', no '..')")
    return name


def _inside(path: str, root: Path) -> bool:
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False
    return resolved == root or root in resolved.parents


def screen(records: RecordSet, video_root: str | Path) -> RecordSet:
    """``records`` with paths outside ``video_root`` (symlinks resolved) and repeated video ids
    moved to the rejects, each with its reason."""
    root = Path(video_root).resolve()
    out = RecordSet(records.classes, rejects=list(records.rejects))
    first: dict[str, VideoRecord] = {}
    for rec in records.records:
        if not _inside(rec.path, root):
            out.reject(rec.video_id, rec.path, rec.split, rec.label_name, "outside_root",
                       f"the path resolves outside the video root {root}; not opened")
        elif rec.video_id in first:
            out.reject(rec.video_id, rec.path, rec.split, rec.label_name, "duplicate",
                       f"video id {rec.video_id!r} already names {first[rec.video_id].path}")
        else:
            first[rec.video_id] = rec
            out.records.append(rec)
    return out
