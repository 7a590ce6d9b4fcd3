"""The study entrypoint at smoke size: generate, decode, and MLflow runs that say so."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_study_as_a_script_writes_shards_and_mlflow_runs(tmp_path):
    from mlflow.tracking import MlflowClient

    out = tmp_path / "out"
    cmd = [sys.executable, "pipelines/full_study.py", "--smoke", "--output-dir", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a fresh local Ray
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mlflow ui" in proc.stdout and str(out) in proc.stdout
    assert (out / "config.yaml").is_file()
    summaries = list((out / "shards").rglob("summary.json"))
    assert len(summaries) == 7  # 3 source splits + 2 × 2 downstream splits
    client = MlflowClient(f"sqlite:///{out}/mlflow.db")
    exp = client.get_experiment_by_name("drl-study")
    runs = client.search_runs([exp.experiment_id])
    parent = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parent) == 1 and parent[0].info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent[0].info.run_id]
    assert len(children) == 8 and all(r.info.status == "FINISHED" for r in children)
    decode_runs = [r for r in children if r.info.run_name.startswith("decode")]
    assert all(r.data.metrics["decoded"] == r.data.metrics["videos"] > 0 for r in decode_runs)
    assert all(r.data.params["num_frames"] == "8" for r in decode_runs)


def test_config_errors_stop_the_study_before_anything_runs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("benchmark:\n  bias: 2\n")
    proc = subprocess.run([sys.executable, "pipelines/full_study.py", "--config", str(bad),
                           "--output-dir", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "benchmark.bias: must lie in [0, 1], got 2" in proc.stderr
    assert not (tmp_path / "out").exists()
