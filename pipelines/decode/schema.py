"""The one Arrow schema of decoded clip shards, shared by the writer and every reader.

One row per clip. ``frames`` holds the raw bytes of a uint8 array of shape ``frame_shape``
(T, H, W, 3); ``frame_times`` gives each frame's timestamp in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SHARD_SCHEMA = pa.schema([
    ("video_id", pa.string()),
    ("clip_index", pa.int32()),
    ("label", pa.int32()),
    ("label_name", pa.string()),
    ("split", pa.string()),
    ("frames", pa.binary()),
    ("frame_shape", pa.list_(pa.int32(), 4)),
    ("frame_times", pa.list_(pa.float32())),
    ("clip_start", pa.float32()),
    ("source_fps", pa.float32()),
    ("duration", pa.float32()),
    ("backend", pa.string()),
])


def clips_to_table(meta: dict, clips: np.ndarray, times: np.ndarray, starts: np.ndarray) -> pa.Table:
    """Rows for one video.

    Args:
        meta: ``video_id``, ``label``, ``label_name``, ``split``, ``source_fps``, ``duration``
            and ``backend`` of the video.
        clips: uint8 array C×T×H×W×3.
        times: frame timestamps C×T (s).
        starts: clip start times (C,).
    """
    n = len(clips)
    columns = {
        "video_id": [meta["video_id"]] * n,
        "clip_index": list(range(n)),
        "label": [meta["label"]] * n,
        "label_name": [meta["label_name"]] * n,
        "split": [meta["split"]] * n,
        "frames": [np.ascontiguousarray(c, dtype=np.uint8).tobytes() for c in clips],
        "frame_shape": [list(c.shape) for c in clips],
        "frame_times": [list(map(float, t)) for t in times],
        "clip_start": list(map(float, starts)),
        "source_fps": [float(meta["source_fps"])] * n,
        "duration": [float(meta["duration"])] * n,
        "backend": [meta["backend"]] * n,
    }
    return pa.table(columns, schema=SHARD_SCHEMA)


def empty_table() -> pa.Table:
    return SHARD_SCHEMA.empty_table()


@dataclass
class ClipArrays:
    """Decoded shards in memory: frames N×T×H×W×3 uint8 and per-clip metadata arrays (N,)."""

    frames: np.ndarray
    labels: np.ndarray
    video_index: np.ndarray
    video_ids: list[str]
    clip_index: np.ndarray


def frames_of(table: pa.Table) -> list[np.ndarray]:
    """Each row's frames as a T×H×W×3 uint8 array."""
    shapes = table.column("frame_shape").to_pylist()
    return [np.frombuffer(b, np.uint8).reshape(s) for b, s in zip(table.column("frames").to_pylist(), shapes)]


def read_shards(shard_dir: str | Path, files: list[Path] | None = None) -> pa.Table:
    """All rows of a shard folder (or of just ``files``), checked against SHARD_SCHEMA, sorted
    by video then clip."""
    files = sorted(Path(shard_dir).glob("*.parquet")) if files is None else files
    if not files:
        return empty_table()
    tables = []
    for f in files:
        t = pq.read_table(f)
        if not t.schema.equals(SHARD_SCHEMA, check_metadata=False):
            raise ValueError(f"{f}: schema does not match SHARD_SCHEMA: {t.schema}")
        tables.append(t)
    return pa.concat_tables(tables).sort_by([("video_id", "ascending"), ("clip_index", "ascending")])


def load_clip_arrays(shard_dir: str | Path, files: list[Path] | None = None) -> ClipArrays:
    """Read a shard folder (or ``files`` of it) into arrays. Clips of unequal size are
    centre-cropped to the smallest."""
    table = read_shards(shard_dir, files)
    frames = frames_of(table)
    if frames:
        h = min(f.shape[1] for f in frames)
        w = min(f.shape[2] for f in frames)
        frames = [f[:, (f.shape[1] - h) // 2:(f.shape[1] - h) // 2 + h, (f.shape[2] - w) // 2:(f.shape[2] - w) // 2 + w]
                  for f in frames]
    video_ids = table.column("video_id").to_pylist()
    unique = sorted(set(video_ids))
    index = {v: i for i, v in enumerate(unique)}
    return ClipArrays(
        np.stack(frames) if frames else np.zeros((0, 1, 1, 1, 3), np.uint8),
        np.asarray(table.column("label").to_pylist(), np.int64),
        np.asarray([index[v] for v in video_ids], np.int64),
        unique,
        np.asarray(table.column("clip_index").to_pylist(), np.int64),
    )
