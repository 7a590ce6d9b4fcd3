"""Each Ray Train worker's share of a decoded split, with the same number of steps on every worker."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader, Sampler

from drl_core.config import ClipConfig
from drl_core.data.dataset import ClipDataset
from drl_core.data.transforms import ClipTransform
from pipelines.data.loaders import ShardData, load_split


def shard_files(split_dir: str | Path, rank: int, world: int) -> tuple[list[Path] | None, bool]:
    """The Parquet files worker ``rank`` of ``world`` reads, and whether rows still need sharding.

    With at least ``world`` files each worker reads every ``world``-th file; with fewer, every
    worker reads all of them and takes every ``world``-th video instead.
    """
    files = sorted((Path(split_dir) / "shards").glob("*.parquet"))
    if world == 1:
        return None, False
    if len(files) >= world:
        return files[rank::world], False
    return None, True


def worker_split(split_dir: str | Path, rank: int, world: int) -> ShardData:
    """This worker's videos of a decoded split (all of them when ``world`` is 1)."""
    files, by_row = shard_files(split_dir, rank, world)
    data = load_split(split_dir, files)
    return data.select_videos(slice(rank, None, world)) if by_row else data


class EqualStepsSampler(Sampler[int]):
    """A fresh random order each epoch over ``count`` of ``size`` items (``count`` ≤ ``size``).

    Workers whose shards differ in size all draw ``count`` items (the smallest shard's size),
    so every DDP worker takes the same number of steps.
    """

    def __init__(self, size: int, count: int, seed: int) -> None:
        self.size, self.count, self.seed, self.epoch = size, min(count, size), seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=gen)[: self.count].tolist())

    def __len__(self) -> int:
        return self.count


def train_loader(data: ShardData, clip: ClipConfig, batch_size: int, count: int, seed: int,
                 num_workers: int = 0) -> DataLoader:
    """Training batches ``{"clips" B×C×T×S×S, "label" B, "video" B}``: one random clip per video."""
    transform = ClipTransform(clip.crop_size, clip.mean, clip.std, True, clip.flip, clip.jitter, clip.hue)
    dataset = ClipDataset(data.frames, data.labels, data.video_index, transform, False, seed)
    sampler = EqualStepsSampler(len(dataset), count, seed)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=num_workers,
                      persistent_workers=num_workers > 0)
