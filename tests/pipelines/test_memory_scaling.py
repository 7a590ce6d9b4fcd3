"""A training stage and an evaluation keep flat memory as the split grows (sizes, not timings)."""

import pytest

from pipelines.benchmarks.memory_scaling import measure


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_videos(ray_local, tmp_path):
    videos, frames, size = 6, 80, 96
    peaks = measure(tmp_path, videos, frames, size)
    data_mb = 8 * videos * frames * size * size * 3 / 2**20  # 106 MiB of frames at 8×
    for what, by_n in peaks.items():
        growth = by_n[8 * videos] - by_n[videos]
        # a loader that held the split would grow by at least its size (4-5× while loading)
        assert growth < 0.25 * data_mb, f"{what}: peak grew by {growth:.0f} MiB for {data_mb:.0f} MiB more frames"
