"""MLflow tracking for the study: where the store is, and one writer for all of it.

By default the store is ``sqlite:///<output dir>/mlflow.db`` with artifacts in
``<output dir>/mlartifacts``; ``MLFLOW_TRACKING_URI`` points the study at any server instead.

Concurrent stages never open the store themselves. Every write goes through one
:class:`Tracker`, which the study runs as a single Ray actor (:func:`start_tracker`): its
methods execute one at a time, so sqlite is never written by two processes and never locks.
Parent run ids are passed explicitly (never through MLflow's active-run stack), because that
stack does not survive the hop into Ray workers (ray-project/ray#19978, #19909).
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any

from pipelines import run_tags
from pipelines.mlflow_store import TrackingError, open_client, tracking_uri

EXPERIMENT = "drl-study"
EXPERIMENT_KIND_TAG, EXPERIMENT_KIND = "mlflow.experimentKind", "custom_model_development"
__all__ = ["EXPERIMENT", "Tracker", "TrackingError", "start_tracker",
           "tracking_uri", "ui_command"]


def folder_key(output_dir: str | Path) -> str:
    return hashlib.sha256(str(Path(output_dir).resolve()).encode()).hexdigest()[:16]


def _literal(value: str) -> str:
    """``value`` as a quoted MLflow filter literal; a value with a quote cannot be one."""
    if "'" in value or "\\" in value:
        raise ValueError(f"{value!r}: a tag value with a quote or backslash cannot be searched in MLflow")
    return f"'{value}'"


def ui_command(output_dir: str | Path) -> str:
    uri = tracking_uri(output_dir)
    return f"mlflow ui --host 127.0.0.1 --port 5000 --backend-store-uri {uri}"


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → dotted keys, the same names the config and Tune use."""
    if isinstance(params, dict):
        out: dict[str, Any] = {}
        for k, v in params.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: params}


class Tracker:
    """All MLflow writes of one study. Run it as one Ray actor (see :func:`start_tracker`)."""

    def __init__(self, output_dir: str, uri: str | None = None, experiment: str = EXPERIMENT) -> None:
        self.output_dir = str(Path(output_dir).resolve())
        self.output_key = folder_key(self.output_dir)
        self.uri = uri or tracking_uri(output_dir)
        self.client = open_client(self.uri)
        exp = self.client.get_experiment_by_name(experiment)
        if exp is None:
            local = self.uri == f"sqlite:///{self.output_dir}/mlflow.db"
            artifacts = (Path(output_dir).resolve() / "mlartifacts").as_uri() if local else None
            self.experiment_id = self.client.create_experiment(experiment, artifact_location=artifacts)
        else:
            self.experiment_id = exp.experiment_id
        # MLflow 3's UI opens an experiment on its GenAI pages unless told it holds model runs.
        self.client.set_experiment_tag(self.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)

    def create_run(self, name: str, parent_id: str | None = None, params: dict | None = None,
                   tags: dict[str, str] | None = None) -> str:
        """A new run (nested under ``parent_id`` if given) with flattened ``params``; returns its id."""
        all_tags = {run_tags.OUTPUT_DIR: self.output_dir, run_tags.OUTPUT_KEY: self.output_key, **(tags or {})}
        if parent_id:
            all_tags["mlflow.parentRunId"] = parent_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags=all_tags)
        if params:
            self.log_params(run.info.run_id, params)
        return run.info.run_id

    def log_params(self, run_id: str, params: dict) -> None:
        from mlflow.entities import Param

        flat = [Param(k, str(v)[:6000]) for k, v in flatten(params).items()]
        for i in range(0, len(flat), 100):
            self.client.log_batch(run_id, params=flat[i:i + 100])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> int:
        """Log the finite numbers of ``metrics`` at ``step``; returns how many were logged."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        rows = [Metric(k, float(v), now, step) for k, v in metrics.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))]
        for i in range(0, len(rows), 500):
            self.client.log_batch(run_id, metrics=rows[i:i + 500])
        return len(rows)

    def log_history(self, run_id: str, history: list[dict[str, float]], key: str) -> int:
        """Per-epoch metrics (each dict has ``epoch``) as metric histories, skipping the epochs
        whose ``key`` this run already holds (logged live). Returns how many epochs were added."""
        have = {m.step for m in self.client.get_metric_history(run_id, key)}
        rows = [r for r in history if int(r["epoch"]) not in have]
        for row in rows:
            self.log_metrics(run_id, {k: v for k, v in row.items() if k != "epoch"}, int(row["epoch"]))
        return len(rows)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        for k, v in tags.items():
            self.client.set_tag(run_id, k, str(v))

    def log_artifact(self, run_id: str, path: str, artifact_path: str | None = None) -> None:
        if Path(path).is_dir():
            self.client.log_artifacts(run_id, path, artifact_path)
        else:
            self.client.log_artifact(run_id, path, artifact_path)

    def find_run(self, parent_id: str | None, tag: str, value: str) -> str | None:
        """The id of the newest run of this output folder whose tag ``tag`` is ``value`` (and,
        given ``parent_id``, nested under it), or None."""
        query = f"tags.`{tag}` = {_literal(value)} and tags.`{run_tags.OUTPUT_KEY}` = '{self.output_key}'"
        if parent_id:
            query += f" and tags.mlflow.parentRunId = {_literal(parent_id)}"
        runs = self.client.search_runs([self.experiment_id], query, max_results=1, order_by=["attributes.start_time DESC"])
        return runs[0].info.run_id if runs else None

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status)

    def close_stale_runs(self) -> int:
        """Mark runs of this output folder still RUNNING (a driver that was killed) as KILLED."""
        stale = self.client.search_runs(
            [self.experiment_id], f"attributes.status = 'RUNNING' and tags.`{run_tags.OUTPUT_KEY}` = '{self.output_key}'")
        for run in stale:
            self.client.set_tag(run.info.run_id, run_tags.NOTE, "its driver stopped before the run ended")
            self.client.set_terminated(run.info.run_id, "KILLED")
        return len(stale)

    def experiment(self) -> str:
        return self.experiment_id


class TrackerActor(Tracker):
    """The Tracker a Ray actor holds: a store it cannot open is a one-line :class:`TrackingError`
    raised by its first call, where an error of the constructor would reach the caller as a
    dead actor's traceback."""

    def __init__(self, *args: Any) -> None:
        self.failure = None
        try:
            super().__init__(*args)
        except TrackingError as err:
            self.failure = str(err)

    def experiment(self) -> str:
        if self.failure:
            raise TrackingError(self.failure)
        return super().experiment()


def start_tracker(output_dir: str | Path, name: str | None = None) -> Any:
    """Start the study's one :class:`Tracker` as a Ray actor on this (the driver's) node.

    It needs no CPU, and it runs where the output folder (and so the sqlite store) is. ``name``
    makes it a named actor (``ray.get_actor(name)``), for code that outlives a handle. A store it
    cannot open raises :class:`TrackingError` here (one line), and the actor is gone.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = ray.get_runtime_context().get_node_id()
    actor = ray.remote(TrackerActor).options(
        num_cpus=0, max_concurrency=1, name=name,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
    ).remote(str(output_dir), tracking_uri(output_dir))
    try:
        ray.get(actor.experiment.remote())  # surfaces a bad store now, not at the first write
    except TrackingError as err:  # a RayTaskError that is one; its cause is the one line
        ray.kill(actor)
        raise TrackingError(str(getattr(err, "cause", None) or err)) from None
    return actor
