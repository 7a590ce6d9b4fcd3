"""The one training code path on Ray Train: DDP workers, per-epoch checkpoints, a lost worker
resumed from the last checkpoint, and the files later stages read."""

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.metrics import keys
from pipelines.config.resources import ResourcesConfig
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
@pytest.mark.parametrize("algorithm", ["adversarial", "spatial_adversary", "static_inputs"])
def test_ddp_on_two_workers_trains_each_drl_algorithm_and_writes_its_files(ray_local, tmp_path, make_split, algorithm):
    """Under DDP every parameter an algorithm trains gets its gradient each step (else DDP stops)."""
    split = make_split(tmp_path / "train", videos_per_class=3, files=3)  # 9 videos for 2 workers
    out = run_train_job(job(split, 2, algorithm, workers=2), tmp_path / "stage", ResourcesConfig(num_workers=2))
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


def report_log(path: Path):
    """A Ray Train user callback (pickled by value) that appends each report's metrics to ``path``."""
    from ray.train import UserCallback

    class Reports(UserCallback):
        def after_report(self, run_context, metrics, checkpoint) -> None:
            with open(path, "a") as f:
                f.write(json.dumps(metrics[0]) + "\n")

    return Reports()


@pytest.mark.slow
def test_running_a_finished_job_again_resumes_instead_of_retraining(ray_local, tmp_path, make_split):
    split = make_split(tmp_path / "train")
    first = run_train_job(job(split, 2), tmp_path / "stage", ResourcesConfig())
    log = tmp_path / "reports.jsonl"
    again = run_train_job(job(split, 2), tmp_path / "stage", ResourcesConfig(), callbacks=(report_log(log),))
    assert again["history"] == first["history"]  # restored from the checkpoint; no epoch re-run
    # ... and its reporters (a Tune trial's) get the last epoch's metrics again, once, as a Tune
    # trial stopped after its last epoch needs when it is restarted (seen in CI: Tune failed it)
    reports = [json.loads(line) for line in log.read_text().splitlines()]
    assert reports == [json.loads(json.dumps(first["history"][-1]))]


def actor_classes() -> dict[str, str]:
    """Actor id → class of every actor the test's Ray has started, dead or alive."""
    from ray._private.state import actors

    return {actor_id: a["ActorClassName"] for actor_id, a in actors().items()}


def controller_probe(path: Path):
    """A Ray Train controller callback (pickled by value) that writes to ``path`` whether the
    controller process has imported torch, once the workers have started."""
    from pipelines.train.placement_notes import WorkerGroupCallback

    class Probe(WorkerGroupCallback):
        def after_worker_group_start(self, worker_group) -> None:
            import sys

            path.write_text(json.dumps({"torch": "torch" in sys.modules}))

    return Probe()


def test_a_run_without_datasets_starts_no_dataset_manager_nor_preemption_watcher(ray_local, tmp_path, make_split):
    split = make_split(tmp_path / "train")
    before = actor_classes()
    out = run_train_job(job(split, 1, ingest="worker"), tmp_path / "stage", ResourcesConfig(),
                        callbacks=(controller_probe(tmp_path / "plain.json"),))
    assert out["history"]  # it trained, its process group set up by the controller's own backend
    started = [c for a, c in actor_classes().items() if a not in before]
    assert "TrainController" in started and "RayTrainWorker" in started  # it ran on Ray Train
    assert "DatasetManager" not in started and "PreemptionWatcher" not in started, started
    assert "PlacementGroupCleaner" not in started, started  # one node, no Tune trial: notes instead
    run_train_job(job(split, 1, ingest="ray_data"), tmp_path / "watched",
                  ResourcesConfig(watch_preemption=True, pg_cleaner="on"),
                  callbacks=(controller_probe(tmp_path / "data.json"),))
    started = [c for a, c in actor_classes().items() if a not in before]
    assert "DatasetManager" in started and "PreemptionWatcher" in started, started  # Ray Data needs it
    assert "PlacementGroupCleaner" in started, started
    # the controller unpickled the job, the datasets and the process-group config without torch
    # (importing it cost each run's controller 2.3 s of CPU: pipelines.train.backend)
    for probe in ("plain.json", "data.json"):
        assert json.loads((tmp_path / probe).read_text()) == {"torch": False}, probe


def run_logs(text: str) -> str:
    """Both log files (stdout and stderr) of each worker process of the local Ray whose files
    hold ``text``, joined."""
    import ray

    logs = Path(ray._private.worker.global_worker.node.get_logs_dir_path())
    files = {p: p.read_text(errors="replace") for p in sorted(logs.glob("worker-*")) if p.suffix in (".out", ".err")}
    workers = {p.stem for p, t in files.items() if text in t}
    return "".join(t for p, t in files.items() if p.stem in workers)


def test_a_stage_s_progress_lines_reach_its_log_once_and_ray_train_s_info_lines_only_when_asked(
        ray_local, tmp_path, make_split):
    """Ray Train's print patch wrote each progress line twice (stdout, then the root logger's
    console handler), and its INFO lines (each epoch's report and checkpoint) filled the job's log."""
    split = make_split(tmp_path / "train")
    history = run_train_job(job(split, 2, ingest="worker", label="pretrain/quiet"), tmp_path / "quiet",
                            ResourcesConfig())["history"]
    quiet = run_logs("[pretrain/quiet]")
    assert quiet.count("[pretrain/quiet] epoch 1/2 done") == 1, quiet[-2000:]
    # each epoch's share of the host's CPU time that went to other guests (Linux: /proc/stat)
    assert all(0 <= row[keys.EPOCH_STEAL] <= 1 for row in history) and len(history) == 2
    assert len(re.findall(r"epoch \d/2 done: .* waiting for data, \d+% CPU steal\)", quiet)) == 2, quiet[-2000:]
    assert quiet.count("[pretrain/quiet] epoch 2/2 done") == 1, quiet[-2000:]
    assert "Reporting training result" not in quiet and "Checkpoint successfully created" not in quiet
    run_train_job(job(split, 1, ingest="worker", label="pretrain/loud"), tmp_path / "loud",
                  ResourcesConfig(train_log_level="INFO"))  # the check can fail: INFO brings them back
    loud = run_logs("[pretrain/loud]")
    assert loud.count("[pretrain/loud] epoch 1/1 done") == 1 and "Reporting training result" in loud, loud[-2000:]


def test_a_run_removes_the_placement_groups_a_dead_attempt_noted_and_notes_its_own(ray_local, tmp_path, make_split):
    import ray
    from ray.util.placement_group import placement_group

    from pipelines.train.placement_notes import NOTE_FILE, note_group, remove_noted_groups

    split, stage = make_split(tmp_path / "train"), tmp_path / "stage"
    stage.mkdir()
    left = placement_group([{"CPU": 0.5}])  # as a controller killed with its stage task leaves it
    ray.get(left.ready())
    note_group(stage, left.id.hex())
    run_train_job(job(split, 1, ingest="worker"), stage, ResourcesConfig())
    table = ray.util.placement_group_table()
    assert table[left.id.hex()]["state"] == "REMOVED"
    own = (stage / NOTE_FILE).read_text().split()  # this run's group, noted; Ray Train removed it at the end
    assert len(own) == 1 and own[0] != left.id.hex() and table[own[0]]["state"] == "REMOVED"
    assert remove_noted_groups(stage) == 1 and not (stage / NOTE_FILE).exists()  # harmless on a removed group


@pytest.mark.slow
def test_a_stage_whose_cpus_are_held_says_what_holds_them_at_each_wait_and_starts_once_they_are_free(
        ray_local, tmp_path, make_split, monkeypatch):
    import ray
    from ray.util.placement_group import placement_group, remove_placement_group

    from pipelines.train.startup_wait import WAIT_FILE

    split, stage = make_split(tmp_path / "train"), tmp_path / "stage"
    squatter = placement_group([{"CPU": 2.0}])  # every CPU of the test's Ray, held by someone else
    ray.get(squatter.ready())
    monkeypatch.setenv("RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S", "1")  # Ray Train's 60 s, shortened
    waits = stage / WAIT_FILE
    freed: list[str] = []

    def free_after_two_waits():
        deadline = time.time() + 120
        while time.time() < deadline and (not waits.is_file() or len(waits.read_text().splitlines()) < 2):
            time.sleep(0.2)
        freed.append(waits.read_text() if waits.is_file() else "")
        remove_placement_group(squatter)

    watcher = threading.Thread(target=free_after_two_waits, daemon=True)
    watcher.start()
    out = run_train_job(job(split, 1, ingest="worker", label="pretrain/held"), stage, ResourcesConfig())
    watcher.join(timeout=5)
    assert out["history"]  # it trained once the CPUs were free
    first, second = freed[0].splitlines()[:2]
    assert first.startswith("[train] pretrain/held: no room for its workers (1 × {'CPU': 0.6}) after ")
    assert "(1 attempt(s)); Ray Train asks again. Free: CPU 0 of 2." in first
    assert f"Placement groups: {squatter.id.hex()[:12]} [{{'CPU': 2.0}}]" in first  # the holder, named
    assert "(2 attempt(s))" in second


def test_a_lone_stage_s_threads_never_depend_on_what_is_free_at_launch():
    from pipelines.train.launcher import stage_resources

    base, two = ResourcesConfig(cpus_per_worker=0.6), [{"CPU": 2.0}]
    # a decode task still holds a CPU at launch: the stage reserves less, but its threads (which
    # change a CPU run's numbers) are those of the whole cluster, beside the static pretraining
    reserved, threads = stage_resources(base, two, alone=True, free=0.9, beside=0.6)
    assert reserved.cpus_per_worker == 0.75 and threads == 2
    assert stage_resources(base, two, alone=True, free=2.0, beside=0.6)[1] == 2
    assert stage_resources(base, two, alone=False, free=0.9) == (base, 1)  # other stages: their own CPUs
    wide = ResourcesConfig(cpus_per_worker=3.5)
    assert stage_resources(wide, two, alone=False) == (wide, 4)


def test_the_placement_group_cleaner_runs_where_it_can_free_something():
    from pipelines.train.trainer import wants_pg_cleaner

    auto = ResourcesConfig()
    assert not wants_pg_cleaner(auto, nodes=1, trial=False)
    assert wants_pg_cleaner(auto, nodes=1, trial=True)  # Tune kills trials it stops
    assert wants_pg_cleaner(auto, nodes=3, trial=False)  # a node can die alone
    assert wants_pg_cleaner(ResourcesConfig(pg_cleaner="on"), nodes=1, trial=False)
    assert not wants_pg_cleaner(ResourcesConfig(pg_cleaner="off"), nodes=3, trial=True)


def test_a_stage_that_runs_alone_takes_the_clusters_cpus_on_cpu_only():
    from pipelines.train.launcher import stage_resources

    def reserved(resources, nodes, free=None, beside=0.0):  # a lone stage's CPUs per worker
        return stage_resources(resources, nodes, True, free, beside)[0]

    base = ResourcesConfig(cpus_per_worker=0.75, data_cpus=0.25, ingest="ray_data")
    assert reserved(base, [{"CPU": 2.0}]).cpus_per_worker == 1.75  # 2 CPUs less the data task
    two = ResourcesConfig(num_workers=2, cpus_per_worker=0.75, data_cpus=0.5, data_tasks=2)
    assert reserved(two, [{"CPU": 4.0}, {"CPU": 2.0}]).cpus_per_worker == 2.0  # 6 / 2 − 2 × 0.5
    assert reserved(base, [{"CPU": 16.0}, {"CPU": 2.0}]).cpus_per_worker == 15.75  # at most one node's
    assert reserved(base, [{"CPU": 0.5}]).cpus_per_worker == 0.75  # never less than configured
    in_worker = ResourcesConfig(cpus_per_worker=0.6)  # the CPU default: clips cut in the worker, no task
    assert reserved(in_worker, [{"CPU": 2.0}]).cpus_per_worker == 2.0
    # a static-task pretraining (0.6 CPU) runs beside it: whichever starts first, neither waits
    assert reserved(in_worker, [{"CPU": 2.0}], free=1.4, beside=0.6).cpus_per_worker == 1.25
    assert reserved(in_worker, [{"CPU": 2.0}], free=2.0, beside=0.6).cpus_per_worker == 1.25
    assert reserved(in_worker, [{"CPU": 2.0}], free=1.4).cpus_per_worker == 1.25  # something else holds 0.6
    assert reserved(in_worker, [{"CPU": 2.0}], free=0.0).cpus_per_worker == 0.6
    assert in_worker.training_slots({"CPU": 2.0}) == 3 and base.training_slots({"CPU": 2.0}) == 2
    gpu = ResourcesConfig(use_gpu=True, cpus_per_worker=4.0)
    assert reserved(gpu, [{"CPU": 64.0, "GPU": 8.0}]) == gpu  # GPU stages keep theirs


def test_a_spatial_model_starts_from_a_static_task_model_file_less_its_head(tmp_path):
    import dataclasses

    import torch

    from drl_core.models import build_model
    from pipelines.train.loop import build_job_algorithm
    from pipelines.train.model_file import save_model

    static_cfg = ModelConfig(name="r2d10", dropout=0.0)
    static = build_model(static_cfg, 60)
    save_model(tmp_path / "static.pt", static, static_cfg, tuple(f"s{i}" for i in range(60)))
    teacher_cfg, classes = ModelConfig(name="r3d10"), ("a", "b", "c", "d")
    save_model(tmp_path / "teacher.pt", build_model(teacher_cfg, 4), teacher_cfg, classes)
    start = dataclasses.replace(static_cfg, checkpoint=str(tmp_path / "static.pt"))
    job = TrainJob("distill", "unused", start, OptimConfig(), ClipConfig(), teacher=str(tmp_path / "teacher.pt"))
    _, student = build_job_algorithm(job, classes)
    for key, value in static.state_dict().items():
        if not key.startswith("fc."):
            torch.testing.assert_close(student.state_dict()[key], value, rtol=0, atol=0)
    assert student.fc.out_features == 4
    adversarial = TrainJob("classify", "unused", teacher_cfg, OptimConfig(), ClipConfig(),
                           AlgorithmConfig(name="adversarial", spatial=start))
    algo, _ = build_job_algorithm(adversarial, classes)
    torch.testing.assert_close(algo.spatial.backbone.stem[0].weight, static.backbone.stem[0].weight, rtol=0, atol=0)


@pytest.mark.slow
def test_both_ingests_train_the_same_weights(ray_local, tmp_path, make_split):
    """``resources.ingest``: clips streamed by Ray Data tasks, or cut inside the one worker, give
    the same batches in the same order, so the same model to the last bit."""
    import torch

    split = make_split(tmp_path / "train", videos_per_class=5, files=2)
    models = {}
    for ingest in ("ray_data", "worker"):
        out = run_train_job(job(split, 2, ingest=ingest), tmp_path / ingest, ResourcesConfig())
        models[ingest] = (load_model(tmp_path / ingest / "model.pt")[0].state_dict(),
                          [row["train/loss"] for row in out["history"]])
    (a, loss_a), (b, loss_b) = models["ray_data"], models["worker"]
    assert loss_a == loss_b
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    assert ResourcesConfig().ingest_mode() == "worker" and ResourcesConfig(use_gpu=True).ingest_mode() == "ray_data"
    assert ResourcesConfig(num_workers=2).ingest_mode() == "ray_data"
    with pytest.raises(ValueError, match="ingest"):
        ResourcesConfig(num_workers=2, ingest="worker")
