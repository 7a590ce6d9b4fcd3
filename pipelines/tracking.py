"""MLflow tracking for the study: where the store is, and runs that never stay RUNNING.

By default the store is ``sqlite:///<output dir>/mlflow.db`` with artifacts in
``<output dir>/mlartifacts``; ``MLFLOW_TRACKING_URI`` points the study at any server instead.
Parent run ids are passed explicitly (never through MLflow's active-run stack), because that
stack does not survive the hop into Ray workers (ray-project/ray#19978, #19909).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Any, Iterator

EXPERIMENT = "drl-study"


def tracking_uri(output_dir: str | Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(output_dir).resolve()}/mlflow.db"


def ui_command(output_dir: str | Path) -> str:
    uri = tracking_uri(output_dir)
    return f"mlflow ui --host 127.0.0.1 --port 5000 --backend-store-uri {uri}"


def setup(output_dir: str | Path, experiment: str = EXPERIMENT) -> str:
    """Point MLflow at the study's store and make sure the experiment exists; returns its id."""
    import mlflow

    uri = tracking_uri(output_dir)
    mlflow.set_tracking_uri(uri)
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is not None:
        return exp.experiment_id
    artifacts = None if os.environ.get("MLFLOW_TRACKING_URI") else (Path(output_dir).resolve() / "mlartifacts").as_uri()
    return mlflow.create_experiment(experiment, artifact_location=artifacts)


def client() -> Any:
    """An MlflowClient on the current tracking URI (call :func:`setup` first)."""
    from mlflow.tracking import MlflowClient

    return MlflowClient()


def flatten(params: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → dotted keys, the same names the config and Tune use."""
    if isinstance(params, dict):
        out: dict[str, Any] = {}
        for k, v in params.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: params}


@contextlib.contextmanager
def stage_run(name: str, experiment_id: str, parent_id: str | None = None,
              params: dict[str, Any] | None = None) -> Iterator[Any]:
    """An MLflow run (nested under ``parent_id`` if given) that ends FAILED on any exception."""
    client_ = client()
    tags = {"mlflow.parentRunId": parent_id} if parent_id else {}
    run = client_.create_run(experiment_id, run_name=name, tags=tags)
    try:
        if params:
            log_params(client_, run.info.run_id, params)
        yield run
    except BaseException:
        client_.set_terminated(run.info.run_id, "FAILED")
        raise
    client_.set_terminated(run.info.run_id, "FINISHED")


def log_params(client: Any, run_id: str, params: dict[str, Any]) -> None:
    from mlflow.entities import Param

    flat = [Param(k, str(v)[:6000]) for k, v in flatten(params).items()]
    for i in range(0, len(flat), 100):
        client.log_batch(run_id, params=flat[i:i + 100])


def log_metrics(client: Any, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    rows = [Metric(k, float(v), now, step if step is not None else 0) for k, v in metrics.items()
            if isinstance(v, (int, float)) and math.isfinite(float(v))]
    if rows:
        client.log_batch(run_id, metrics=rows)
