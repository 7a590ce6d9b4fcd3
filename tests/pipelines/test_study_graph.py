"""The study's DAG as the config describes it, and the shipped configs."""

import dataclasses
import re
from pathlib import Path

import pytest

from pipelines.config.loader import load_config
from pipelines.config.yaml_io import ConfigError
from pipelines.config.schema import StudyConfig
from pipelines.stages.runner import validate
from pipelines.study_graph import build_study

REPO = Path(__file__).resolve().parents[2]
ALL_CONFIGS = sorted((REPO / "pipelines" / "configs").glob("*.yaml"))
CONFIGS = [p for p in ALL_CONFIGS if "_k400_" in p.name or "_minik200_" in p.name]  # the paper's settings


def by_name(specs):
    return {s.name: s for s in specs}


def test_default_study_has_every_stage_in_order():
    specs = build_study(StudyConfig())
    validate(specs)
    names = by_name(specs)
    models = ["baseline", "continued", "adversarial", "spatial_adversary", "static_inputs"]
    for m in models:
        assert f"pretrain/{m}" in names and f"evaluate/{m}" in names and f"dynamic_score/{m}" in names
        for d in ("synth_paths", "synth_tempo"):
            assert f"finetune/{m}/{d}" in names and f"linear_probe/{m}/{d}" in names
            assert f"fewshot/{m}/{d}" in names
    assert len([n for n in names if n.startswith("decode/")]) == 9  # few-shot reuses the downstream test splits; 2 static
    assert specs[-1].name == "report" and len(specs[-1].deps) == 1 + 5 + 5 + 5 + 10 + 10 + 10
    # the runner launches ready stages in list order: every dynamic score before any fine-tuning
    order = [s.name for s in specs]
    last_ds = max(i for i, n in enumerate(order) if n.startswith("dynamic_score/"))
    assert last_ds < min(i for i, n in enumerate(order) if n.startswith("finetune/"))


def test_kinetics_study_scores_mimetics_with_its_head_and_runs_fewshot_on_held_out_datasets():
    cfg = load_config(StudyConfig, REPO / "pipelines" / "configs" / "drl_r3d18_k400_1x16_100e.yaml")
    names = by_name(build_study(cfg))
    ev = names["evaluate/static_inputs"]
    assert ev.config.mapped == (("mimetics", "mimetics"),)
    assert ("mimetics", "decode/mimetics/test") in ev.deps
    for d, split in (("ssv2", "validation"), ("jester", "validation")):
        fs = names[f"fewshot/baseline/{d}"]
        assert ("test", f"decode/{d}/{split}") in fs.deps
        assert f"decode/{d}/train" not in names  # few-shot reads only the evaluation split
    assert fs.config.fewshot.shots == (1, 5) and fs.config.fewshot.ways == 5 and cfg.pretrain.clip.test_clips == 10


def test_a_dataset_listed_twice_must_match():
    from pipelines.config.loader import ConfigError

    with pytest.raises(ConfigError, match=r"data: fewshot\[0\]: dataset 'synth_paths'"):
        load_config(StudyConfig, None, {"data.fewshot": ({"name": "synth_paths", "test_split": "train"},)})


def test_drl_is_a_second_phase_from_the_baseline_with_the_same_schedule_as_its_control():
    names = by_name(build_study(StudyConfig()))
    control, alg3 = names["pretrain/continued"], names["pretrain/static_inputs"]
    assert ("baseline", "pretrain/baseline") in alg3.deps and alg3.config.init == "baseline"
    assert control.config.optim == alg3.config.optim and control.config.algorithm.name == "supervised"
    assert alg3.config.algorithm.lam == 0.5 and not alg3.config.reset_head
    assert names["pretrain/baseline"].config.algorithm.name == "supervised"


def test_from_scratch_mode_has_no_control_and_no_initialisation():
    cfg = load_config(StudyConfig, None, {"drl.mode": "from_scratch"})
    names = by_name(build_study(cfg))
    assert "pretrain/continued" not in names
    assert names["pretrain/adversarial"].config.init == "" and names["pretrain/adversarial"].config.optim == cfg.pretrain.optim


def test_finetuning_uses_each_datasets_own_schedule_and_resets_the_head():
    cfg = load_config(StudyConfig, CONFIGS[0])
    names = by_name(build_study(cfg))
    ucf, diving = names["finetune/baseline/ucf101"].config, names["finetune/baseline/diving48"].config
    assert ucf.reset_head and ucf.optim.freeze_bn and ucf.optim.epochs == 30 and ucf.optim.lr == 0.001
    assert not diving.optim.freeze_bn and diving.optim.epochs == 50 and diving.optim.step_size == 20


def test_changing_the_drl_weights_leaves_the_baseline_key_alone():
    from pipelines.stages.base import stage_key

    a = by_name(build_study(StudyConfig()))
    b = by_name(build_study(load_config(StudyConfig, None, {"algorithm.lam": 1.0})))
    assert stage_key(a["pretrain/baseline"], {"train": "k"}) == stage_key(b["pretrain/baseline"], {"train": "k"})
    assert stage_key(a["pretrain/static_inputs"], {"train": "k"}) != stage_key(b["pretrain/static_inputs"], {"train": "k"})


def test_the_drl_phase_freezes_bn_for_every_algorithm_and_the_control_and_ds_has_its_temperature():
    specs = by_name(build_study(load_config(StudyConfig, None, {"dynamic_score.temperature": 2.0})))
    for name in ("continued", "adversarial", "spatial_adversary", "static_inputs"):
        assert specs[f"pretrain/{name}"].config.optim.freeze_bn, name
    assert not specs["pretrain/baseline"].config.optim.freeze_bn
    assert specs["dynamic_score/baseline"].config.algorithm.temperature == 2.0
    assert specs["pretrain/baseline"].config.model.dropout == 0.5
    assert specs["dynamic_score/baseline"].config.model.dropout == 0.0


def test_runtime_settings_are_no_part_of_any_stage_key():
    from pipelines.stages.base import stage_key

    a = build_study(StudyConfig())
    runtime = {"resources.inference": "ray_data", "resources.eval_batch_size": 3,
               "resources.poll_interval_s": 2.0, "resources.watch_preemption": True, "resources.pg_cleaner": "on",
               "resources.train_log_level": "DEBUG"}
    b = build_study(load_config(StudyConfig, None, runtime))
    assert [s.name for s in a] == [s.name for s in b]
    assert [stage_key(s, {"x": "k"}) for s in a] == [stage_key(s, {"x": "k"}) for s in b]
    # ...while the settings still reach the stages, and a real change still changes keys.
    assert by_name(b)["evaluate/baseline"].config.stream.ray_data  # cut by Ray Data tasks...
    assert by_name(b)["evaluate/baseline"].config.stream.batch_size == 3
    assert not by_name(b)["pretrain/baseline"].config.inference_stream.ray_data  # ...but in a worker that cuts its own
    streamed = by_name(build_study(load_config(StudyConfig, None, {**runtime, "resources.ingest": "ray_data"})))
    assert streamed["pretrain/baseline"].config.inference_stream.ray_data  # its reserved task CPUs are idle then
    c = by_name(build_study(load_config(StudyConfig, None, {"pretrain.optim.batch_size": 8})))
    assert stage_key(c["pretrain/baseline"], {}) != stage_key(by_name(a)["pretrain/baseline"], {})


def test_an_added_option_at_its_default_leaves_the_keys_cached_before_it_alone():
    """fewshot.items and clip.jitter_mode (added in session 18): their defaults keep every key as
    it was; the key form below is the one those stages had (FewShotConfig without the field)."""
    from pipelines.stages.base import key_form, stage_key

    fewshot = by_name(build_study(StudyConfig()))["fewshot/baseline/synth_paths"]
    assert "items" not in key_form(fewshot.config)["fewshot"]
    assert key_form(fewshot.config)["fewshot"] == {"ways": 5, "shots": [1, 5], "queries": 10, "episodes": 1000,
                                                   "classifier": "nearest_centroid", "seed": 0}
    clip = by_name(build_study(load_config(StudyConfig, None, {"fewshot.items": "clip"})))["fewshot/baseline/synth_paths"]
    assert key_form(clip.config)["fewshot"]["items"] == "clip"
    assert stage_key(clip, {"x": "k"}) != stage_key(fewshot, {"x": "k"})
    # the calibration cache and Tune's experiment names leave them out the same way
    from drl_core.config import added_at_default
    from pipelines.config.loader import to_dict
    from pipelines.tune_drl import experiment_name

    plain = to_dict(StudyConfig(), skip=added_at_default)
    assert "items" not in plain["fewshot"] and "jitter_mode" not in plain["pretrain"]["clip"]
    pil = load_config(StudyConfig, None, {"pretrain.clip.jitter_mode": "pil"})
    assert to_dict(pil, skip=added_at_default)["pretrain"]["clip"]["jitter_mode"] == "pil"
    assert experiment_name(pil) != experiment_name(StudyConfig())


def test_a_datasets_own_decode_and_test_clips_reach_only_the_stages_that_read_it(tmp_path):
    """``data.*[i].decode`` merges onto ``decode``, ``test_clip`` onto ``pretrain.clip``; each changes
    the keys of that dataset's stages alone, and the source keeps pretrain.clip."""
    from pipelines.stages.base import stage_key

    path = tmp_path / "study.yaml"
    paths = "    - {name: synth_paths, test_split: test, ooc_split: ''}\n"
    tempo = ("    - name: synth_tempo\n      test_split: test\n      ooc_split: ''\n"
             "      decode: {num_frames: 6}\n      test_clip: {test_clips: 4, test_sparse: true}\n")
    path.write_text(f"data:\n  downstream:\n{paths}{tempo}  fewshot:\n{paths}{tempo}")
    cfg = load_config(StudyConfig, path)
    tempo = cfg.data.downstream[1]
    assert cfg.decode_of(tempo) == dataclasses.replace(cfg.decode, num_frames=6)
    assert cfg.test_clip_of(tempo) == dataclasses.replace(cfg.pretrain.clip, test_clips=4, test_sparse=True)
    plain = by_name(build_study(load_config(StudyConfig, None)))
    for name, spec in by_name(build_study(cfg)).items():
        if name not in plain:
            continue
        own = "synth_tempo" in name
        assert (stage_key(spec, {"x": "k"}) != stage_key(plain[name], {"x": "k"})) == own, name
        if name.startswith("decode/synth_tempo/"):
            assert spec.config.decode.num_frames == 6
        if name.startswith(("linear_probe/", "finetune/", "fewshot/")) and own:
            clip = spec.config.test_clip if name.startswith("finetune/") else spec.config.clip
            assert clip == cfg.test_clip_of(tempo)
        if name.startswith("finetune/") and own:
            assert spec.config.clip == cfg.finetune_clip  # it trains on the fine-tuning clips
    for bad, message in (({"data.source.test_clip": {"test_clips": 2}}, "data.source.test_clip: the source's test"),
                         ({"data.fewshot": [{"name": "synth_tempo", "test_split": "test", "ooc_split": "",
                                             "test_clip": {"mean": [0.5, 0.5, 0.5]}}],
                           "data.downstream": []}, "data.fewshot[0].test_clip.mean: must be pretrain.clip.mean")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(StudyConfig, None, bad)


def test_the_number_of_training_workers_is_part_of_every_training_key_and_only_theirs():
    """Each worker's BatchNorm sees its share of a batch: two workers train another model than one."""
    from pipelines.stages.base import stage_key

    one = build_study(StudyConfig())
    two = build_study(load_config(StudyConfig, None, {"resources.num_workers": 2}))
    for a, b in zip(one, two):
        same = stage_key(a, {"x": "k"}) == stage_key(b, {"x": "k"})
        assert same == (a.kind != "train"), a.name
        if a.kind == "train":
            assert (a.config.workers, b.config.workers) == (1, 2)


def test_a_job_for_another_number_of_workers_is_refused_before_anything_starts(tmp_path):
    from drl_core.config import ClipConfig, ModelConfig, OptimConfig
    from pipelines.config.resources import ResourcesConfig
    from pipelines.train.job import TrainJob
    from pipelines.train.launcher import run_train_job

    job = TrainJob("classify", str(tmp_path / "none"), ModelConfig(), OptimConfig(), ClipConfig(), label="pretrain/x")
    with pytest.raises(ValueError, match="pretrain/x: the job is for 1 training worker.*num_workers is 2"):
        run_train_job(job, tmp_path / "stage", ResourcesConfig(num_workers=2))
    assert not (tmp_path / "stage").exists()


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_load_and_follow_the_paper(path):
    cfg = load_config(StudyConfig, path)
    backbone, data, shape, epochs = path.stem.split("_")[1:]
    assert cfg.pretrain.model.name == backbone.replace("-", "_")
    assert f"{cfg.pretrain.optim.epochs}e" == epochs and shape == f"1x{cfg.decode.num_frames}"
    assert cfg.drl.optim.epochs == 25 and cfg.drl.optim.step_size == 10 and cfg.dynamic_score.optim.epochs == 25
    assert cfg.algorithm.alpha == cfg.algorithm.beta == cfg.algorithm.lam == 0.5
    assert abs(cfg.algorithm.epsilon - 8 / 255) < 1e-6 and cfg.dynamic_score.spatial.name == "r2d18"
    assert {d.name for d in cfg.data.downstream} == {"ucf101", "hmdb51", "diving48"}
    assert cfg.resources.use_gpu and cfg.pretrain.clip.flip
    # the reference's settings: dropout 0.5 on the video model, BN frozen in the DRL phase,
    # fine-tuning weight decay 1e-3 on HMDB-51 and Diving-48, learning rates scaled to the batch
    assert cfg.pretrain.model.dropout == 0.5 and cfg.dynamic_score.spatial.dropout == 0.0
    assert cfg.drl.optim.freeze_bn
    ft = {d.name: d.finetune for d in cfg.data.downstream}
    assert ft["ucf101"].weight_decay == 1e-4 and ft["hmdb51"].weight_decay == ft["diving48"].weight_decay == 1e-3
    # the spatial models (and TSM) start from torchvision's ImageNet ResNets; ImageNet normalisation
    imagenet18 = "/weights/resnet18-f37072fd.pth"
    assert cfg.dynamic_score.spatial.checkpoint == cfg.algorithm.spatial.checkpoint == imagenet18
    if backbone.startswith("tsm"):
        assert cfg.pretrain.model.checkpoint.endswith(("resnet18-f37072fd.pth", "resnet50-0676ba61.pth"))
        assert (cfg.pretrain.optim.lr, cfg.pretrain.optim.batch_size) == (0.01, 32)  # the reference's TSM recipe
    assert cfg.pretrain.clip.mean == (0.485, 0.456, 0.406) and cfg.pretrain.clip.jitter == 0.2
    # the reference jitters Kinetics at 0.2 and its downstream datasets at 0.4 (all four factors)
    assert cfg.finetune_clip == dataclasses.replace(cfg.pretrain.clip, jitter=0.4, hue=0.4)
    assert (cfg.fewshot.ways, cfg.fewshot.shots, cfg.fewshot.queries, cfg.fewshot.episodes) == (5, (1, 5), 5, 1000)
    assert cfg.fewshot.classifier == "closer_softmax"  # the reference's CloserBaseline
    assert cfg.fewshot.items == "clip"  # which trains on every support clip as a sample
    assert cfg.pretrain.clip.jitter_mode == cfg.finetune_clip.jitter_mode == "pil"  # torchvision's PIL arithmetic
    assert cfg.pretrain.clip.test_spacing == cfg.finetune_clip.test_spacing == "segments"  # 'uniform' sampling
    assert cfg.pretrain.clip.centre_offset == cfg.finetune_clip.centre_offset == "round"  # its CenterCrop
    assert cfg.decode.resize == "reference"  # its resize_clip: nearest neighbour, the long side truncated
    # the reference's few-shot clips (configs/{sthv2,jester}-fs/{res3d18,tsmres18}-*shot.yaml),
    # resized to the crop: SSv2 8 fps sparse, Jester at 16/12 (TSM 8/6) s a clip
    few = {d.name: d for d in cfg.data.fewshot}
    side = cfg.pretrain.clip.crop_size
    ssv2, jester = cfg.decode_of(few["ssv2"]), cfg.decode_of(few["jester"])
    assert (ssv2.num_frames, ssv2.num_frames / ssv2.clip_seconds, ssv2.short_side) == (8, 8.0, side)
    assert cfg.test_clip_of(few["ssv2"]).test_clips == (8 if backbone.startswith("tsm") else 16)
    assert cfg.test_clip_of(few["ssv2"]).test_sparse and not cfg.test_clip_of(few["jester"]).test_sparse
    frames, fps = (8, 6) if backbone.startswith("tsm") else (16, 12)
    assert jester.num_frames == frames and jester.num_frames / jester.clip_seconds == pytest.approx(fps, abs=1e-5)
    assert jester.short_side == side and cfg.test_clip_of(few["jester"]).test_clips == 10
    assert ssv2.frame_format == jester.frame_format == cfg.decode.frame_format  # the rest as the study's
    assert ssv2.resize == jester.resize == "reference"
    for optim in (*ft.values(), cfg.finetune.optim):  # Table 1's lr at batch 64, × batch/64 (TSM-R50: 32)
        assert optim.lr * 64 / optim.batch_size in (pytest.approx(0.001), pytest.approx(0.01))
    specs = build_study(cfg)
    validate(specs)
    for spec in specs:  # the fine-tuning stages train on the fine-tuning clips; nothing else does
        if spec.kind == "train":
            assert spec.config.clip == (cfg.finetune_clip if spec.name.startswith("finetune/") else cfg.pretrain.clip)
        if spec.kind == "fewshot":  # each few-shot set is cut with its own clips
            assert spec.config.clip == cfg.test_clip_of(few[spec.name.rsplit("/", 1)[1]])
        if spec.kind == "decode" and spec.name.split("/")[1] in few:
            assert spec.config.decode == cfg.decode_of(few[spec.name.split("/")[1]])


def test_every_shipped_config_loads_and_is_named_for_what_it_runs():
    assert len(CONFIGS) == 6
    for path in ALL_CONFIGS:
        cfg = load_config(StudyConfig, path)
        _, backbone, _, shape, epochs = path.stem.split("_")
        assert cfg.pretrain.model.name == backbone.split("-w")[0].replace("-", "_")
        assert f"{cfg.pretrain.optim.epochs}e" == epochs and shape == f"1x{cfg.decode.num_frames}"
        validate(build_study(cfg))


@pytest.mark.parametrize("dataset", ["ucf101", "hmdb51", "diving48"])
def test_table_1_from_scratch_configs(dataset):
    cfg = load_config(StudyConfig, REPO / "pipelines" / "configs" / f"drl_r3d18_{dataset}_1x16_100e.yaml")
    o = cfg.pretrain.optim
    assert (o.optimizer, o.epochs, o.lr, o.step_size, o.weight_decay, o.batch_size) == ("sgd", 100, 0.1, 30, 1e-3, 64)
    assert cfg.pretrain.model.checkpoint == "" and cfg.data.source.reader == dataset and not cfg.data.downstream
    assert cfg.drl.optim.epochs == 25 and cfg.drl.optim.freeze_bn
    assert (cfg.pretrain.clip.jitter, cfg.pretrain.clip.hue, cfg.pretrain.clip.jitter_mode) == (0.4, 0.4, "pil")  # the reference's config of the dataset
    validate(build_study(cfg))


def test_the_spatial_models_start_from_the_static_task_on_the_builtin_benchmark():
    names = by_name(build_study(StudyConfig()))
    # the student and Alg. 1/2's spatial model share one architecture, so one pretraining serves both
    assert [n for n in names if n.startswith("static_pretrain/")] == ["static_pretrain/r2d10-w8"]
    assert "decode/synth_static/train" in names and "decode/synth_static/test" in names
    assert ("spatial_init", "static_pretrain/r2d10-w8") in names["dynamic_score/baseline"].deps
    for alg in ("adversarial", "spatial_adversary"):
        assert ("spatial_init", "static_pretrain/r2d10-w8") in names[f"pretrain/{alg}"].deps
    for stage in ("pretrain/static_inputs", "pretrain/continued", "pretrain/baseline", "finetune/baseline/synth_paths"):
        assert all(role != "spatial_init" for role, _ in names[stage].deps)
    job = names["static_pretrain/r2d10-w8"].config
    assert job.model.name == "r2d10" and job.model.dropout == 0 and dict(job.eval_splits) == {"test": "test"}
    assert job.optim == StudyConfig().spatial_init.optim
    # the baseline runs alone but keeps the static stage's CPUs free for it: neither waits
    assert names["pretrain/baseline"].config.alone and names["pretrain/baseline"].config.beside == 0.6

    scratch = by_name(build_study(load_config(StudyConfig, None, {"spatial_init.mode": "from_scratch"})))
    assert not any(n.startswith("static_pretrain/") or "synth_static" in n for n in scratch)
    own = by_name(build_study(load_config(StudyConfig, None, {"dynamic_score.spatial.checkpoint": "/w/r2d10.pt"})))
    assert "static_pretrain/r2d10-w8" in own  # Alg. 1/2's spatial model still starts from it
    two = by_name(build_study(load_config(StudyConfig, None, {"algorithm.spatial.name": "r2d18"})))
    assert [n for n in two if n.startswith("static_pretrain/")] == ["static_pretrain/r2d10-w8",
                                                                  "static_pretrain/r2d18-w8"]
    assert two["pretrain/baseline"].config.beside == 1.2
    assert all(role != "spatial_init" for role, _ in own["dynamic_score/baseline"].deps)
    k400 = by_name(build_study(load_config(StudyConfig, REPO / "pipelines" / "configs" / "drl_r3d18_k400_1x16_100e.yaml")))
    assert not any(n.startswith("static_pretrain/") or "synth_static" in n for n in k400)
    assert k400["pretrain/baseline"].config.beside == 0


def test_binding_puts_the_static_model_in_the_spatial_models_checkpoint():
    from pipelines.stages.base import StageResult
    from pipelines.stages.train import bind

    names = by_name(build_study(StudyConfig()))

    def bound(stage: str):
        spec = names[stage]
        return bind(spec.config, {role: StageResult(dep, "k", "/d", {"path": f"/split/{dep}", "model": f"/m/{dep}.pt"})
                                  for role, dep in spec.deps})

    distill = bound("dynamic_score/baseline")
    assert distill.model.checkpoint == "/m/static_pretrain/r2d10-w8.pt" and distill.spatial_init == ""
    assert distill.teacher == "/m/pretrain/baseline.pt"
    adversarial = bound("pretrain/adversarial")
    assert adversarial.algorithm.spatial.checkpoint == "/m/static_pretrain/r2d10-w8.pt"
    assert adversarial.model.checkpoint == "" and adversarial.init == "/m/pretrain/baseline.pt"
    assert bound("pretrain/static_inputs").algorithm.spatial.checkpoint == ""
