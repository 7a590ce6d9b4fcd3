"""Run a :class:`TrainJob` with Ray Train's TorchTrainer: DDP workers, per-epoch checkpoints,
restarts after a lost worker, and resumption when the same stage folder is run again."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from pipelines.config.resources import ResourcesConfig
from pipelines.data.ray_ingest import DATASET, data_config, epoch_clock, train_dataset
from pipelines.data.shards import open_split
from pipelines.train.job import TrainJob
from pipelines.train.loop import train_loop

RUN_NAME = "ray_train"


def stage_resources(resources: ResourcesConfig, nodes: list[dict[str, float]], alone: bool,
                    free: float | None = None, beside: float = 0.0) -> tuple[ResourcesConfig, int]:
    """What a training stage reserves per worker, and its torch threads per worker.

    A CPU stage that runs ``alone`` (the baseline: every other training stage waits for it) gets
    each worker's share of the CPUs free at launch (``free``, default: all of ``nodes``') and not
    kept for the stages that may run ``beside`` it (a static-task pretraining), at most a node's,
    less its Ray Data tasks (if it has any), in quarter CPUs and never fewer than
    ``cpus_per_worker``. So neither waits for the other, whichever starts first. Other stages,
    and GPU stages (their nodes' CPUs feed the GPUs), keep theirs.

    Threads are the CPUs rounded up; for a lone stage, of the CPUs it would get with the whole
    cluster free. The thread count changes a CPU run's numbers, so it must not depend on what
    other stages hold at launch. It did: a baseline launched while a decode task still ran got
    0.6 CPU and one thread instead of 1.25 and two, and the default study's verdict changed (seen
    in a fresh-clone run)."""
    if not alone or resources.use_gpu or not nodes:
        return resources, max(1, math.ceil(resources.cpus_per_worker))
    total, largest = sum(n.get("CPU", 0.0) for n in nodes), max(n.get("CPU", 0.0) for n in nodes)

    def share(cpus: float) -> float:
        each = min(cpus / resources.num_workers, largest) - resources.task_cpus()
        return max(resources.cpus_per_worker, math.floor(each * 4) / 4)

    whole = share(total - beside)
    now = whole if free is None else share(min(total - beside, free))
    return dataclasses.replace(resources, cpus_per_worker=now), max(1, math.ceil(whole))


def cluster_nodes() -> list[dict[str, float]]:
    """The resources of each live node of the Ray cluster."""
    import ray

    return [n["Resources"] for n in ray.nodes() if n.get("Alive")]


def free_cpus() -> float:
    """The CPUs of the Ray cluster no task or actor holds now."""
    import ray

    return float(ray.available_resources().get("CPU", 0.0))


def worker_resources(resources: ResourcesConfig) -> dict[str, float]:
    """What each training worker reserves: ``{"CPU": ...}``, with ``"GPU"`` on GPU configs."""
    per_worker = {"CPU": resources.cpus_per_worker}
    if resources.use_gpu:
        per_worker["GPU"] = resources.gpus_per_worker
    return per_worker


def scaling_config(resources: ResourcesConfig):
    """Ray Train's ScalingConfig from the study's ``resources`` block."""
    import ray.train

    return ray.train.ScalingConfig(num_workers=resources.num_workers, use_gpu=resources.use_gpu,
                                   resources_per_worker=worker_resources(resources))


def run_config(out_dir: Path, resources: ResourcesConfig, callbacks: tuple = ()):
    """Checkpoints under ``out_dir/ray_train``: the same folder on a rerun, so Ray Train resumes.
    ``callbacks``: Ray Train callbacks (a Tune trial passes TuneReportCallback). Ray Train's own
    lines reach the job's log from ``resources.train_log_level`` up."""
    import ray.train

    logs = {}
    if hasattr(ray.train, "LoggingConfig"):  # Ray Train V2's; an older Ray logs at its own level
        logs["logging_config"] = ray.train.LoggingConfig(log_level=resources.train_log_level)
    return ray.train.RunConfig(
        name=RUN_NAME, storage_path=str(out_dir), callbacks=list(callbacks),
        failure_config=ray.train.FailureConfig(max_failures=resources.max_failures),
        checkpoint_config=ray.train.CheckpointConfig(num_to_keep=resources.keep_checkpoints), **logs)


def run_train_job(job: TrainJob, out_dir: str | Path, resources: ResourcesConfig,
                  tracker: Any = None, run_id: str | None = None, callbacks: tuple = (), trial: bool = False) -> dict:
    """Train ``job`` on ``resources.num_workers`` workers; returns its history, its evaluation and
    the classes of its training split. ``trial``: the run is a Tune trial's (Tune may kill it).

    ``out_dir`` receives ``model.pt``, ``history.json`` and ``eval.json`` (from rank 0) and the
    Ray Train checkpoints. Per-epoch metrics go to the MLflow run ``run_id`` through ``tracker``.
    """
    from pipelines.train.placement_notes import PlacementGroupNote, remove_noted_groups
    from pipelines.train.startup_wait import StartupWaitNote
    from pipelines.train.trainer import StageTrainer, trainer_env, wants_pg_cleaner

    if job.workers != resources.num_workers:
        raise ValueError(f"{job.label}: the job is for {job.workers} training worker(s), "
                         f"resources.num_workers is {resources.num_workers}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    nodes = cluster_nodes()
    resources, threads = stage_resources(resources, nodes, job.alone, free_cpus() if job.alone else None, job.beside)
    index = open_split(job.train_split)
    if len(index) < resources.num_workers:
        raise ValueError(f"{job.train_split}: {len(index)} video(s) for {resources.num_workers} training workers")
    if job.ingest == "worker" and resources.num_workers != 1:
        raise ValueError(f"ingest worker needs one training worker, not {resources.num_workers}")
    per_worker = len(index) // resources.num_workers
    local_batch = max(1, job.optim.batch_size // resources.num_workers)
    config = {"job": job, "out_dir": str(out_dir), "tracker": tracker, "run_id": run_id,
              "classes": index.classes, "steps_per_epoch": -(-per_worker // local_batch),
              "threads": threads}
    data = {}
    if job.ingest == "ray_data":
        config["clock"] = epoch_clock()
        data = {"datasets": {DATASET: train_dataset(index, job.clip, job.seed, config["clock"], job.data_cpus,
                                                    job.videos_per_task, job.data_tasks)},
                "dataset_config": data_config()}
    cleaner = wants_pg_cleaner(resources, len(nodes), trial)
    if not cleaner:  # notes stand in for the cleaner: first remove the groups of an attempt that died
        remove_noted_groups(out_dir)
        callbacks = (*callbacks, PlacementGroupNote(str(out_dir)))
    request = f"{resources.num_workers} × {worker_resources(resources)}"
    callbacks = (*callbacks, StartupWaitNote(str(out_dir), job.label, request))  # a silent wait says why
    trainer_env(resources)
    trainer = StageTrainer(train_loop, train_loop_config=config, scaling_config=scaling_config(resources),
                           run_config=run_config(out_dir, resources, callbacks), **data)
    trainer.pg_cleaner = cleaner
    result = trainer.fit()
    if result.error is not None:
        raise result.error
    return {"history": json.loads((out_dir / "history.json").read_text()),
            "eval": json.loads((out_dir / "eval.json").read_text()), "classes": list(index.classes)}
