"""Turn decoded shard folders into drl_core ClipDatasets and DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from drl_core.config import ClipConfig
from drl_core.data.dataset import ClipDataset
from drl_core.data.transforms import ClipTransform
from pipelines.decode.schema import load_clip_arrays


@dataclass
class ShardData:
    """One decoded split in memory (uint8 frames N×T×H×W×3) and its class list."""

    frames: torch.Tensor
    labels: torch.Tensor
    video_index: torch.Tensor
    video_ids: list[str]
    classes: tuple[str, ...]

    @property
    def num_videos(self) -> int:
        return len(self.video_ids)

    def select_videos(self, which: slice) -> "ShardData":
        """The clips of the videos ``which`` picks (e.g. ``slice(rank, None, world)``), re-indexed."""
        keep = torch.arange(self.num_videos)[which]
        new_index = torch.full((self.num_videos,), -1, dtype=torch.long)
        new_index[keep] = torch.arange(len(keep))
        rows = torch.isin(self.video_index, keep)
        return ShardData(self.frames[rows], self.labels[rows], new_index[self.video_index[rows]],
                         [self.video_ids[i] for i in keep.tolist()], self.classes)


def load_split(path: str | Path, files: list[Path] | None = None) -> ShardData:
    """Read ``<decode output>/shards`` (or just ``files`` of it) and ``classes.txt`` of one split."""
    path = Path(path)
    arrays = load_clip_arrays(path / "shards", files)
    classes = tuple(line for line in (path / "classes.txt").read_text().splitlines() if line)
    return ShardData(torch.from_numpy(arrays.frames), torch.from_numpy(arrays.labels),
                     torch.from_numpy(arrays.video_index), arrays.video_ids, classes)


def clip_loader(data: ShardData, clip: ClipConfig, train: bool, batch_size: int, seed: int = 0,
                all_clips: bool | None = None, num_workers: int = 0) -> DataLoader:
    """A loader of ``{"clips", "label", "video"}`` batches.

    Training draws one random stored clip per video with augmentation, shuffled; testing gives
    every stored clip of a video (B×N×C×T×S×S) with centre crops, in order.
    """
    transform = ClipTransform(clip.crop_size, clip.mean, clip.std, train, clip.flip, clip.jitter, clip.hue)
    all_clips = (not train) if all_clips is None else all_clips
    ds = ClipDataset(data.frames, data.labels, data.video_index, transform, all_clips, seed)
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(ds, batch_size=batch_size, shuffle=train, generator=gen, drop_last=False,
                      num_workers=num_workers)
