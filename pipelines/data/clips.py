"""In-process loaders of clips cut from video rows (:mod:`pipelines.data.cutting`): the training
clips of an epoch, streamed through a torch DataLoader (with loader workers if asked), and every
video's test clips, cut straight into their batches. Ray Data tasks cut the same clips
(:mod:`pipelines.data.ray_ingest`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from drl_core.config import ClipConfig
from pipelines.data.cutting import epoch_order, test_batch, train_item
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


def train_loader(index: SplitIndex, clip: ClipConfig, batch_size: int, seed: int, num_workers: int = 0) -> DataLoader:
    """In-process training batches ``{"clips" uint8 B×T×S×S×3, "label", "video", "jitter" B×4 (B×8 for the ``pil`` jitter)}``.

    The loader draws its worker seeds from a generator of its own: a DataLoader otherwise takes
    one number from torch's global generator per epoch, which shifts the training's dropout masks
    (the clips themselves depend on (seed, epoch, video) alone)."""
    return DataLoader(TrainClips(index, clip, seed), batch_size=batch_size, num_workers=num_workers,
                      pin_memory=torch.cuda.is_available(), generator=torch.Generator().manual_seed(seed))


class TestBatches:
    """Test batches ``{"clips" uint8 B×N×T×S×S×3, "label", "video"}`` (torch), cut in this
    process straight into each batch (:func:`pipelines.data.cutting.test_batch`), in index order."""

    def __init__(self, index: SplitIndex, clip: ClipConfig, batch_size: int) -> None:
        self.index, self.clip, self.batch_size = index, clip, batch_size

    def __len__(self) -> int:
        return -(-len(self.index) // self.batch_size)

    def __iter__(self):
        pin = torch.cuda.is_available()
        for first in range(0, len(self.index), self.batch_size):
            positions = list(range(first, min(first + self.batch_size, len(self.index))))
            batch = {k: torch.from_numpy(v) for k, v in test_batch(self.index, positions, self.clip).items()}
            yield {k: v.pin_memory() for k, v in batch.items()} if pin else batch


def test_loader(index: SplitIndex, clip: ClipConfig, batch_size: int) -> TestBatches:
    """Every video's test clips in batches of ``batch_size`` videos, streamed (:class:`TestBatches`)."""
    return TestBatches(index, clip, batch_size)
