"""What every reader returns: video records for the decode stage, and rejected rows.

Rows that cannot become a record (unknown label, malformed row) come back as rejects, which
the stage writes into the manifest with their reason; nothing is dropped silently. A missing
annotation file is an error naming it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable


@dataclass(frozen=True)
class VideoRecord:
    """One video to decode: its file (or frame folder), id, split and label (index into the
    class list). ``fps`` is the frame rate of a frame folder; 0 means "read it from the file"."""

    path: str
    video_id: str
    split: str
    label: int
    label_name: str
    fps: float = 0.0


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
    """A split's records, rejects and the dataset's class list (label i is ``classes[i]``)."""

    classes: tuple[str, ...]
    records: list[VideoRecord] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def add(self, path: str | Path, video_id: str, split: str, label_name: str, where: str,
            index: dict[str, int], fps: float = 0.0) -> None:
        """A record if ``label_name`` is a class, else an ``unknown_label`` reject citing ``where``."""
        if label_name not in index:
            self.reject(video_id, path, split, label_name, "unknown_label",
                        f"{where}: label {label_name!r} not in the class list")
        else:
            self.records.append(VideoRecord(str(path), video_id, split, index[label_name], label_name, fps))

    def reject(self, video_id: str, path: str | Path, split: str, label_name: str, status: str, reason: str) -> None:
        self.rejects.append(Reject(video_id, str(path), split, label_name, status, reason))


Reader = Callable[[str | Path, str | Path, str], RecordSet]


def require(path: Path, what: str = "annotation file") -> Path:
    """``path`` if it is a file, else FileNotFoundError naming it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    return path


def find_file(folders: Iterable[Path], names: Iterable[str], what: str = "annotation file") -> Path:
    """The first of ``names`` that exists in the first folder holding one; else an error naming
    every place looked at."""
    folders, names = list(folders), list(names)
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    others = [str(f / n) for f in folders for n in names][1:]
    also = f" (also looked for {', '.join(others)})" if others else ""
    raise FileNotFoundError(f"{folders[0] / names[0]}: {what} not found{also}")


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a text file, CRLF or LF, stripped of surrounding whitespace."""
    return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]


def unique_classes(names: list[str], source: Path) -> tuple[str, ...]:
    """``names`` as a class list, or an error naming ``source`` if one repeats."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{source}: class {n!r} listed twice")
        seen.add(n)
    return tuple(names)


def check_split(dataset: str, split: str, valid) -> None:
    """ValueError naming the dataset and its valid splits unless ``split`` is one."""
    if split not in valid:
        raise ValueError(f"{dataset}: split must be one of {', '.join(valid)}, got {split!r}")


def inside(root: Path, folder: str) -> Path:
    """``root/folder`` when the root is the folder above the dataset's own media folder."""
    return root / folder if (root / folder).is_dir() else root


def fold_split(split: str, dataset: str) -> tuple[str, int]:
    """``train1`` / ``test01`` / ``trainlist02`` → (``train`` | ``test``, fold 1..3)."""
    m = re.fullmatch(r"(train|test)(?:list)?0?([123])", split)
    if not m:
        raise ValueError(f"{dataset}: split must be train1..3 or test1..3 (e.g. 'train1', 'testlist01'), got {split!r}")
    return m.group(1), int(m.group(2))


def dict_rows(path: Path, required: Iterable[str], delimiter: str = ",") -> Iterable[tuple[int, dict]]:
    """(line number, row) of a CSV with a header, after checking the header has ``required``."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: header lacks column(s) {', '.join(sorted(missing))}")
        for row_no, row in enumerate(reader, start=2):
            yield row_no, {k: (v or "").strip() for k, v in row.items() if k is not None}
