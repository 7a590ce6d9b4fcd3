"""The ``resources`` block: Ray Train's scaling of training stages, the other stages' share of
the cluster, and how clips reach the models. None of it changes a result, except
``deterministic`` (which kernels run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from drl_core.config import check as _check

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

if TYPE_CHECKING:
    from pipelines.data.inference_stream import InferenceStream


@dataclass(frozen=True)
class ResourcesConfig:
    """Ray resources: Ray Train's ScalingConfig for training stages, and the other stages' share.

    ``concurrent_trainings`` caps how many training stages run at once (0: as many as the
    cluster's resources at start-up can host; set it on an autoscaling cluster). A training
    stage's input pipeline runs as Ray Data tasks of ``data_cpus`` CPUs each, on any node,
    ``videos_per_task`` videos per task, at most ``data_tasks`` at once (0: as many as the CPUs
    allow). ``deterministic``: deterministic kernels (the CPU configs), or
    cuDNN autotuning (the GPU configs set it false).

    ``ingest``: how a training stage gets its clips. ``ray_data``: Ray Data tasks sample them on
    any node's CPUs and stream them into Ray Train (``TorchTrainer(datasets=...)``), the path
    for GPUs and several workers. ``worker``: the one training worker cuts them itself, the same
    clips in the same batches (tested bit-identical), without Ray Data's executor, which costs a
    third of a 2-core CPU (measured: 9-10 s epochs against 7 s). ``auto``: ``worker`` for one CPU
    worker, else ``ray_data``. Either way the result is the same, so it is no part of any key.

    ``inference``: how the test clips of every evaluation, dynamic score, feature extraction and
    Tune probe reach the model, ``eval_batch_size`` videos per batch. ``ray_data``: Ray Data tasks
    (``data_cpus`` each, at most ``inference_tasks`` at once) cut them and stream them to the
    process that holds the model; ``local``: that process cuts them itself; ``auto`` as
    ``ingest``. An evaluation, linear-probe or few-shot stage reserves its tasks' CPUs with its
    own in one placement group (so stages holding every CPU cannot starve them); the evaluation
    after training and the Tune probe run theirs on any free CPUs (the run's training stream,
    whose CPUs it reserved, is idle then; a run whose worker cuts its own clips cuts its test
    clips too, :meth:`worker_inference_stream`). The batches are the same either way (tested)
    (:mod:`pipelines.data.inference_stream`).

    ``poll_interval_s``: how often a Ray Train controller polls its workers (Ray's default 2 s
    adds up to that much to every stage's start and end). ``watch_preemption``: Ray Train's
    preemption watcher, one more process per run that logs node drains on spot-instance clusters
    (:mod:`pipelines.train.trainer`). ``pg_cleaner``: Ray Train's placement-group cleaner, a
    detached process per run that frees the run's CPUs and GPUs if its controller dies
    ungracefully (``on``, ``off``; ``auto``: on for Tune trials, which Tune stops by killing them,
    and on clusters of several nodes, where a node can die alone; off on one node, where a stage's
    controller dies only with its stage task and the stage's next attempt or the runner removes
    the group it noted). ``train_log_level``: the level of Ray Train's own log lines on the
    console (the job's log) and in its application log files (``WARNING``: not each epoch's report
    and checkpoint, nor each worker group's start; its system log files under the Ray session's
    ``logs/train`` keep every level). None changes a result.
    """

    num_workers: int = 1
    use_gpu: bool = False
    cpus_per_worker: float = 0.6  # three training stages at once on 2 CPUs: their start-ups overlap
    gpus_per_worker: float = 1.0
    max_failures: int = 2
    keep_checkpoints: int = 2
    eval_cpus: float = 1.0
    eval_batch_size: int = 16
    data_cpus: float = 0.25
    videos_per_task: int = 32
    data_tasks: int = 1
    deterministic: bool = True
    concurrent_trainings: int = 0
    ingest: str = "auto"
    inference: str = "auto"
    inference_tasks: int = 2
    poll_interval_s: float = 0.5
    watch_preemption: bool = False
    pg_cleaner: str = "auto"
    train_log_level: str = "WARNING"

    def __post_init__(self) -> None:
        _check(self.num_workers >= 1, "num_workers", "must be at least 1")
        _check(self.ingest in ("auto", "ray_data", "worker"), "ingest",
               f"must be auto, ray_data or worker, got {self.ingest!r}")
        _check(self.ingest != "worker" or self.num_workers == 1, "ingest",
               "worker reads the clips inside the one training worker; with num_workers > 1 use ray_data")
        _check(self.inference in ("auto", "ray_data", "local"), "inference",
               f"must be auto, ray_data or local, got {self.inference!r}")
        _check(self.inference_tasks >= 1, "inference_tasks", "must be at least 1")
        _check(self.pg_cleaner in ("auto", "on", "off"), "pg_cleaner",
               f"must be auto, on or off, got {self.pg_cleaner!r}")
        _check(self.train_log_level in LOG_LEVELS, "train_log_level",
               f"must be one of {', '.join(LOG_LEVELS)}, got {self.train_log_level!r}")
        _check(self.cpus_per_worker > 0, "cpus_per_worker", "must be positive")
        _check(self.gpus_per_worker > 0, "gpus_per_worker", "must be positive")
        _check(self.max_failures >= -1, "max_failures", "must be >= -1 (-1 retries forever)")
        _check(self.keep_checkpoints >= 1, "keep_checkpoints", "must be at least 1")
        _check(self.eval_cpus > 0, "eval_cpus", "must be positive")
        _check(self.eval_batch_size >= 1, "eval_batch_size", "must be at least 1")
        _check(self.concurrent_trainings >= 0, "concurrent_trainings", "must be >= 0 (0: as many as fit)")
        _check(self.data_cpus > 0, "data_cpus", "must be positive")
        _check(self.videos_per_task >= 1, "videos_per_task", "must be at least 1")
        _check(self.data_tasks >= 0, "data_tasks", "must be >= 0 (0: as many as the CPUs allow)")
        _check(self.poll_interval_s > 0, "poll_interval_s", "must be positive")

    def ingest_mode(self) -> str:
        """``ray_data`` or ``worker`` (``auto``: worker for one CPU worker, else Ray Data)."""
        if self.ingest != "auto":
            return self.ingest
        return "worker" if self.num_workers == 1 and not self.use_gpu else "ray_data"

    def inference_stream(self) -> InferenceStream:
        """How test clips reach the model (``inference``; ``auto``: local where ``ingest`` is worker)."""
        from pipelines.data.inference_stream import InferenceStream

        ray_data = self.inference == "ray_data" or (self.inference == "auto" and self.ingest_mode() == "ray_data")
        return InferenceStream(self.eval_batch_size, ray_data, self.data_cpus, self.inference_tasks)

    def worker_inference_stream(self) -> InferenceStream:
        """The stream of a training worker's own inference (the evaluation after training, the
        Tune probe): Ray Data only where the run streams its training clips through Ray Data, whose
        task CPUs it reserved and which are idle then. A worker that cuts its clips itself cuts
        its test clips too: it has no CPUs for tasks, and on 2 CPUs three fine-tuning workers
        waited forever for theirs beside stages that held every other CPU (seen in a smoke study)."""
        from dataclasses import replace

        stream = self.inference_stream()
        return stream if self.ingest_mode() == "ray_data" else replace(stream, ray_data=False)

    def inference_cpus(self) -> float:
        """The CPUs an inference stage reserves for its Ray Data tasks (0 when it cuts clips itself)."""
        return self.data_cpus * self.inference_tasks if self.inference_stream().ray_data else 0.0

    def task_cpus(self) -> float:
        """The CPUs a training run's Ray Data tasks take beside its workers (none when the worker
        cuts its clips itself)."""
        return self.data_cpus * max(self.data_tasks, 1) if self.ingest_mode() == "ray_data" else 0.0

    def training_slots(self, cluster: dict[str, float]) -> int:
        """How many Ray Train runs may run at once: ``concurrent_trainings``, or as many as the
        cluster's current CPUs (and GPUs) can host, at least one."""
        if self.concurrent_trainings:
            return self.concurrent_trainings
        need = {"CPU": self.cpus_per_worker * self.num_workers + self.task_cpus()}
        if self.use_gpu:
            need["GPU"] = self.gpus_per_worker * self.num_workers
        return max(1, min(int(cluster.get(k, 0.0) // v) for k, v in need.items()))
