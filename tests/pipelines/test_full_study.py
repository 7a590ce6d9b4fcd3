"""The study end to end, as users run it: a Ray job on a local 2-CPU cluster, MLflow runs for
every stage, a killed Ray Train worker that does not fail the study, and a rerun that trains
nothing."""

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from pipelines import run_tags
from pipelines.provenance import cpu_model
from pipelines.report.ds_anatomy import run_anatomy
from pipelines.report.results import main as results_page
from pipelines.report import term_gradients
from pipelines.report.term_gradients import markdown as term_table, measure as measure_terms, measure_group
from drl_core.metrics.keys import HOST_CPU_STEAL, OUTCOME_PREFIXES, STAGES_TRAINED, STUDY_SECONDS
from pipelines.config.schema import StudyConfig
from pipelines.report.table import MODEL_LABELS
from tests.conftest import assert_config_error, train_worker_pids
from tests.pipelines.ray_jobs import jobs_cluster, submit_job  # noqa: F401 - jobs_cluster is a fixture

MODELS = ("baseline", "continued", "adversarial", "spatial_adversary", "static_inputs")


def submit(client, out: Path, timeout: float = 1500, on_poll=None, extra: str = "") -> tuple[str, str]:
    job = submit_job(client, f"python pipelines/full_study.py --smoke --output-dir {out} {extra}".strip())
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.get_job_status(job)
        if status.is_terminal():
            return str(status.value), client.get_job_logs(job)
        if on_poll is not None:
            on_poll()
        time.sleep(0.5)
    client.stop_job(job)
    raise AssertionError(f"job {job} did not finish in {timeout} s:\n{client.get_job_logs(job)[-3000:]}")


def drl_score(client, out: Path, work: Path) -> dict:
    """``drl score`` of the study's baseline on the out-of-context test, as a Ray job; its JSON.
    It cuts its test clips in-process (the study's stages had Ray Data tasks cut them): the
    scores must still be the stages' own."""
    model = next((out / "stages" / "pretrain" / "baseline").glob("*/model.pt"))
    static = next((out / "stages" / "static_pretrain").glob("*/*/model.pt"))  # where the study starts its students
    job = submit_job(client, f"python -m pipelines.cli score --model r3d18 --checkpoint {model} "
                     f"--spatial-checkpoint {static} "
                     f"--data {out / 'shards' / 'synth_source'} --split test_out_of_context "
                     f"--config {out / 'config.yaml'} --set resources.inference=local --output-dir {work} --json")
    deadline = time.time() + 600
    while not client.get_job_status(job).is_terminal() and time.time() < deadline:
        time.sleep(0.5)
    logs = client.get_job_logs(job)
    assert str(client.get_job_status(job).value) == "SUCCEEDED", logs[-3000:]
    assert "[score] probes [" in logs  # the progress bar
    return json.loads(next(line for line in logs.splitlines() if line.startswith('{"model"')))


def kill_one_train_worker(raylet: int, killed: list[int]) -> None:
    """SIGKILL the first Ray Train worker process of the cluster seen (once)."""
    pids = [] if killed else train_worker_pids(raylet)
    if pids:
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])


def study_runs(out: Path):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{out}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("drl-study").experiment_id], max_results=1000)
    parents = sorted((r for r in runs if "mlflow.parentRunId" not in r.data.tags), key=lambda r: r.info.start_time)
    children = {p.info.run_id: [r for r in runs if r.data.tags.get("mlflow.parentRunId") == p.info.run_id]
                for p in parents}
    return parents, children


@pytest.mark.slow
def test_study_job_survives_a_killed_worker_tracks_every_stage_and_reruns_without_training(jobs_cluster, tmp_path,
                                                                                           monkeypatch):
    client, raylet = jobs_cluster
    out = tmp_path / "study"
    killed: list[int] = []
    # every evaluation's test clips cut by Ray Data tasks, in CPUs each stage reserves (2 CPUs)
    status, logs = submit(client, out, on_poll=lambda: kill_one_train_worker(raylet, killed),
                          extra="--set resources.inference=ray_data")
    assert status == "SUCCEEDED", logs[-4000:]
    assert killed, "no Ray Train worker was seen, so none was killed"
    assert "Report:" in logs and (out / "report" / "report.md").is_file()
    for figure in ("learning_curves.png", "ds_per_class.png", "tsne.png"):
        assert (out / "report" / figure).stat().st_size > 1000

    parents, children = study_runs(out)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    runs = {r.info.run_name: r for r in children[parents[0].info.run_id]}
    study = parents[0].data.metrics  # Linux has /proc/stat: the span's stolen share is logged
    assert study[STUDY_SECONDS] > 0 and study[STAGES_TRAINED] > 0 and 0 <= study[HOST_CPU_STEAL] < 1
    assert "of this host's CPU time (steal))" in logs
    assert all(r.info.status == "FINISHED" for r in runs.values())
    for model in MODELS:
        evaluation, ds = runs[f"evaluate/{model}"].data.metrics, runs[f"dynamic_score/{model}"].data.metrics
        for key in ("eval/acc1_in_context", "eval/acc1_out_of_context", "probe/freeze_kl_out_of_context",
                    "probe/shuffle_kl_in_context"):
            assert math.isfinite(evaluation[key]), (model, key)
        for key in ("ds/kl_in_context", "ds/kl_out_of_context", "ds/agreement_out_of_context"):
            assert math.isfinite(ds[key]), (model, key)
        for d in ("synth_paths", "synth_tempo"):
            assert math.isfinite(runs[f"finetune/{model}/{d}"].data.metrics["acc1_test"])
            assert math.isfinite(runs[f"linear_probe/{model}/{d}"].data.metrics["linear_probe/acc1"])
            few = runs[f"fewshot/{model}/{d}"].data.metrics
            assert 0 <= few["fewshot/5way1shot/acc"] <= 1 and math.isfinite(few["fewshot/5way1shot/ci95"])
        assert runs[f"pretrain/{model}"].data.params["optim.epochs"] in ("1", "2")
    assert "train/loss" in runs["pretrain/baseline"].data.metrics
    outcomes = {m: runs[f"pretrain/{m}"].data.metrics for m in MODELS}  # each model's outcome on its own run
    keys = {k for k in outcomes["baseline"] if k.startswith(OUTCOME_PREFIXES)}
    assert {"ds/kl_out_of_context", "eval/acc1_out_of_context", "linear_probe/synth_paths/acc1",
            "finetune/synth_tempo/acc1", "fewshot/synth_paths/5way1shot/acc"} <= keys
    for model in MODELS:
        assert {k for k in outcomes[model] if k.startswith(OUTCOME_PREFIXES)} == keys, model
        assert outcomes[model]["ds/kl_out_of_context"] == runs[f"dynamic_score/{model}"].data.metrics[
            "ds/kl_out_of_context"]
        assert runs[f"pretrain/{model}"].data.tags[run_tags.MODEL] == model
    assert outcomes["static_inputs"]["train/loss"] != runs["dynamic_score/static_inputs"].data.metrics["train/loss"]
    report = (out / "report" / "report.md").read_text()
    assert report.startswith("# Study report\n\n## Verdict") and "- **Alg. 3: static inputs**:" in report
    assert (out / "report" / "ds_vs_accuracy.png").stat().st_size > 1000

    score = drl_score(client, out, tmp_path / "score")  # `drl score` on the baseline: the stage's own DS
    assert score["ds"] == pytest.approx(runs["dynamic_score/baseline"].data.metrics["ds/kl_out_of_context"],
                                        rel=1e-6, abs=1e-7)
    assert score["agreement"] == runs["dynamic_score/baseline"].data.metrics["ds/agreement_out_of_context"]
    assert score["acc1"] == runs["evaluate/baseline"].data.metrics["eval/acc1_out_of_context"]
    assert score["freeze_kl"] == pytest.approx(
        runs["evaluate/baseline"].data.metrics["probe/freeze_kl_out_of_context"], rel=1e-5, abs=1e-6)
    stage = json.loads(next((out / "stages" / "dynamic_score" / "baseline").glob("*/result.json")).read_text())
    per_class = stage["outputs"]["eval"]["out_of_context"]["per_class"]
    assert score["per_class"] == pytest.approx(per_class, rel=1e-6, abs=1e-7) and len(per_class) == 10
    assert runs["decode/synth_source/train"].data.metrics["decoded"] > 0
    tags = parents[0].data.tags
    assert "--smoke" in tags[run_tags.COMMAND] and tags[run_tags.MACHINE].startswith("Ray cluster of 2 CPUs")
    assert f"torch {torch.__version__}" in tags[run_tags.SOFTWARE] and "pyarrow " in tags[run_tags.SOFTWARE]
    for name in ("pretrain/baseline", "dynamic_score/static_inputs", "finetune/continued/synth_tempo"):
        assert runs[name].data.tags[run_tags.KERNELS].startswith(f"cpu: {cpu_model()}, "), name  # each training stage

    page = tmp_path / "docs" / "RESULTS.md"  # the results page needs every metric the study tracks
    page.parent.mkdir()
    measured = []  # the term gradients the page measures, checked below (measured once: they take a while)
    monkeypatch.setattr(term_gradients, "measure_group", lambda *a: measured.append(measure_group(*a)) or measured[-1])
    assert results_page(["--store", str(out), "--out", str(page), "--anatomy", "--terms", "1"]) == 0
    text = page.read_text()
    assert all(f"| {MODEL_LABELS[m]} |" in text for m in MODELS) and "### Goal check" in text
    assert (page.parent / "results" / "seed0_tsne.png").stat().st_size > 1000
    assert "### DS anatomy at bias" in text and "#### test out of context" in text
    assert "## The DRL terms' pull on the video model" in text and "| Alg. 1: adversarial augmentation | end | ce_adv |" in text
    anatomy = run_anatomy({"store": str(out), "run": parents[0].info.run_id})
    for model in MODELS:  # the anatomy reloads the stored models: its DS is the stage's DS
        for split in ("in_context", "out_of_context"):
            logged = runs[f"dynamic_score/{model}"].data.metrics[f"ds/kl_{split}"]
            assert anatomy[model][f"test_{split}"]["ds"] == pytest.approx(logged, rel=1e-4, abs=1e-5)
    per_seed, = measured
    with pytest.raises(ValueError, match="no finished study at bias 0.123"):
        measure_terms(out, 0.123, batches=1)
    terms = per_seed[0]  # each DRL stage rebuilt at its phase's start and end
    assert set(terms) == {"adversarial", "spatial_adversary", "static_inputs"}
    for model, when in terms.items():
        for t in when.values():
            assert list(t["terms"])[0] == "ce" and len(t["terms"]) == 2 and t["terms"]["ce"].cosine == pytest.approx(1)
            assert all(math.isfinite(g.norm) and g.norm > 0 for g in t["terms"].values()), model
        assert when["start"]["terms"]["ce"].value != when["end"]["terms"]["ce"].value  # the last checkpoint loaded
        assert bool(when["start"]["spatial"]) == (model != "static_inputs")
        assert all(0 <= a <= 1 for t in when.values() for a in t["spatial"].values())
    assert "| Alg. 2: spatial adversary | end | kd_evasion |" in term_table(per_seed, 1)

    status, logs = submit(client, out, extra="--seeds 0")  # the same study, through the seed loop
    assert status == "SUCCEEDED", logs[-4000:]
    parents, children = study_runs(out)
    second = parents[-1]
    assert second.data.metrics[STAGES_TRAINED] == 0
    rerun = {r.info.run_name: r for r in children[second.info.run_id]}
    trained = [n for n, r in rerun.items() if n.split("/")[0] in ("static_pretrain", "pretrain", "dynamic_score", "finetune")
               and r.data.tags.get(run_tags.CACHED) != "true"]
    assert trained == [] and len(rerun) == len(runs)


def test_seeds_and_biases_plan_one_study_per_pair():
    from pipelines.config.loader import load_config
    from pipelines.full_study import plan

    cfg = load_config(StudyConfig, None, {"seed": 7})
    assert [(c.seed, c.benchmark.bias) for c in plan(cfg, None, None)] == [(7, cfg.benchmark.bias)]
    pairs = [(c.seed, c.benchmark.bias) for c in plan(cfg, [0, 1], [0.0, 0.5])]
    assert pairs == [(0, 0.0), (1, 0.0), (0, 0.5), (1, 0.5)]
    assert plan(cfg, [2], None)[0].algorithm == cfg.algorithm


def test_config_errors_stop_the_study_before_anything_runs(tmp_path):
    bad = tmp_path / "bad.yaml"
    for text, message in [("benchmark:\n  bias: 2\n", "benchmark.bias: must lie in [0, 1], got 2"),
                          ("algorithm:\n  epsilon: -0.1\n", "algorithm.epsilon: must be >= 0, got -0.1"),
                          ("algorithm:\n  lam: high\n", "algorithm.lam: expected float, got 'high'"),
                          ("pretrain:\n  model:\n    name: r9d\n", "pretrain.model.name: unknown model 'r9d'"),
                          ("drl:\n  algoritms: []\n", "drl.algoritms: unknown key")]:
        bad.write_text(text)
        assert_config_error("pipelines/full_study.py", ["--config", str(bad), "--output-dir", str(tmp_path / "out")],
                            message)
    for sets, message in [(["--set", "algorithm.lam=high"], "algorithm.lam: expected float, got 'high'"),
                          (["--set", "seed"], "--set 'seed': expected key.path=value"),
                          (["--set", "benchmark.biass=0.5"], "benchmark.biass: unknown key"),
                          (["--biases", "0.5", "1.5"], "benchmark.bias: must lie in [0, 1], got 1.5")]:
        assert_config_error("pipelines/full_study.py", [*sets, "--output-dir", str(tmp_path / "out")], message)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_killed_driver_continues_from_the_last_finished_stage_and_epoch(jobs_cluster, tmp_path):
    client, _ = jobs_cluster
    out = tmp_path / "study"
    config = tmp_path / "small.yaml"  # a smaller smoke study: one DRL algorithm, one downstream dataset
    config.write_text("data:\n  downstream:\n    - {name: synth_paths, test_split: test, ooc_split: ''}\n"
                      "drl:\n  algorithms: [static_inputs]\n  control: false\n"
                      "pretrain:\n  optim: {epochs: 8, lr: 0.1, step_size: 4, batch_size: 4}\n")
    job = submit_job(client, f"python pipelines/full_study.py --smoke --config {config} --output-dir {out}")
    deadline = time.time() + 900
    checkpoints = []
    while time.time() < deadline and not checkpoints:
        checkpoints = list(out.glob("stages/pretrain/baseline/*/ray_train/checkpoint_manager_snapshot.json"))
        assert not client.get_job_status(job).is_terminal(), client.get_job_logs(job)[-3000:]
        time.sleep(0.1)
    driver = subprocess.run(["pgrep", "-f", f"full_study.py --smoke --config {config}"],
                            capture_output=True, text=True).stdout.split()
    assert checkpoints and driver
    for pid in driver:
        os.kill(int(pid), signal.SIGKILL)
    while not client.get_job_status(job).is_terminal():
        time.sleep(0.5)
    assert not (out / "report").exists()

    status, logs = submit(client, out, extra=f"--config {config}")
    assert status == "SUCCEEDED", logs[-4000:]
    assert "reused generate" in logs and "reused pretrain/baseline" not in logs
    history = json.loads(next(out.glob("stages/pretrain/baseline/*/history.json")).read_text())
    assert [row["epoch"] for row in history] == list(range(8))
    assert history[-1]["train/resumptions"] >= 1  # continued inside the stage, from its checkpoint
    parents, _ = study_runs(out)
    assert [p.info.status for p in parents] == ["KILLED", "FINISHED"]  # the stale run was closed


def test_the_stage_table_lists_each_stage_and_the_time_per_kind():
    from pipelines.full_study import stage_table
    from pipelines.stages.base import StageResult

    results = {n: StageResult(n, "k", "d", {}, cached=c, seconds=s) for n, c, s in
               [("pretrain/baseline", False, 30.0), ("pretrain/continued", True, 0.5), ("report", False, 2.0)]}
    lines = stage_table(results).splitlines()
    assert lines[1].split() == ["pretrain/baseline", "ran", "30.0"]
    assert lines[2].split() == ["pretrain/continued", "reused", "0.5"]
    assert lines[-1] == "per kind: pretrain 30 s, report 2 s"
