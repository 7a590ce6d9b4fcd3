"""Ray Train's TorchTrainer with fewer helper processes per run.

Each Ray Train run starts, besides its workers, a controller and helper actors: a placement-group
cleaner, a synchronisation actor, a dataset manager and a preemption watcher. Each is a fresh
Python process that imports ``ray.train`` (pandas, Ray Data): measured on the 2-core CPU at
2.2-3.0 s of CPU per helper and 15 s per run in all, which over the default study's 21 training
stages is about 5 CPU-minutes of a 2-core machine.

:class:`StageTrainer` is TorchTrainer without the dataset manager when the run has no Ray
Datasets (the one CPU worker cuts its own clips: nothing would ask it for a shard), and without
the placement-group cleaner where it can free nothing (:func:`wants_pg_cleaner`; measured: 2-3 s
of CPU per run, most of it polling Ray's state API every second while the run lasts). The
preemption watcher (it logs node drains on clusters of spot instances; it retries nothing) and
the controller's poll interval are set by :func:`trainer_env` from the ``resources`` block. Its
controller imports no torch (:mod:`pipelines.train.backend`).
"""

from __future__ import annotations

import logging
import os

from ray.train.torch import TorchTrainer

from pipelines.config.resources import ResourcesConfig
from pipelines.train.backend import ProcessGroupConfig

try:  # Ray Train V2's internals: without them the trainer is TorchTrainer as it is
    from ray.train.v2._internal.callbacks.datasets import DatasetsCallback
    from ray.train.v2._internal.callbacks.placement_group_callback import PlacementGroupCleanerCallback
except ImportError:  # pragma: no cover - another Ray version
    DatasetsCallback = PlacementGroupCleanerCallback = None

PREEMPTION_WATCHER = "RAY_TRAIN_ENABLE_PREEMPTION_WATCHER"  # Ray Train propagates these to its controller
POLL_INTERVAL = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"
PRINT_PATCH = "RAY_TRAIN_ENABLE_PRINT_PATCH"  # ... and this one to its workers


class StageTrainer(TorchTrainer):
    """TorchTrainer that starts no dataset manager for a run without datasets, and no
    placement-group cleaner unless ``pg_cleaner`` (set it before ``fit``), and whose process group
    is set up by a controller that imports no torch (:class:`ProcessGroupConfig`)."""

    pg_cleaner = True

    def __init__(self, *args, torch_config: ProcessGroupConfig | None = None, **kwargs) -> None:
        super().__init__(*args, torch_config=torch_config or ProcessGroupConfig(), **kwargs)

    def _create_default_callbacks(self):
        callbacks = super()._create_default_callbacks()
        if not self.datasets and DatasetsCallback is not None:
            callbacks = [c for c in callbacks if not isinstance(c, DatasetsCallback)]
        if not self.pg_cleaner and PlacementGroupCleanerCallback is not None:
            callbacks = [c for c in callbacks if not isinstance(c, PlacementGroupCleanerCallback)]
        return callbacks


def wants_pg_cleaner(resources: ResourcesConfig, nodes: int, trial: bool) -> bool:
    """Whether a run needs Ray Train's placement-group cleaner (``resources.pg_cleaner``).

    A run's placement group outlives a controller that dies ungracefully, until the Ray job ends.
    ``auto``: a Tune trial needs the cleaner (Tune stops trials by killing them, and the job goes
    on), and so does a run on a cluster of several nodes (a node can die alone, and the study
    retries its stage). On one node, a study stage's controller dies ungracefully only with its
    stage task (killed by Ray's memory monitor, or by the runner when the study stops); its
    group is then removed from its note
    (:class:`pipelines.train.placement_notes.PlacementGroupNote`) by the stage's next attempt or
    by the runner. Without Ray Train V2's internals the cleaner stays."""
    if PlacementGroupCleanerCallback is None:  # another Ray version: its cleaner stays as it is
        return True
    if resources.pg_cleaner != "auto":
        return resources.pg_cleaner == "on"
    return trial or nodes > 1


def trainer_env(resources: ResourcesConfig) -> None:
    """Set, in the process that calls ``fit``, the Ray Train variables its controller and workers
    read. Ray Train's print patch is off: in a Ray worker it wrote each ``print`` of the training
    loop (the progress lines) twice, to stdout and through the root logger's console handler, so
    every line stood twice in the job's log."""
    os.environ[PREEMPTION_WATCHER] = "1" if resources.watch_preemption else "0"
    os.environ[POLL_INTERVAL] = str(resources.poll_interval_s)
    os.environ[PRINT_PATCH] = "0"


def quiet_reports() -> None:
    """On a training worker: hold Ray Train's line per ``ray.train.report`` ("Reporting training
    result …", the whole report) to the run's own log level (its ``LoggingConfig``, from
    ``resources.train_log_level``). That line's logger is named by its file's path, not
    ``ray.train.…``, so the level Ray Train sets on its own loggers misses it."""
    try:
        from ray.train.v2._internal.execution import context

        level = context.get_train_context().train_run_context.get_run_config().logging_config.log_level
    except (ImportError, AttributeError):  # pragma: no cover - another Ray version
        return
    logging.getLogger(context.__file__).setLevel(level)
