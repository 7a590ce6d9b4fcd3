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
