"""One Tune trial: the searched algorithm's DRL phase with sampled weights, through the same
Ray Train loop as the study's training stages, reporting the per-epoch probe to Tune."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import run_tags
from pipelines.config.schema import StudyConfig
from pipelines.names import pretrain_stage
from pipelines.stages.base import StageResult
from pipelines.stages.train import bind
from pipelines.study_graph import decode_name, pretrain_stages, source_tests, static_name
from pipelines.train.epoch_probe import EpochProbe
from pipelines.train.job import TrainJob
from pipelines.tune.space import trial_config



@dataclass
class TrialSetup:
    """What every trial shares: the study config, the finished data/baseline stages, where
    trials write, and the MLflow tracker with the search's parent run."""

    cfg: StudyConfig
    results: dict[str, StageResult]
    root: Path
    tracker: Any = None
    parent_id: str | None = None


def epoch_probe(cfg: StudyConfig, results: dict[str, StageResult]) -> EpochProbe:
    """The per-epoch measurements with every split bound to its decoded folder."""
    path = {name: r.outputs.get("path", "") for name, r in results.items()}
    src = cfg.data.source
    tests = tuple((name, path[decode_name(src, split)]) for name, split in source_tests(cfg))
    downstream = tuple((d.name, path[decode_name(d, d.train_split)], path[decode_name(d, d.test_split)])
                       for d in cfg.data.downstream)
    ds = cfg.dynamic_score
    spatial = ds.spatial  # starting where the study's dynamic-score stages start it
    if static_name(spatial) in results and not spatial.checkpoint:
        spatial = dataclasses.replace(spatial, checkpoint=results[static_name(spatial)].outputs["model"])
    own = tuple((d.name, d.test_clip) for d in cfg.data.downstream if d.test_clip)  # as the linear-probe stages
    return EpochProbe(tests, downstream, spatial, dataclasses.replace(ds.optim, epochs=cfg.tune.ds_epochs),
                      cfg.linear_probe.weight_decay, cfg.linear_probe.max_iter, ds.temperature, own)


def trial_job(cfg: StudyConfig, results: dict[str, StageResult]) -> TrainJob:
    """The study's own ``pretrain/<algorithm>`` job for ``cfg``, bound to the finished stages."""
    name = pretrain_stage(cfg.tune.algorithm)
    spec = next(s for s in pretrain_stages(cfg) if s.name == name)
    job = bind(spec.config, {role: results[dep] for role, dep in spec.deps})
    return dataclasses.replace(job, epoch_probe=epoch_probe(cfg, results))


def trial_dir(root: Path, trial_id: str) -> Path:
    """A trial's own folder: Ray Train checkpoints, ``history.json`` once it trained every epoch."""
    return root / "trials" / trial_id


def run_trial(config: dict[str, Any], setup: TrialSetup) -> None:
    """Tune's function trainable: one MLflow run per trial, then Ray Train with the Tune
    reporting callback. A restarted trial reuses its run and its Ray Train checkpoints."""
    import ray
    import ray.tune
    from ray.tune.integration.ray_train import TuneReportCallback

    from pipelines.train.launcher import run_train_job

    params = dict(config["params"])
    trial_id = ray.tune.get_context().get_trial_id()
    folder = trial_dir(setup.root, trial_id)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "starts.log", "a") as f:  # how often Tune started this trial
        f.write("start\n")
    cfg = trial_config(setup.cfg, params)
    run_id = None
    if setup.tracker is not None:
        run_id = ray.get(setup.tracker.find_run.remote(setup.parent_id, run_tags.TRIAL_ID, trial_id))
        if run_id is None:
            tags = {run_tags.TRIAL_ID: trial_id, run_tags.KIND: run_tags.KIND_TRIAL, run_tags.ALGORITHM: cfg.tune.algorithm}
            run_id = ray.get(setup.tracker.create_run.remote(f"trial/{trial_id}", setup.parent_id, params, tags))
    run_train_job(trial_job(cfg, setup.results), folder, cfg.resources, setup.tracker, run_id,
                  callbacks=(TuneReportCallback(),), trial=True)
