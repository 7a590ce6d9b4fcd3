"""``full_study.py --plan``: every stage's reads, shard bytes, peak memory per worker and
workers, printed without running anything; every shipped real-data config fits a 64-GiB worker."""

from pathlib import Path

import pytest

from pipelines.config.loader import load_config
from pipelines.config.schema import StudyConfig
from pipelines.plan import plan_study, split_size

CONFIGS = sorted((Path(__file__).parents[2] / "pipelines" / "configs").glob("*.yaml"))
K400 = next(p for p in CONFIGS if "k400" in p.name)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_plans_each_worker_under_64_gib(path):
    cfg = load_config(StudyConfig, path)
    rows = plan_study(cfg)
    assert {r.stage for r in rows} >= {"pretrain/baseline", "report"}
    assert all(0 < r.peak_gib < 64 for r in rows), [(r.stage, r.peak_gib) for r in rows if r.peak_gib >= 64]
    train = next(r for r in rows if r.stage == "pretrain/baseline")
    assert train.reads and train.shard_gib > 0 and ("GPU" in train.workers) == cfg.resources.use_gpu


def test_the_plan_grows_shard_bytes_not_worker_memory_with_the_dataset():
    cfg = load_config(StudyConfig, None)
    small = {r.stage: r for r in plan_study(cfg)}
    big = {r.stage: r for r in plan_study(load_config(StudyConfig, None, {"benchmark.source_train_per_class": 1200}))}
    base = "pretrain/baseline"
    assert big[base].shard_gib == pytest.approx(10 * small[base].shard_gib)
    assert big[base].peak_gib < small[base].peak_gib * 1.01  # streamed: only the index grows


def test_jpeg_rows_are_estimated_smaller_than_raw():
    cfg = load_config(StudyConfig, K400)
    ds = cfg.data.source
    jpeg = split_size(cfg, ds, ds.train_split)
    raw = split_size(load_config(StudyConfig, K400, {"decode.frame_format": "raw"}), ds, ds.train_split)
    assert jpeg.stored_per_video < raw.stored_per_video == raw.decoded_per_video


def test_the_command_prints_the_plan_and_starts_nothing(capsys, monkeypatch):
    import ray

    from pipelines.full_study import main

    def refuse(*args, **kwargs):
        raise AssertionError("--plan started Ray")

    monkeypatch.setattr(ray, "init", refuse)
    assert main(["--config", str(K400), "--plan"]) == 0
    out = capsys.readouterr().out
    assert "peak/worker (GiB)" in out and "pretrain/baseline" in out and "largest peak per worker" in out
    assert out.strip().splitlines()[-1].startswith("disk: the decode stages write about ")


def test_the_disk_line_weighs_the_shards_still_to_write_against_the_room_before_ray_s_line(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from pipelines import disk_space
    from pipelines.plan import GIB, StagePlan, disk_plan

    rows = [StagePlan("decode/a/train", (), 30.0, 1.0, ""), StagePlan("decode/a/test", (), 10.0, 1.0, ""),
            StagePlan("pretrain/baseline", ("decode/a/train",), 30.0, 2.0, "")]  # reads count once, as writes
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(1000 * GIB, 900 * GIB, 100 * GIB))
    monkeypatch.setattr(disk_space, "used_fraction", lambda path: 0.90)
    monkeypatch.delenv("RAY_local_fs_capacity_threshold", raising=False)
    line = disk_plan(rows, tmp_path / "study")  # 40 GiB to write, 50 GiB before 95%
    assert "write about 40.0 GiB" in line and "(0.0 GiB there now)" in line and "50.0 GiB before Ray's 95% line" in line
    assert line.endswith("room enough")
    monkeypatch.setattr(disk_space, "used_fraction", lambda path: 0.93)  # 20 GiB of room
    assert "not enough: the study would stop for lack of space" in disk_plan(rows, tmp_path / "study")
    from pipelines import plan

    monkeypatch.setattr(plan, "folder_bytes", lambda folder: 25 * GIB)  # 25 GiB decoded already: 15 to go
    line = disk_plan(rows, tmp_path / "study")
    assert "(25.0 GiB there now)" in line and line.endswith("room enough")
    (tmp_path / "shards" / "a").mkdir(parents=True)
    (tmp_path / "shards" / "a" / "part.parquet").write_bytes(b"x" * 1024)
    (tmp_path / "shards" / "b.parquet").write_bytes(b"x" * 10)
    monkeypatch.undo()
    assert plan.folder_bytes(tmp_path / "shards") == 1034 and plan.folder_bytes(tmp_path / "none") == 0


def test_a_datasets_own_decode_sizes_its_shards_and_its_stages():
    """SSv2's few-shot rows (8 frames a second at 112 px) against the study's (16 at 128 px)."""
    import dataclasses

    cfg = load_config(StudyConfig, next(p for p in CONFIGS if p.name == "drl_r3d18_k400_1x16_100e.yaml"))
    ssv2 = next(d for d in cfg.data.fewshot if d.name == "ssv2")
    own, plain = split_size(cfg, ssv2, ssv2.test_split), split_size(cfg, dataclasses.replace(ssv2, decode=None), ssv2.test_split)
    assert (own.clip_frames, plain.clip_frames) == (8, 16)
    assert own.stored_per_video == pytest.approx(plain.stored_per_video / 2 * (112 / 128) ** 2, rel=0.03)
    rows = {r.stage: r for r in plan_study(cfg)}
    assert rows["decode/ssv2/validation"].shard_gib == pytest.approx(own.videos * own.stored_per_video / 2 ** 30)
