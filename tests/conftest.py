"""Shared fixtures: a local 2-CPU Ray for the tests that need one, and tiny generated videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs, started once per test session."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray


def write_video(path: Path, num_frames: int, fps: int, size: tuple[int, int] = (48, 64)) -> Path:
    """An H.264 .mp4 whose frame i has a bright column at x = i (mod width); returns ``path``."""
    from pipelines.synthetic.generate import write_mp4

    h, w = size
    frames = np.full((num_frames, h, w, 3), 40, np.uint8)
    for i in range(num_frames):
        frames[i, :, (2 * i) % w] = 255
        frames[i, : 4, : 4] = (i * 7) % 256
    write_mp4(frames, fps, path, crf=10)
    return path


@pytest.fixture
def make_video():
    return write_video
