"""What Ray Train and the streamed input add to a training step: a training stage's step time
against a plain PyTorch loop over the same model and batches held in memory.

``python -m pipelines.benchmarks.train_overhead [--videos N] [--epochs E] [--rounds R]``

Both sides train the same model on the same clips (the same draws) with one torch thread. The
stage runs through Ray Train with its clips streamed by Ray Data (``ingest: ray_data``, the path
of the GPU configs and of several workers), sampled by tasks on the other CPU. The plain loop's
batches are made beforehand. A step time is an epoch's seconds over its steps, after the first
epoch, less the wait for the epoch's first batch: what streaming costs once per epoch (starting
the epoch's Ray Data execution and its first sampling task) is printed apart, since it is
spread over an epoch's 6 steps here and over thousands on real data. The two alternate for
``--rounds`` rounds and each side's median counts, so a change in the machine's speed falls on
both. Goal: ratio ≤ 1.10.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch

from drl_core.algorithms import build_algorithm
from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.data.transforms import DeviceTransform
from drl_core.engine import make_optimizer, seed_everything, train_one_epoch
from drl_core.metrics import keys
from drl_core.models import build_model
from pipelines.benchmarks.local_ray import start_local_ray
from pipelines.benchmarks.rounds import runs
from pipelines.benchmarks.rows import write_rows
from pipelines.config.resources import ResourcesConfig
from pipelines.data.clips import train_loader
from pipelines.data.shards import open_split
from pipelines.host_cpu import StealMeter, describe

MODEL = ModelConfig(name="r3d18", width=16, stem_pool=False, dropout=0.5)
CLIP = ClipConfig(crop_size=48, jitter=0.2)


def plain_step_s(split: Path, optim: OptimConfig, epochs: int) -> float:
    """Median seconds per step of a plain loop over batches made beforehand (epochs after the first)."""
    torch.set_num_threads(1)
    seed_everything(0)
    index = open_split(split)
    net = build_model(MODEL, len(index.classes))
    algo = build_algorithm(AlgorithmConfig(name="supervised"), net, None, CLIP.mean, CLIP.std)
    opt = make_optimizer(algo.parameters(), optim)
    loader = train_loader(index, CLIP, optim.batch_size, seed=0)
    history = []
    for epoch in range(epochs):
        loader.dataset.set_epoch(epoch)
        batches = list(loader)
        history.append(train_one_epoch(algo, batches, opt, torch.device("cpu"),
                                       inputs=DeviceTransform(CLIP.mean, CLIP.std)))
    return step_s(history, len(batches))[0]


def stage_step_s(split: Path, optim: OptimConfig, out: Path) -> tuple[float, float]:
    """Median seconds per step of the training stage through Ray Train, and median seconds its
    epochs waited for their first batch (epochs after the first)."""
    from pipelines.train.job import TrainJob
    from pipelines.train.launcher import run_train_job

    job = TrainJob("classify", str(split), MODEL, optim, CLIP, AlgorithmConfig(name="supervised"))
    history = run_train_job(job, out, ResourcesConfig(num_workers=1, ingest="ray_data"))["history"]
    return step_s(history, -(-len(open_split(split)) // optim.batch_size))


def step_s(history: list[dict], steps: int) -> tuple[float, float]:
    """Over the epochs after the first: the median step time (an epoch's seconds less the wait
    for its first batch, over its ``steps``) and the median wait for the first batch."""
    rows = history[1:]
    return (statistics.median((r[keys.EPOCH_SECONDS] - r[keys.FIRST_BATCH_SECONDS]) / steps for r in rows),
            statistics.median(r[keys.FIRST_BATCH_SECONDS] for r in rows))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=96)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--cpus", type=int, default=2, help="CPUs for the local Ray")
    p.add_argument("--rounds", type=int, default=5, help="alternating plain loops and stage runs")
    args = p.parse_args(argv)
    steal = StealMeter()
    optim = OptimConfig(optimizer="sgd", epochs=args.epochs, lr=0.01, step_size=10, batch_size=16)
    plains, stages, firsts = [], [], []
    with tempfile.TemporaryDirectory(prefix="train-overhead-") as work:
        split = write_rows(Path(work) / "train", args.videos, 24, 56, 8, width=64)
        start_local_ray(args.cpus)
        for r in range(args.rounds):
            plains.append(plain_step_s(split, optim, args.epochs))
            step, first = stage_step_s(split, optim, Path(work) / f"stage{r}")
            stages.append(step)
            firsts.append(first)
    plain, stage = statistics.median(plains), statistics.median(stages)

    print(f"R3D-18 width 16, batch {optim.batch_size} × 8×{CLIP.crop_size}², {args.videos} videos, 1 torch thread, "
          f"{args.rounds} rounds")
    print(f"plain loop (batches in memory): {plain * 1000:7.1f} ms/step ({runs(plains, 1000)})")
    print(f"Ray Train stage (streamed)    : {stage * 1000:7.1f} ms/step ({runs(stages, 1000)})")
    print(f"its wait for each epoch's first batch: {statistics.median(firsts) * 1000:.0f} ms ({runs(firsts, 1000)}), "
          f"{statistics.median(firsts) / plain:.1f} plain steps")
    print(f"host: {describe(steal.lap())}")
    print(f"train_overhead: ratio {stage / plain:.2f} (goal <= 1.10)")


if __name__ == "__main__":
    main()
