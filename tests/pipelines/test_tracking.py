"""One writer for the MLflow store: concurrent stages log through it and nothing is lost."""

import math

from pipelines import run_tags
from pipelines.tracking import Tracker, start_tracker


def test_concurrent_stages_log_every_run_and_metric_intact(ray_local, tmp_path):
    from mlflow.tracking import MlflowClient

    tracker = start_tracker(tmp_path)
    parent = ray_local.get(tracker.create_run.remote("study", None, {"a": {"b": 1}}))

    @ray_local.remote(num_cpus=0.25)
    def stage(i: int, tracker, parent: str) -> str:
        run = ray_local.get(tracker.create_run.remote(f"stage {i}", parent, {"index": i}))
        for step in range(30):  # as a training stage logs each epoch, without waiting
            tracker.log_metrics.remote(run, {"loss": 1 / (step + 1), "index": i}, step)
        ray_local.get(tracker.end_run.remote(run))
        return run

    run_ids = ray_local.get([stage.remote(i, tracker, parent) for i in range(8)])
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    assert client.get_run(parent).data.params["a.b"] == "1"
    for i, run_id in enumerate(run_ids):
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED" and run.data.tags["mlflow.parentRunId"] == parent
        history = client.get_metric_history(run_id, "loss")
        assert sorted(m.step for m in history) == list(range(30))
        assert all(math.isclose(m.value, 1 / (m.step + 1), rel_tol=1e-6) for m in history)
        assert client.get_run(run_id).data.metrics["index"] == i


def test_runs_left_running_by_a_killed_driver_are_closed(tmp_path):
    tracker = Tracker(str(tmp_path))
    stale = tracker.create_run("study")
    other = Tracker(str(tmp_path / "elsewhere"), tracker.uri).create_run("other study")
    assert tracker.close_stale_runs() == 1
    assert tracker.client.get_run(stale).info.status == "KILLED"
    assert tracker.client.get_run(other).info.status == "RUNNING"
    assert tracker.client.get_run(stale).data.tags[run_tags.OUTPUT_DIR] == str(tmp_path.resolve())


def test_nan_and_non_numbers_are_not_logged(tmp_path):
    tracker = Tracker(str(tmp_path))
    run = tracker.create_run("stage")
    assert tracker.log_metrics(run, {"ok": 1.0, "nan": float("nan"), "text": "x", "flag": True}) == 1


def test_the_experiment_opens_on_the_runs_table_in_mlflow_3(tmp_path):
    from pipelines.tracking import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG

    tracker = Tracker(str(tmp_path))
    tags = tracker.client.get_experiment(tracker.experiment_id).tags
    assert tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND == "custom_model_development"
