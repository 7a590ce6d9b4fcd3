"""The one training loop every training stage (and every Tune trial) runs on each Ray Train worker.

It builds the job's networks and algorithm, wraps them for DDP with ``prepare_model``, resumes
from ``ray.train.get_checkpoint()`` (after a lost worker, or when an interrupted study runs
again), runs drl_core's epoch loop (``fit``) on this worker's share of the Ray Data stream
(:mod:`pipelines.data.ray_ingest`), and reports metrics and a checkpoint every epoch. Rank 0 logs each epoch to MLflow through the study's
tracker and, at the end, writes ``model.pt``, ``history.json`` and ``eval.json``.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from drl_core.algorithms import SpatialDistillation, build_algorithm
from drl_core.algorithms.base import Algorithm
from drl_core.data.transforms import DeviceTransform
from drl_core.engine import Precision, fit, make_optimizer, make_scheduler, seed_everything
from drl_core.metrics import keys
from drl_core.models import build_model
from pipelines import run_tags
from pipelines.evaluation import evaluate_job
from pipelines.host_cpu import StealMeter
from pipelines.memory import peak_rss_mb
from pipelines.data.clips import train_loader
from pipelines.data.ray_ingest import DATASET, host_batches
from pipelines.data.shards import open_split
from pipelines.provenance import kernels
from pipelines.train.collectives import barrier, mean_over_workers
from pipelines.train.job import TrainJob
from pipelines.train.model_file import load_model, reset_head, save_model
from pipelines.train.progress import Progress
from pipelines.train.trainer import quiet_reports

STATE_FILE = "state.pt"


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or the module itself)."""
    return getattr(module, "module", module)


def build_job_algorithm(job: TrainJob, classes: tuple[str, ...]) -> tuple[Algorithm, nn.Module]:
    """The algorithm a job trains and the network it saves (the video model, or the student)."""
    n = len(classes)
    if job.kind == "distill":
        teacher, _, teacher_classes = load_model(job.teacher)  # the student mimics the teacher's outputs
        student = build_model(job.model, len(teacher_classes))
        return SpatialDistillation(teacher, student, job.algorithm.temperature), student
    if job.init:
        video, _, init_classes = load_model(job.init)
        if job.reset_head or len(init_classes) != n:
            reset_head(video, n)
    else:
        video = build_model(job.model, n)
    needs_spatial = job.algorithm.name in ("adversarial", "spatial_adversary")
    spatial = build_model(job.algorithm.spatial, n) if needs_spatial else None
    return build_algorithm(job.algorithm, video, spatial, job.clip.mean, job.clip.std), video


def training_state(algo: nn.Module, optimizer, scheduler, epoch: int, history: list[dict],
                   resumptions: int) -> dict[str, Any]:
    """What an epoch checkpoint holds: tensors, numbers, strings and containers only."""
    return {"algorithm": unwrap(algo).state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "epoch": epoch, "history": history, "resumptions": resumptions}


def read_state(path: str) -> dict[str, Any]:
    """An epoch checkpoint's state, unpickled with ``weights_only=True``: a planted file that
    would run code on load is refused, with a one-line error naming it."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise RuntimeError(f"{path}: refused to load the checkpoint state (not plain weights: "
                           f"{str(err).splitlines()[0]})") from None


def restore(algo: nn.Module, optimizer, scheduler) -> tuple[int, list[dict], int]:
    """Load the latest reported checkpoint if Ray Train has one (a restarted worker group, or
    an interrupted study run again); returns (next epoch, history, resumptions so far)."""
    import ray.train

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return 0, [], 0
    with checkpoint.as_directory() as folder:
        state = read_state(os.path.join(folder, STATE_FILE))
    unwrap(algo).load_state_dict(state["algorithm"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    print(f"[train] resumed after epoch {state['epoch'] + 1}", flush=True)
    return state["epoch"] + 1, state["history"], state.get("resumptions", 0) + 1


def report_epoch(algo: nn.Module, optimizer, scheduler, epoch: int, history: list[dict], rank: int,
                 resumptions: int) -> None:
    """``ray.train.report`` this epoch's metrics; rank 0 attaches the checkpoint."""
    import ray.train

    metrics = history[-1]
    if rank != 0:
        ray.train.report(metrics, checkpoint=None)
        return
    with tempfile.TemporaryDirectory() as folder:
        state = training_state(algo, optimizer, scheduler, epoch, history, resumptions)
        torch.save(state, os.path.join(folder, STATE_FILE))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))


def epoch_stream(shard, job: TrainJob, clock, rank: int, world: int, batch: int, use_cuda: bool):
    """``epoch -> batches`` over this worker's Ray Data shard. Before each epoch every worker has
    finished the last one (so no task of it is still sampling) and rank 0 sets the clock."""
    def batches(epoch: int):
        barrier()
        if rank == 0:
            import ray

            ray.get(clock.set.remote(epoch))
        return host_batches(shard, batch, job.prefetch_batches, pin_memory=use_cuda)

    return batches


def train_loop(config: dict[str, Any]) -> None:
    """``train_loop_per_worker`` of the TorchTrainer: ``config`` holds ``job``, ``out_dir``,
    ``clock`` (the data's epoch clock), and optionally ``tracker`` (an actor handle) with the
    stage's MLflow ``run_id``. The epochs are drl_core's :func:`~drl_core.engine.fit`; this
    function only supplies its data and its hooks (reporting, checkpoints, the Tune probe)."""
    import ray.train
    import ray.train.torch

    job: TrainJob = config["job"]
    quiet_reports()
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    device = ray.train.torch.get_device()
    seed_everything(job.seed * 1000 + rank, job.deterministic)
    torch.set_num_threads(config.get("threads", 1))  # Ray gives a fractional-CPU worker one thread
    classes = tuple(config["classes"])
    algo, network = build_job_algorithm(job, classes)
    precision = Precision()
    # On GPUs the 5-D weights take the channels-last-3d layout before DDP wraps them, so that its
    # gradient buckets are laid out like the gradients (after, each step would copy between layouts).
    precision.prepare_model(algo, device)
    algo = ray.train.torch.prepare_model(algo)
    optimizer = make_optimizer(algo.parameters(), job.optim)
    scheduler = make_scheduler(optimizer, job.optim)
    start, history, resumptions = restore(algo, optimizer, scheduler)
    if history and start >= job.optim.epochs:
        # Restored after its last epoch (a Tune trial stopped between its last report and Tune
        # recording the end): the last epoch's metrics again, else its reporters (Tune's) get none.
        ray.train.report(history[-1], checkpoint=None)
    batch = max(1, job.optim.batch_size // world)  # the config's batch size is global
    if job.ingest == "ray_data":
        stream = epoch_stream(ray.train.get_dataset_shard(DATASET), job, config["clock"], rank, world, batch,
                              device.type == "cuda")
    else:  # the one worker cuts the same clips itself (pipelines.data.clips)
        stream = train_loader(open_split(job.train_split), job.clip, batch, job.seed)
    tracker, run_id = config.get("tracker"), config.get("run_id")
    if rank == 0 and tracker is not None:  # what this stage's numbers were computed with
        tracker.set_tags.remote(run_id, {run_tags.KERNELS: kernels(device)})
    progress = Progress(job.label, job.optim.epochs, config.get("steps_per_epoch", 0), rank)
    steal = StealMeter()  # each epoch's share; a slow epoch on a shared VM may be its neighbours' doing

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        metrics[keys.PEAK_RSS_MB] = peak_rss_mb()
        share = steal.lap()
        if share is not None:
            metrics[keys.EPOCH_STEAL] = share
        history.append({"epoch": epoch, **mean_over_workers(metrics), keys.RESUMPTIONS: resumptions})
        progress.epoch_done(epoch, history[-1])
        if job.epoch_probe is not None and rank == 0:  # a Tune trial's per-epoch objective
            from pipelines.train.epoch_probe import measure

            history[-1].update(measure(job.epoch_probe, network, len(classes), job.train_split, job.clip,
                                       job.seed, job.inference_stream, device))
        report_epoch(algo, optimizer, scheduler, epoch, history, rank, resumptions)
        if rank == 0 and tracker is not None:
            tracker.log_metrics.remote(run_id, {k: v for k, v in history[-1].items() if k != "epoch"}, epoch)

    fit(algo, stream, job.optim, device, on_epoch=on_epoch, start_epoch=start, optimizer=optimizer,
        scheduler=scheduler, inputs=DeviceTransform.of(job.clip), on_step=progress.step,
        precision=precision)
    if rank == 0:
        finish(job, unwrap(algo), network, classes, history, Path(config["out_dir"]), device)


def finish(job: TrainJob, algo: Algorithm, network: nn.Module, classes: tuple[str, ...],
           history: list[dict], out: Path, device: torch.device) -> None:
    """Rank 0, after the last epoch: write the model, the history and the evaluation."""
    out.mkdir(parents=True, exist_ok=True)
    save_model(out / "model.pt", network, job.model, classes)
    (out / "history.json").write_text(json.dumps(history, indent=1))
    results = evaluate_job(job, algo, network, device)
    (out / "eval.json").write_text(json.dumps(results, indent=1))
