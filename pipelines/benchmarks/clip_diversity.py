"""How many distinct 1-s clips training sees per video: the Ray Data input of a training stage
over 10 epochs of 10-s videos, against the 10 an ideal sampler gives.

``python -m pipelines.benchmarks.clip_diversity [--videos N] [--epochs E]``
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

from drl_core.config import ClipConfig
from pipelines.benchmarks.local_ray import start_local_ray
from pipelines.benchmarks.rows import write_rows
from pipelines.data.shards import open_split
from pipelines.data.ray_ingest import epoch_clock, train_dataset


def distinct_starts(split_dir: Path, epochs: int, seed: int = 0) -> dict[int, set[int]]:
    """Each video's set of clip starts (row frames) over ``epochs`` epochs of the training stream."""
    import ray

    index = open_split(split_dir)
    clock = epoch_clock()
    ds = train_dataset(index, ClipConfig(crop_size=16), seed, clock, cpus_per_task=0.5, videos_per_task=8)
    seen: dict[int, set[int]] = defaultdict(set)
    for epoch in range(epochs):
        ray.get(clock.set.remote(epoch))
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for v, s in zip(batch["video"].tolist(), batch["start"].tolist()):
                seen[v].add(s)
    return seen


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=64, help="10-s videos in the generated split")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--cpus", type=int, default=2, help="CPUs for the local Ray")
    args = p.parse_args(argv)
    import ray

    frames, clip_frames = 160, 16  # 10 s at 16 frames per 1-s clip: 145 possible windows
    with tempfile.TemporaryDirectory(prefix="clip-diversity-") as work:
        split = write_rows(Path(work) / "train", args.videos, frames, 20, clip_frames)
        start_local_ray(args.cpus)
        seen = distinct_starts(split, args.epochs)
        ray.shutdown()
    ideal = min(args.epochs, frames - clip_frames + 1)
    mean = sum(len(s) for s in seen.values()) / max(len(seen), 1)
    print(f"videos: {len(seen)} of 10 s ({frames - clip_frames + 1} possible 1-s windows), epochs: {args.epochs}")
    print(f"distinct clip starts per video: {mean:.2f} (ideal {ideal})")
    print(f"clip_diversity: ratio {mean / ideal:.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
