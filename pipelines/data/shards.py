"""A decoded split as an index of its videos, each read alone from its row group.

Only the index (ids, labels, frame counts, where each row lives) is held in memory; a video's
frames are read when a clip of it is wanted, so memory does not grow with the split.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipelines.decode.schema import FRAME_COLUMNS, INDEX_COLUMNS, check_schema, row_frames

_OPEN: dict[tuple[int, str], pq.ParquetFile] = {}  # per process: a forked worker opens its own
_MAX_OPEN = 256


def _parquet(path: str) -> pq.ParquetFile:
    key = (os.getpid(), path)
    if key not in _OPEN:
        if len(_OPEN) >= _MAX_OPEN:
            _OPEN.pop(next(iter(_OPEN)))
        _OPEN[key] = pq.ParquetFile(path)
    return _OPEN[key]


@dataclass(frozen=True)
class SplitIndex:
    """Where each video of a decoded split lives, sorted by video id.

    ``refs`` V×3: file number, row group, row within it. ``row_frames`` (V,) and
    ``frame_shapes`` V×3 (H, W, 3) describe each row; ``clip_frames`` is the decode's
    ``num_frames`` (the frames of one 1-s clip).
    """

    path: str
    files: tuple[str, ...]
    refs: np.ndarray
    video_ids: tuple[str, ...]
    labels: np.ndarray
    row_frames: np.ndarray
    frame_shapes: np.ndarray
    classes: tuple[str, ...]
    clip_frames: int

    def __len__(self) -> int:
        return len(self.video_ids)

    @property
    def num_videos(self) -> int:
        return len(self.video_ids)

    def frames(self, i: int, indices: np.ndarray | None = None) -> np.ndarray:
        """Video ``i``'s row (uint8 N×H×W×3), or only its frames at ``indices`` (K×H×W×3; only
        those are decoded)."""
        f, group, row = (int(x) for x in self.refs[i])
        # a row group is one row: Arrow's thread pool costs more than it saves (0.26 against 0.15 ms a row)
        table = _parquet(self.files[f]).read_row_group(group, columns=FRAME_COLUMNS, use_threads=False)
        video_id, frames = row_frames(table, row, indices)
        if video_id != self.video_ids[i]:
            raise ValueError(f"{self.files[f]}: row group {group} changed since the index was read; reopen the split")
        return frames

    def subset(self, positions: np.ndarray | slice) -> "SplitIndex":
        """The videos at ``positions`` (e.g. ``slice(rank, None, world)``), in that order."""
        keep = np.arange(len(self))[positions]
        return SplitIndex(self.path, self.files, self.refs[keep], tuple(self.video_ids[i] for i in keep),
                          self.labels[keep], self.row_frames[keep], self.frame_shapes[keep], self.classes,
                          self.clip_frames)


def open_split(split_dir: str | Path) -> SplitIndex:
    """The index of ``<decode output>`` (its ``shards/``, ``classes.txt`` and ``summary.json``);
    reads only the small columns and the files' footers."""
    split_dir = Path(split_dir)
    files = sorted(str(f) for f in (split_dir / "shards").glob("*.parquet"))
    classes = tuple(line for line in (split_dir / "classes.txt").read_text().splitlines() if line)
    summary = split_dir / "summary.json"
    if not summary.is_file():
        raise FileNotFoundError(f"{summary}: missing; {split_dir} is not a decoded split")
    clip_frames = int(json.loads(summary.read_text())["spec"]["num_frames"])
    refs, ids, labels, counts, shapes = [], [], [], [], []
    for n, path in enumerate(files):
        meta = pq.ParquetFile(path)
        check_schema(Path(path), meta.schema_arrow)
        table = meta.read(columns=INDEX_COLUMNS)
        for group in range(meta.num_row_groups):
            refs += [(n, group, row) for row in range(meta.metadata.row_group(group).num_rows)]
        ids += table.column("video_id").to_pylist()
        labels += table.column("label").to_pylist()
        counts += table.column("num_frames").to_pylist()
        shapes += table.column("frame_shape").to_pylist()
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return SplitIndex(str(split_dir), tuple(files), np.asarray(refs, np.int64).reshape(-1, 3)[order],
                      tuple(ids[i] for i in order), np.asarray(labels, np.int64)[order],
                      np.asarray(counts, np.int64)[order], np.asarray(shapes, np.int64).reshape(-1, 3)[order],
                      classes, clip_frames)
