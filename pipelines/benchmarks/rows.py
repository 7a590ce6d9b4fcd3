"""Decoded splits written straight as shard rows, for the input-pipeline benchmarks: any number of
videos of any length without encoding videos first (frames are smooth random gradients, so
JPEG sizes are realistic)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pipelines.decode.schema import video_table, write_split_files


def write_rows(folder: Path, videos: int, frames: int, size: int, clip_frames: int = 8, classes: int = 4,
               encoding: str = "raw", per_file: int = 16, seed: int = 0, width: int = 0,
               threads: int = 0) -> Path:
    """A decoded split of ``videos`` rows of ``frames`` frames of size×``width`` (default square;
    ``clip_frames`` per 1-s clip) in files of ``per_file`` videos, as the decode stage lays it out.

    Rows are made in ``threads`` threads (default 0: one per CPU; numpy and the JPEG encoder let
    go of the GIL); every video's gradient is drawn first, in order, so the files do not depend on it.
    """
    gradients = np.random.default_rng(seed).uniform(0.2, 1.5, (videos, 3))
    names = [f"class {c}" for c in range(classes)]
    yy, xx = np.mgrid[0:size, 0:width or size]

    def row(v: int):
        a, b, c = gradients[v]
        base = (yy * a + xx * b)[None, :, :, None] + np.arange(frames)[:, None, None, None] * c
        arr = ((base + np.array([0, 40, 80])) % 256).astype(np.uint8)
        meta = {"video_id": f"v{v:06d}", "label": v % classes, "label_name": names[v % classes],
                "split": folder.name, "source_fps": 30.0, "duration": frames / clip_frames, "backend": "bench"}
        return video_table(meta, arr, float(clip_frames), encoding)

    with ThreadPoolExecutor(threads or os.cpu_count() or 1) as pool:
        files = (list(pool.map(row, range(start, min(videos, start + per_file))))
                 for start in range(0, videos, per_file))
        return write_split_files(folder, names, clip_frames, encoding, files)
