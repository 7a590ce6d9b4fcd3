"""The DAG runner: concurrency, caching by key, invalidation of dependants only, failure isolation,
and MLflow runs written through the single tracker."""

import json

import pytest

from pipelines.stages import runner as runner_mod
from pipelines.stages.base import StageSpec
from pipelines.stages.runner import StudyFailed, StudyRunner, validate


@pytest.fixture(autouse=True)
def record_kind(monkeypatch):
    monkeypatch.setitem(runner_mod.KINDS, "record", "tests.pipelines.stage_kinds")


def spec(name, deps=(), **config):
    return StageSpec(name, "record", {"value": 1, **config}, tuple((d, d) for d in deps), resources={"num_cpus": 1})


def diamond(**overrides):
    """a → (b, c) → d, plus an independent e."""
    cfg = {name: overrides.get(name, {}) for name in "abcde"}
    return [spec("a", **cfg["a"]), spec("b", ["a"], **cfg["b"]), spec("c", ["a"], **cfg["c"]),
            spec("d", ["b", "c"], **cfg["d"]), spec("e", **cfg["e"])]


def runs_log(out):
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]


def test_stages_run_concurrently_and_pass_results_downstream(ray_local, tmp_path):
    # b and c each wait for the other to start: only a runner that runs them at once finishes
    results = StudyRunner(diamond(b={"meet": "c"}, c={"meet": "b"}), None, tmp_path, log=lambda m: None).run()
    assert results["d"].outputs["total"] == 5  # a(1) + b(1+1) + c(1+1) → d = 1 + 2 + 2
    rows = {r["stage"]: r for r in runs_log(tmp_path)}
    assert rows["b"]["start"] < rows["c"]["end"] and rows["c"]["start"] < rows["b"]["end"]  # overlapped


def test_finished_stages_are_reused_and_a_change_reruns_only_its_dependants(ray_local, tmp_path):
    StudyRunner(diamond(), None, tmp_path, log=lambda m: None).run()
    again = StudyRunner(diamond(), None, tmp_path, log=lambda m: None).run()
    assert all(r.cached for r in again.values()) and len(runs_log(tmp_path)) == 5
    changed = StudyRunner(diamond(b={"value": 7}), None, tmp_path, log=lambda m: None).run()
    rerun = [r["stage"] for r in runs_log(tmp_path)[5:]]
    assert sorted(rerun) == ["b", "d"]
    assert changed["d"].outputs["total"] == 1 + 8 + 2 and changed["c"].cached


def test_a_failed_stage_skips_its_dependants_only(ray_local, tmp_path):
    with pytest.raises(StudyFailed, match=r"b: .*failing as asked.*\(1 dependent stages did not run\)"):
        StudyRunner(diamond(b={"fail": True}), None, tmp_path, log=lambda m: None).run()
    ran = {r["stage"] for r in runs_log(tmp_path)}
    assert ran == {"a", "c", "e"}


def test_a_failed_stage_s_noted_placement_groups_are_removed(ray_local, tmp_path):
    import ray

    with pytest.raises(StudyFailed, match="placement group left behind"):
        StudyRunner([spec("a", leave_group=True)], None, tmp_path, log=lambda m: None).run()
    group = (tmp_path / "left_group").read_text()
    assert ray.util.placement_group_table()[group]["state"] == "REMOVED"


def test_training_pool_limits_concurrency(ray_local, tmp_path):
    specs = [StageSpec(n, "record", {"value": 1, "sleep": 0.5}, pool="train", resources={"num_cpus": 0})
             for n in "xyz"]
    StudyRunner(specs, None, tmp_path, log=lambda m: None, limits={"train": 1}).run()
    rows = sorted(runs_log(tmp_path), key=lambda r: r["start"])
    assert all(a["end"] <= b["start"] for a, b in zip(rows, rows[1:]))


def test_a_stage_with_data_cpus_runs_in_its_own_placement_group_removed_after(ray_local, tmp_path):
    import ray

    specs = [StageSpec("e", "record", {"value": 1}, resources={"num_cpus": 1}, data_cpus=0.5)]
    out = StudyRunner(specs, None, tmp_path, log=lambda m: None).run()["e"].outputs
    assert out["bundles"] == [{"CPU": 1.0}, {"CPU": 0.5}]
    assert ray.util.placement_group_table()[out["group"]]["state"] == "REMOVED"


def test_graph_errors_name_the_stage():
    with pytest.raises(ValueError, match="'b': input 'zz' names 'zz'"):
        validate([spec("a"), spec("b", ["zz"])])
    with pytest.raises(ValueError, match="stage 'a' appears twice"):
        validate([spec("a"), spec("a")])


def test_stage_runs_and_metrics_reach_mlflow_through_the_tracker(ray_local, tmp_path):
    from mlflow.tracking import MlflowClient

    from pipelines.tracking import start_tracker

    tracker = start_tracker(tmp_path)
    parent = ray_local.get(tracker.create_run.remote("study", None, {"seed": 0}))
    with pytest.raises(StudyFailed):
        StudyRunner(diamond(c={"fail": True}), None, tmp_path, tracker, parent, log=lambda m: None).run()
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    runs = {r.info.run_name: r for r in client.search_runs([client.get_experiment_by_name("drl-study").experiment_id])}
    assert runs["a"].data.tags["mlflow.parentRunId"] == parent
    assert runs["a"].info.status == "FINISHED" and runs["a"].data.metrics["total"] == 1
    assert runs["c"].info.status == "FAILED" and "d" not in runs
    assert runs["b"].data.params["value"] == "1"
