"""Clips cut from video rows: a fresh training clip per video per epoch, and the test clips.

Every training draw (window, crop, flip, colour jitter) comes from (seed, epoch, video) alone
(:mod:`drl_core.data.draws`), so the Ray Data operators of training stages and the in-process
loaders here give the same clips. Crop and flip happen here on uint8; normalisation and the
colour jitter run on the device (:class:`drl_core.data.transforms.DeviceTransform`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from drl_core.config import ClipConfig
from drl_core.data.clip_sampling import window, window_starts
from drl_core.data.draws import centre, cut_clip, draw_clip, video_key
from pipelines.data.shards import SplitIndex


def epoch_order(seed: int, epoch: int, count: int) -> np.ndarray:
    """The order videos are visited in ``epoch``: a permutation of ``count`` seeded by (seed, epoch)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, epoch, 0x0DE5]).permutation(count)


def train_item(index: SplitIndex, i: int, frames: np.ndarray, clip: ClipConfig, seed: int, epoch: int) -> dict:
    """Video ``i``'s training clip in ``epoch``: ``clips`` uint8 T×S×S×3, ``label``, ``video``,
    ``start`` (its first row frame) and ``jitter`` (4 floats, applied on the device)."""
    n, (h, w, _) = len(frames), frames.shape[1:]
    t = index.clip_frames
    d = draw_clip(seed, epoch, video_key(index.video_ids[i]), n, t, h, w, clip.crop_size, clip.flip, clip.jitter,
                  clip.hue)
    return {"clips": cut_clip(frames, window(n, d.start, t), d.top, d.left, clip.crop_size, d.flip),
            "label": int(index.labels[i]), "video": i, "start": d.start, "jitter": np.asarray(d.jitter, np.float32)}


def test_item(index: SplitIndex, i: int, frames: np.ndarray, clip: ClipConfig) -> dict:
    """Video ``i``'s ``clip.test_clips`` uniformly spaced clips, centre crops: uint8 N×T×S×S×3."""
    t, (h, w, _) = index.clip_frames, frames.shape[1:]
    top, left = centre(h, w, clip.crop_size)
    clips = [cut_clip(frames, window(len(frames), s, t), top, left, clip.crop_size, False)
             for s in window_starts(len(frames), t, clip.test_clips)]
    return {"clips": np.stack(clips), "label": int(index.labels[i]), "video": i}


def _mine(positions: np.ndarray) -> np.ndarray:
    """This DataLoader worker's share of ``positions`` (all of them in the main process)."""
    info = get_worker_info()
    return positions if info is None else positions[info.id::info.num_workers]


class TrainClips(IterableDataset):
    """One training clip per video per epoch, videos in :func:`epoch_order`; call
    :meth:`set_epoch` before each epoch (loader workers are started afresh every epoch, so
    they see it)."""

    def __init__(self, index: SplitIndex, clip: ClipConfig, seed: int) -> None:
        self.index, self.clip, self.seed, self.epoch = index, clip, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self):
        for p in _mine(epoch_order(self.seed, self.epoch, len(self.index))):
            yield train_item(self.index, int(p), self.index.frames(int(p)), self.clip, self.seed, self.epoch)


class TestClips(IterableDataset):
    """Every video's test clips, in index order (split over loader workers by position)."""

    def __init__(self, index: SplitIndex, clip: ClipConfig) -> None:
        self.index, self.clip = index, clip

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self):
        for i in _mine(np.arange(len(self.index))):
            yield test_item(self.index, int(i), self.index.frames(int(i)), self.clip)


def train_loader(index: SplitIndex, clip: ClipConfig, batch_size: int, seed: int, num_workers: int = 0) -> DataLoader:
    """In-process training batches ``{"clips" uint8 B×T×S×S×3, "label", "video", "jitter" B×4}``."""
    return DataLoader(TrainClips(index, clip, seed), batch_size=batch_size, num_workers=num_workers,
                      pin_memory=torch.cuda.is_available())


def test_loader(index: SplitIndex, clip: ClipConfig, batch_size: int, num_workers: int = 0) -> DataLoader:
    """Test batches ``{"clips" uint8 B×N×T×S×S×3, "label", "video"}``, streamed."""
    return DataLoader(TestClips(index, clip), batch_size=batch_size, num_workers=num_workers,
                      pin_memory=torch.cuda.is_available())
