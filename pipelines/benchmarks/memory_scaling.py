"""Peak memory of a training stage and of an evaluation at 1× and 8× the videos of a split.

``python -m pipelines.benchmarks.memory_scaling [--videos N] [--frames F] [--size S]``

The training stage runs through Ray Train as the study runs it (its worker reports its peak
RSS); the evaluation streams the split's test clips through a model in a fresh process. With
streamed input both stay flat; a loader that held the split would grow with it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.metrics import keys
from pipelines.benchmarks.local_ray import start_local_ray
from pipelines.benchmarks.rows import write_rows
from pipelines.config.resources import ResourcesConfig

CLIP = ClipConfig(crop_size=32, test_clips=2)
MODEL = ModelConfig(name="r3d10", width=4)
EVAL = """
import json, sys, torch
from drl_core.config import ClipConfig
from drl_core.models import build_model
from drl_core.config import ModelConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.evaluation import predictions
clip = ClipConfig(**json.loads(sys.argv[2]))
pred, classes = predictions(build_model(ModelConfig(**json.loads(sys.argv[3])), 4), sys.argv[1], clip, InferenceStream(4),
                            torch.device("cpu"))
from pipelines.memory import peak_rss_mb
print(json.dumps({"videos": len(pred.labels), "peak_mb": peak_rss_mb()}))
"""


def eval_peak_mb(split: Path) -> float:
    """Peak RSS (MiB) of a fresh process that scores every video of ``split``, 4 videos per batch
    (the same full batch at every size, so the model's activations are the same)."""
    from dataclasses import asdict

    # glibc keeps freed blocks below its (self-raising) mmap threshold in the heap, so the peak
    # would also count blocks already given back; allocations of 1 MiB and more are mapped and
    # returned at once, and the peak is what the process holds.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**20)}
    out = subprocess.run([sys.executable, "-c", EVAL, str(split), json.dumps(asdict(CLIP)), json.dumps(asdict(MODEL))],
                         check=True, capture_output=True, text=True, env=env)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"])


def train_peak_mb(split: Path, out: Path) -> float:
    """Peak RSS (MiB) of the Ray Train worker of a one-epoch training stage on ``split``."""
    from pipelines.train.job import TrainJob
    from pipelines.train.launcher import run_train_job

    job = TrainJob("classify", str(split), MODEL, OptimConfig(epochs=1, batch_size=8, lr=0.01), CLIP,
                   AlgorithmConfig(name="supervised"))
    history = run_train_job(job, out, ResourcesConfig(num_workers=1))["history"]
    return max(row[keys.PEAK_RSS_MB] for row in history)


def measure(work: Path, videos: int, frames: int, size: int) -> dict[str, dict[int, float]]:
    """Peak MiB of training and evaluation at ``videos`` and 8× as many."""
    peaks: dict[str, dict[int, float]] = {"train": {}, "evaluate": {}}
    for n in (videos, 8 * videos):
        split = write_rows(work / f"split{n}", n, frames, size)
        peaks["train"][n] = train_peak_mb(split, work / f"stage{n}")
        peaks["evaluate"][n] = eval_peak_mb(split)
    return peaks


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=32, help="videos at 1× (8× is eight times as many)")
    p.add_argument("--frames", type=int, default=80, help="frames per video row (10 s at 8 per clip)")
    p.add_argument("--size", type=int, default=96, help="frame side")
    p.add_argument("--cpus", type=int, default=2, help="CPUs for the local Ray")
    args = p.parse_args(argv)
    start_local_ray(args.cpus)
    with tempfile.TemporaryDirectory(prefix="memory-scaling-") as work:
        peaks = measure(Path(work), args.videos, args.frames, args.size)
    data_mb = 8 * args.videos * args.frames * args.size * args.size * 3 / 2**20
    print(f"split at 8×: {8 * args.videos} videos, {data_mb:.0f} MiB of frames")
    ratios = []
    for what, by_n in peaks.items():
        (n1, m1), (n8, m8) = sorted(by_n.items())
        ratios.append(m8 / m1)
        print(f"{what:9s} peak RSS: {m1:7.0f} MiB at {n1} videos, {m8:7.0f} MiB at {n8} (×{m8 / m1:.2f})")
    print(f"memory_scaling: ratio {max(ratios):.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
