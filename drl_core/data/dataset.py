"""An in-memory dataset of decoded clips, grouped by video."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from drl_core.data.transforms import ClipTransform


class ClipDataset(Dataset):
    """Videos with one or more stored clips each.

    Args:
        frames: uint8 clips, N×T×H×W×3 (all clips of all videos).
        labels: label index of each clip, shape (N,).
        video_index: which video each clip belongs to (0..V-1), shape (N,).
        transform: applied to each clip.
        all_clips: if True an item is every clip of one video (N_v×C×T×S×S, for multi-clip
            testing); if False an item is one clip drawn at random from the video's clips.
        seed: seeds the random clip choice and augmentation, per epoch via :meth:`set_epoch`.

    Items are dicts: ``clips`` (C×T×S×S or N_v×C×T×S×S), ``label`` and ``video`` (ints).
    """

    def __init__(self, frames: torch.Tensor, labels: torch.Tensor, video_index: torch.Tensor,
                 transform: ClipTransform, all_clips: bool = False, seed: int = 0) -> None:
        if not (len(frames) == len(labels) == len(video_index)):
            raise ValueError("frames, labels and video_index must have one entry per clip")
        self.frames, self.transform, self.all_clips = frames, transform, all_clips
        order = torch.argsort(video_index, stable=True)
        self._groups = torch.split(order, torch.bincount(video_index).tolist())
        self._groups = [g for g in self._groups if len(g)]
        self.labels = torch.stack([labels[g[0]] for g in self._groups]).long()
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self._groups)

    def __getitem__(self, i: int) -> dict:
        gen = torch.Generator().manual_seed(hash((self.seed, self.epoch, i)) & 0x7FFFFFFF)
        group = self._groups[i]
        if self.all_clips:
            clips = torch.stack([self.transform(self.frames[j], gen) for j in group.tolist()])
        else:
            j = group[int(torch.randint(0, len(group), (1,), generator=gen))]
            clips = self.transform(self.frames[j], gen)
        return {"clips": clips, "label": int(self.labels[i]), "video": i}
