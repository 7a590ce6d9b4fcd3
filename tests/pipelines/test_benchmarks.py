"""The benchmark commands' parts, at toy sizes on CPU (their figures come from full runs; no
timing is asserted here)."""

import os
import subprocess
import sys

import pytest
import torch

from drl_core.config import ClipConfig, ModelConfig
from drl_core.metrics import keys
from pipelines.benchmarks.clip_diversity import distinct_starts
from pipelines.benchmarks.gpu_check import ALGORITHMS, GpuSampler, input_supply, step_throughput
from pipelines.benchmarks.input_pipeline import plain_loop
from pipelines.benchmarks.rows import write_rows


@pytest.mark.parametrize("name", ALGORITHMS)
def test_gpu_check_steps_every_algorithm_from_uint8_batches(name):
    tiny = ModelConfig(name="r3d10", width=4, stem_pool=False)
    rate, syncs = step_throughput(name, torch.device("cpu"), batch=2, frames=4, steps=1, video=tiny,
                                  spatial=ModelConfig(name="r2d10", width=4, dropout=0.0), crop=16)
    assert rate > 0 and syncs is None  # counted on CUDA only (the meta-device test covers the CPU)


def test_gpu_check_says_when_there_is_no_gpu():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # hide any GPU this machine has
    out = subprocess.run([sys.executable, "-m", "pipelines.benchmarks.gpu_check"], capture_output=True, text=True,
                         env=env)
    assert out.returncode == 2 and "no CUDA device" in out.stdout


def test_gpu_check_s_training_stage_runs_through_ray_train(ray_local, tmp_path):
    """The stage gpu_check runs on a GPU, here on CPU at toy size: the same job, resources and
    stream, so a change elsewhere that breaks it fails here, not on a lent GPU's clock."""
    from pipelines.benchmarks.gpu_check import training_stage

    tiny = ModelConfig(name="r3d10", width=4, stem_pool=False)
    result, busy = training_stage(tmp_path, videos=4, epochs=2, video=tiny, clip=ClipConfig(crop_size=16, flip=True),
                                  frames=32, size=(20, 26), use_gpu=False)
    assert len(result["history"]) == 2 and result["classes"][:2] == ["class 0", "class 1"]
    assert all(row[keys.DATA_WAIT_SECONDS] >= 0 for row in result["history"]) and busy == 0.0  # no GPU work (nor, on CPU machines, nvidia-smi)


def test_rows_do_not_depend_on_the_threads_that_make_them(tmp_path):
    def files(threads: int) -> list[bytes]:
        split = write_rows(tmp_path / str(threads) / "train", 5, 6, 20, 4, encoding="jpeg", width=24, per_file=2, threads=threads)
        return [f.read_bytes() for f in sorted((split / "shards").iterdir())]

    assert files(1) == files(3)


def test_busy_fraction_spans_the_busy_samples():
    sampler = GpuSampler()
    sampler.samples = [0, 0, 50, 100, 0, 90, 0]
    assert sampler.busy_fraction() == pytest.approx(240 / 400)


def test_diversity_counts_distinct_windows_per_video(ray_local, tmp_path):
    split = write_rows(tmp_path / "train", 4, 40, 20, 8)
    seen = distinct_starts(split, epochs=5)
    assert sorted(seen) == [0, 1, 2, 3] and all(1 <= len(s) <= 5 for s in seen.values())
    assert sum(len(s) for s in seen.values()) / 4 > 3  # 33 possible windows, 5 draws each


def test_the_plain_loop_reads_every_jpeg_row(tmp_path):
    split = write_rows(tmp_path / "train", 5, 20, 120, 16, encoding="jpeg", width=130, per_file=2)
    clips, seconds = plain_loop(split)
    assert clips == 5 and seconds > 0
    # on equal cores: each process takes every other file (3 files of 2, 2 and 1 rows), all read once
    assert [plain_loop(split, share, 2)[0] for share in (0, 1)] == [3, 2]


def test_gpu_check_measures_the_training_streams_supply(ray_local, tmp_path):
    """The input half of gpu_check runs anywhere: one epoch of the stream over JPEG rows."""
    split = write_rows(tmp_path / "supply", 6, 20, 120, 16, encoding="jpeg", width=130, per_file=3)
    assert input_supply(split) > 0


def test_train_overhead_s_step_time_leaves_out_the_first_epoch_and_each_epoch_s_first_wait():
    from drl_core.metrics import keys
    from pipelines.benchmarks.train_overhead import step_s

    rows = [{keys.EPOCH_SECONDS: 9.0, keys.FIRST_BATCH_SECONDS: 5.0},  # the first epoch: left out
            {keys.EPOCH_SECONDS: 2.0, keys.FIRST_BATCH_SECONDS: 0.5},
            {keys.EPOCH_SECONDS: 2.5, keys.FIRST_BATCH_SECONDS: 0.7},
            {keys.EPOCH_SECONDS: 2.2, keys.FIRST_BATCH_SECONDS: 0.4}]
    step, first = step_s(rows, steps=6)
    assert step == pytest.approx(1.8 / 6) and first == pytest.approx(0.5)  # medians of 1.5, 1.8, 1.8 and of the waits


def test_a_stream_s_rate_counts_from_its_first_batch_unless_that_was_all():
    from pipelines.benchmarks.input_pipeline import stream_rate

    assert stream_rate(12, 3.0, (4, 1.0)) == pytest.approx(4.0)  # 8 clips in the 2 s after the first batch
    assert stream_rate(4, 2.0, (4, 2.0)) == pytest.approx(2.0)  # one batch: the whole epoch
