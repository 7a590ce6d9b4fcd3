"""Stage: one training run through Ray Train (pretraining, a DRL phase, fine-tuning, or the
spatial distillation of the dynamic score). Its config is a :class:`TrainJob` whose data and
model fields name input roles; they are bound to the inputs' files here."""

from __future__ import annotations

import dataclasses

from drl_core.metrics import keys
from pipelines.stages.base import StageContext, StageResult
from pipelines.train.job import TrainJob
from pipelines.train.launcher import run_train_job


def _path(inputs: dict[str, StageResult], role: str, field: str) -> str:
    if role not in inputs:
        raise ValueError(f"training stage needs an input named {role!r}; it has {', '.join(sorted(inputs))}")
    return inputs[role].outputs[field]


def bind(job: TrainJob, inputs: dict[str, StageResult]) -> TrainJob:
    """Replace the role names in ``job`` by the files of those inputs; a ``spatial_init`` role
    becomes the ``checkpoint`` of the job's spatial model."""
    spatial = _path(inputs, job.spatial_init, "model") if job.spatial_init else ""
    job = dataclasses.replace(
        job,
        train_split=_path(inputs, job.train_split, "path"),
        eval_splits=tuple((name, _path(inputs, role, "path")) for name, role in job.eval_splits),
        init=_path(inputs, job.init, "model") if job.init else "",
        teacher=_path(inputs, job.teacher, "model") if job.teacher else "",
        spatial_init="",
    )
    return with_spatial_checkpoint(job, spatial) if spatial else job


def with_spatial_checkpoint(job: TrainJob, path: str) -> TrainJob:
    """``job`` whose spatial model (the student of a distillation, else the algorithm's) starts
    from the model file ``path``."""
    if job.kind == "distill":
        return dataclasses.replace(job, model=dataclasses.replace(job.model, checkpoint=path))
    spatial = dataclasses.replace(job.algorithm.spatial, checkpoint=path)
    return dataclasses.replace(job, algorithm=dataclasses.replace(job.algorithm, spatial=spatial))


def flat_metrics(job: TrainJob, history: list[dict], evaluation: dict) -> dict[str, float]:
    """The stage's summary metrics: last epoch's training metrics and each evaluation."""
    out = {k: v for k, v in (history[-1] if history else {}).items() if k != "epoch"}
    for split, result in evaluation.items():
        if job.kind == "distill":
            out[f"{keys.DYNAMIC_SCORE}_{split}"] = result["kl"]
            out[f"{keys.AGREEMENT}_{split}"] = result["agreement"]
        else:
            out[f"acc1_{split}"] = result["acc1"]
    return out


def run(ctx: StageContext) -> dict:
    job = dataclasses.replace(bind(ctx.config, ctx.inputs), label=ctx.spec.name)
    out = run_train_job(job, ctx.dir, ctx.study.resources, ctx.tracker, ctx.run_id)
    if ctx.tracker is not None:  # epochs trained before an interrupted study ran again
        import ray

        ray.get(ctx.tracker.log_history.remote(ctx.run_id, out["history"], keys.TRAIN_LOSS))
    return {"model": str(ctx.dir / "model.pt"), "history": out["history"], "eval": out["eval"],
            "classes": out["classes"],
            "metrics": flat_metrics(job, out["history"], out["eval"]),
            "artifacts": [str(ctx.dir / f) for f in ("model.pt", "history.json", "eval.json")]}
