"""How a split's test clips reach the model that scores them.

A video's test items are its ``clip.test_clips`` uniformly spaced 1-s clips, centre crops, cut
from its row (:func:`pipelines.data.cutting.test_item`; with ``clip.test_sparse``, one frame of each per item). They stream in batches of
``batch_size`` videos, in index order, into the process that holds the model (a stage task or a
training worker, on its device), which keeps only per-video logits and features.

``ray_data``: Ray Data tasks cut the clips (``cpus_per_task`` each, at most ``max_tasks`` at
once, 0 as many as the CPUs allow), one batch of videos per task: in ``group``'s second bundle
(a stage's own placement group, :class:`pipelines.stages.base.StageSpec` ``data_cpus``), or on
any node's CPUs. Otherwise the consuming process cuts them itself. The batches are the same
either way (tested), so the choice changes no result.

The model stays where its device is: a pool of model actors would need devices of its own, and
the process asking already holds one (on a one-GPU node the pool would wait for it forever);
the CPU work of cutting, not the forward pass, is what a GPU waits on.

This module imports torch only where it streams: a training job holds a stream, and Ray Train's
controller unpickles the job without needing torch (:mod:`pipelines.train.backend`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from drl_core.config import ClipConfig
from pipelines.data.shards import SplitIndex


@dataclass(frozen=True)
class InferenceStream:
    """Batches of ``batch_size`` videos' test clips, cut here or by Ray Data tasks (``ray_data``)."""

    batch_size: int = 16
    ray_data: bool = False
    cpus_per_task: float = 0.25
    max_tasks: int = 0
    prefetch_batches: int = 2
    group: Any = None

    def within(self, group: Any) -> "InferenceStream":
        """This stream with its Ray Data tasks in ``group``'s CPUs (None: anywhere)."""
        return replace(self, group=group)

    def batches(self, index: SplitIndex, clip: ClipConfig) -> Iterable[dict]:
        """``{"clips" uint8 B×N×T×S×S×3, "label" B, "video" B}`` for every video of ``index``, in order."""
        if not self.ray_data:
            from pipelines.data.clips import test_loader

            return test_loader(index, clip, self.batch_size)
        import torch

        from pipelines.data.ray_ingest import host_batches, test_dataset

        ds = test_dataset(index, clip, self.batch_size, self.cpus_per_task, self.max_tasks, self.group)
        return host_batches(ds, self.batch_size, self.prefetch_batches, pin_memory=torch.cuda.is_available())
