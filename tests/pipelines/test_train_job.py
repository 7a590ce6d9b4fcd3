"""The one training code path on Ray Train: DDP workers, per-epoch checkpoints, a lost worker
resumed from the last checkpoint, and the files later stages read."""

import json
import os
import signal
import threading
import time

import pytest

from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from pipelines.config.schema import ResourcesConfig
from pipelines.train.job import TrainJob
from pipelines.train.launcher import run_train_job
from pipelines.train.model_file import load_model
from tests.conftest import raylet_pid, train_worker_pids

CLIP = ClipConfig(crop_size=24)
TINY = ModelConfig(name="r3d10", width=4)


def job(split, epochs, algorithm="supervised", **kw):
    optim = OptimConfig(epochs=epochs, lr=0.05, step_size=10, batch_size=4)
    return TrainJob("classify", str(split), TINY, optim, CLIP, AlgorithmConfig(name=algorithm, attack_steps=1,
                    spatial=ModelConfig(name="r2d10", width=4)), eval_splits=(("test", str(split)),), **kw)


@pytest.mark.slow
def test_ddp_on_two_workers_trains_a_drl_algorithm_and_writes_its_files(ray_local, tmp_path, make_split):
    split = make_split(tmp_path / "train", videos_per_class=3, files=3)  # 9 videos for 2 workers
    out = run_train_job(job(split, 2, "adversarial"), tmp_path / "stage", ResourcesConfig(num_workers=2))
    assert [row["epoch"] for row in out["history"]] == [0, 1]
    # equal steps: Ray Data gives each worker 4 of the 9 videos (an uneven split would average 4.5)
    assert all(row["time/epoch_clips"] == 4.0 for row in out["history"])
    assert all(k in out["history"][-1] for k in ("train/loss", "train/ce", "train/acc1"))
    assert 0.0 <= out["eval"]["test"]["acc1"] <= 1.0
    model, cfg, classes = load_model(tmp_path / "stage" / "model.pt")
    assert cfg.name == "r3d10" and classes == ("class 0", "class 1", "class 2")


@pytest.mark.slow
def test_a_killed_worker_resumes_from_the_last_checkpoint(ray_local, tmp_path, make_split):
    split = make_split(tmp_path / "train", videos_per_class=40, frames=8, size=40)  # epochs of ~1 s
    stage = tmp_path / "stage"
    killed: list[int] = []
    raylet = raylet_pid()
    earlier = set(train_worker_pids(raylet))  # workers of earlier tests that are still exiting

    def kill_after_first_checkpoint():
        deadline = time.time() + 300
        while time.time() < deadline and not killed:
            pids = [p for p in train_worker_pids(raylet) if p not in earlier]
            # the snapshot lists checkpoints Ray Train has registered (a folder may still be written)
            if (stage / "ray_train" / "checkpoint_manager_snapshot.json").is_file() and pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_after_first_checkpoint, daemon=True)
    watcher.start()
    out = run_train_job(job(split, 8), stage, ResourcesConfig(num_workers=1, max_failures=2))
    watcher.join(timeout=5)
    assert killed, "no worker was killed: the test did not exercise a failure"
    history = out["history"]
    assert [row["epoch"] for row in history] == list(range(8))
    assert history[-1]["train/resumptions"] >= 1  # the run continued from a checkpoint
    assert history[0]["train/resumptions"] == 0
    assert json.loads((stage / "history.json").read_text()) == history


@pytest.mark.slow
def test_running_a_finished_job_again_resumes_instead_of_retraining(ray_local, tmp_path, make_split):
    split = make_split(tmp_path / "train")
    first = run_train_job(job(split, 2), tmp_path / "stage", ResourcesConfig())
    again = run_train_job(job(split, 2), tmp_path / "stage", ResourcesConfig())
    assert again["history"] == first["history"]  # restored from the checkpoint; no epoch re-run
