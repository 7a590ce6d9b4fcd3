"""Ray Train's TorchTrainer with fewer helper processes per run.

Each Ray Train run starts, besides its workers, a controller and helper actors: a placement-group
cleaner, a synchronisation actor, a dataset manager and a preemption watcher. Each is a fresh
Python process that imports ``ray.train`` (pandas, Ray Data): measured on the 2-core CPU at
2.2-3.0 s of CPU per helper and 15 s per run in all, which over the default study's 21 training
stages is about 5 CPU-minutes of a 2-core machine.

:class:`StageTrainer` is TorchTrainer without the dataset manager when the run has no Ray
Datasets (the one CPU worker cuts its own clips: nothing would ask it for a shard). The
preemption watcher (it logs node drains on clusters of spot instances; it retries nothing) and
the controller's poll interval are set by :func:`trainer_env` from the ``resources`` block.
"""

from __future__ import annotations

import os

from ray.train.torch import TorchTrainer

from pipelines.config.schema import ResourcesConfig

try:  # Ray Train V2's internals: without them the trainer is TorchTrainer as it is
    from ray.train.v2._internal.callbacks.datasets import DatasetsCallback
except ImportError:  # pragma: no cover - another Ray version
    DatasetsCallback = None

PREEMPTION_WATCHER = "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER"  # Ray Train propagates both to its controller
POLL_INTERVAL = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"


class StageTrainer(TorchTrainer):
    """TorchTrainer that starts no dataset manager for a run without datasets."""

    def _create_default_callbacks(self):
        callbacks = super()._create_default_callbacks()
        if self.datasets or DatasetsCallback is None:
            return callbacks
        return [c for c in callbacks if not isinstance(c, DatasetsCallback)]


def trainer_env(resources: ResourcesConfig) -> None:
    """Set, in the process that calls ``fit``, the Ray Train variables its controller reads."""
    os.environ[PREEMPTION_WATCHER] = "1" if resources.watch_preemption else "0"
    os.environ[POLL_INTERVAL] = str(resources.poll_interval_s)
