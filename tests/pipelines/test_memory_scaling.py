"""A training stage keeps flat memory as the split grows (sizes, not timings)."""

import pytest

from pipelines.benchmarks.memory_scaling import train_peak_mb
from pipelines.benchmarks.rows import write_rows


@pytest.mark.slow
def test_a_training_stage_does_not_grow_with_the_number_of_videos(ray_local, tmp_path):
    videos, frames, size = 6, 160, 96
    peaks = {}
    for n in (videos, 8 * videos):
        peaks[n] = train_peak_mb(write_rows(tmp_path / f"split{n}", n, frames, size), tmp_path / f"stage{n}")
    data_mb = 7 * videos * frames * size * size * 3 / 2**20  # 177 MiB more frames at 8×
    growth = peaks[8 * videos] - peaks[videos]
    # a loader that held the split would grow by at least its size (4-5× while loading)
    assert growth < 0.25 * data_mb, f"the worker's peak grew by {growth:.0f} MiB for {data_mb:.0f} MiB more frames"
