"""In-process loaders of clips cut from video rows (:mod:`pipelines.data.cutting`): the training
clips of an epoch and every video's test clips, streamed through torch DataLoaders (with
loader workers if asked). Training stages get the same clips from Ray Data tasks instead
(:mod:`pipelines.data.ray_ingest`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from drl_core.config import ClipConfig
from pipelines.data.cutting import epoch_order, test_item, train_item
from pipelines.data.shards import SplitIndex


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
            yield train_item(self.index, int(p), self.clip, self.seed, self.epoch)


class TestClips(IterableDataset):
    """Every video's test clips, in index order (split over loader workers by position)."""

    def __init__(self, index: SplitIndex, clip: ClipConfig) -> None:
        self.index, self.clip = index, clip

    def __len__(self) -> int:
        return len(self.index)

    def __iter__(self):
        for i in _mine(np.arange(len(self.index))):
            yield test_item(self.index, int(i), self.clip)


def train_loader(index: SplitIndex, clip: ClipConfig, batch_size: int, seed: int, num_workers: int = 0) -> DataLoader:
    """In-process training batches ``{"clips" uint8 B×T×S×S×3, "label", "video", "jitter" B×4}``.

    The loader draws its worker seeds from a generator of its own: a DataLoader otherwise takes
    one number from torch's global generator per epoch, which shifts the training's dropout masks
    (the clips themselves depend on (seed, epoch, video) alone)."""
    return DataLoader(TrainClips(index, clip, seed), batch_size=batch_size, num_workers=num_workers,
                      pin_memory=torch.cuda.is_available(), generator=torch.Generator().manual_seed(seed))


def test_loader(index: SplitIndex, clip: ClipConfig, batch_size: int, num_workers: int = 0) -> DataLoader:
    """Test batches ``{"clips" uint8 B×N×T×S×S×3, "label", "video"}``, streamed."""
    return DataLoader(TestClips(index, clip), batch_size=batch_size, num_workers=num_workers,
                      pin_memory=torch.cuda.is_available(), generator=torch.Generator().manual_seed(0))
