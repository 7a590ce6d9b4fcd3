"""The study end to end, as users run it: a Ray job on a local 2-CPU cluster, MLflow runs for
every stage, a killed Ray Train worker that does not fail the study, and a rerun that trains
nothing."""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import train_worker_pids

REPO = Path(__file__).resolve().parents[2]
MODELS = ("baseline", "continued", "adversarial", "spatial_adversary", "static_inputs")
HEAD = """
import signal, sys, time, ray
import ray._private.parameter as parameter
_init = parameter.RayParams.__init__
def _own_agent_port(self, *args, **kwargs):  # the session's other Ray holds the default agent port
    kwargs["dashboard_agent_listen_port"] = int(sys.argv[2])
    _init(self, *args, **kwargs)
parameter.RayParams.__init__ = _own_agent_port
ray.init(num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1", dashboard_port=int(sys.argv[1]))
print(ray._private.worker.global_worker.node.all_processes["raylet"][0].process.pid, flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # exit runs ray.shutdown: this cluster only
while True:
    time.sleep(1)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jobs_cluster():
    """A separate local Ray (2 CPUs, dashboard on 127.0.0.1, token authentication, as
    cluster/start_local.sh starts one) that takes Ray Jobs; stopped after."""
    from ray.job_submission import JobSubmissionClient

    token = Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))
    if not token.is_file() or not token.read_text().strip():
        subprocess.run([str(Path(sys.executable).parent / "ray"), "get-auth-token", "--generate"], check=True,
                       capture_output=True)
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "token"  # this client, the head and the jobs' drivers
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # jobs run `python`
    head = subprocess.Popen([sys.executable, "-c", HEAD, str(port), str(free_port())], stdout=subprocess.PIPE,
                            text=True, env=env)
    raylet = int(head.stdout.readline())
    try:
        auth = {"authorization": f"Bearer {token.read_text().strip()}"}
        yield JobSubmissionClient(f"http://127.0.0.1:{port}", headers=auth), raylet
    finally:
        head.send_signal(signal.SIGTERM)
        head.wait(timeout=120)
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


RAY_PACKAGE_RACE = "Failed to download runtime_env file package"  # Ray GCS drops a reused working_dir zip


def submit_job(client, entrypoint: str) -> str:
    """Submit, waiting for the head's job agent (it comes up a little after the head), and submit
    again if Ray lost the uploaded working_dir package of an identical earlier job."""
    runtime_env = {"working_dir": str(REPO), "excludes": ["/.venv/", "/outputs/", "/data/", "/.git/"],
                   "env_vars": {"RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.5"}}
    for _ in range(120):
        try:
            job = client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env)
        except RuntimeError as err:
            if "No available agent" not in str(err):
                raise
            time.sleep(1)
            continue
        for _ in range(60):  # the package race shows in the first seconds of the driver
            status = client.get_job_status(job)
            if status.is_terminal() or "[study] started" in client.get_job_logs(job):
                break
            time.sleep(0.5)
        if not (client.get_job_status(job).is_terminal() and RAY_PACKAGE_RACE in client.get_job_logs(job)):
            return job
    raise AssertionError("the job could not be submitted")


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
def test_study_job_survives_a_killed_worker_tracks_every_stage_and_reruns_without_training(jobs_cluster, tmp_path):
    client, raylet = jobs_cluster
    out = tmp_path / "study"
    killed: list[int] = []
    status, logs = submit(client, out, on_poll=lambda: kill_one_train_worker(raylet, killed))
    assert status == "SUCCEEDED", logs[-4000:]
    assert killed, "no Ray Train worker was seen, so none was killed"
    assert "Report:" in logs and (out / "report" / "report.md").is_file()
    for figure in ("learning_curves.png", "ds_per_class.png", "tsne.png"):
        assert (out / "report" / figure).stat().st_size > 1000

    parents, children = study_runs(out)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    runs = {r.info.run_name: r for r in children[parents[0].info.run_id]}
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
        assert runs[f"pretrain/{model}"].data.params["optim.epochs"] in ("1", "2")
    assert "train/loss" in runs["pretrain/baseline"].data.metrics
    assert runs["decode/synth_source/train"].data.metrics["decoded"] > 0

    status, logs = submit(client, out)
    assert status == "SUCCEEDED", logs[-4000:]
    parents, children = study_runs(out)
    second = parents[-1]
    assert second.data.metrics["stages_trained"] == 0
    rerun = {r.info.run_name: r for r in children[second.info.run_id]}
    trained = [n for n, r in rerun.items() if n.split("/")[0] in ("pretrain", "dynamic_score", "finetune")
               and r.data.tags.get("drl.cached") != "true"]
    assert trained == [] and len(rerun) == len(runs)


def test_config_errors_stop_the_study_before_anything_runs(tmp_path):
    bad = tmp_path / "bad.yaml"
    for text, message in [("benchmark:\n  bias: 2\n", "benchmark.bias: must lie in [0, 1], got 2"),
                          ("algorithm:\n  epsilon: -0.1\n", "algorithm.epsilon: must be >= 0, got -0.1"),
                          ("algorithm:\n  lam: high\n", "algorithm.lam: expected float, got 'high'"),
                          ("pretrain:\n  model:\n    name: r9d\n", "pretrain.model.name: unknown model 'r9d'"),
                          ("drl:\n  algoritms: []\n", "drl.algoritms: unknown key")]:
        bad.write_text(text)
        proc = subprocess.run([sys.executable, "pipelines/full_study.py", "--config", str(bad),
                               "--output-dir", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
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
