import dataclasses

import pytest

from pipelines.config.loader import ConfigError, load_config, save_config, to_dict
from pipelines.config.schema import StudyConfig


def _write(tmp_path, text):
    p = tmp_path / "study.yaml"
    p.write_text(text)
    return p


def test_defaults_load_without_a_file():
    cfg = load_config(StudyConfig, None)
    assert cfg.benchmark.bias == StudyConfig().benchmark.bias
    assert cfg.decode.clip_seconds == 1.0


@pytest.mark.parametrize("text,message", [
    ("benchmark:\n  biass: 0.5\n", "benchmark.biass: unknown key"),
    ("decode:\n  num_frames: eight\n", "decode.num_frames: expected int, got 'eight'"),
    ("benchmark:\n  bias: 1.5\n", "benchmark.bias: must lie in [0, 1]"),
    ("calibration:\n  model:\n    name: vit\n", "calibration.model.name: unknown model 'vit'"),
    ("decode:\n  backends: [decord, ffmpeg]\n", "decode.backends: unknown backend 'ffmpeg'"),
    ("benchmark: 3\n", "benchmark: expected a mapping"),
    ("calibration:\n  optim:\n    lr: -1\n", "calibration.optim.lr: must be positive"),
    ("resources:\n  pg_cleaner: sometimes\n", "resources.pg_cleaner: must be auto, on or off"),
    ("resources:\n  train_log_level: info\n", "resources.train_log_level: must be one of DEBUG, INFO, WARNING"),
])
def test_bad_values_name_their_key_path(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(StudyConfig, _write(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_overrides_are_checked_like_file_keys(tmp_path):
    cfg = load_config(StudyConfig, None, {"benchmark.bias": 0.25, "pretrain.clip.test_clips": 3})
    assert cfg.benchmark.bias == 0.25 and cfg.pretrain.clip.test_clips == 3
    with pytest.raises(ConfigError, match="benchmark.nope"):
        load_config(StudyConfig, None, {"benchmark.nope": 1})


def test_resolved_config_round_trips(tmp_path):
    cfg = load_config(StudyConfig, None, {"benchmark.fps": [10, 20]})
    save_config(cfg, tmp_path / "resolved.yaml")
    again = load_config(StudyConfig, tmp_path / "resolved.yaml")
    assert again == cfg and to_dict(again)["benchmark"]["fps"] == [10, 20]


def test_configs_are_frozen():
    cfg = StudyConfig()
    with pytest.raises(Exception):
        cfg.seed = 3  # type: ignore[misc]


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(StudyConfig, tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(StudyConfig, _write(tmp_path, "a: [1, 2\n"))


def test_presets_fill_only_what_the_file_leaves_unset(tmp_path):
    path = _write(tmp_path, "pretrain:\n  optim: {epochs: 8}\n")
    cfg = load_config(StudyConfig, path, presets={"pretrain.optim.epochs": 2, "drl.optim.epochs": 1})
    assert cfg.pretrain.optim.epochs == 8 and cfg.drl.optim.epochs == 1


# A partial block merges onto the study's defaults (issue #13, item 1).
@pytest.mark.parametrize("dotted,value,kept", [
    ("dynamic_score.spatial.width", 16, {"dynamic_score.spatial.name": "r2d10"}),
    ("pretrain.optim.epochs", 2, {"pretrain.optim.optimizer": "adamw", "pretrain.optim.lr": 1e-3,
                                  "pretrain.optim.batch_size": 16}),
    ("algorithm.lam", 1.0, {"algorithm.attack_steps": 2}),
    ("finetune.optim.epochs", 1, {"finetune.optim.freeze_bn": True, "finetune.optim.optimizer": "adamw"}),
])
def test_a_partial_block_keeps_the_study_defaults(dotted, value, kept):
    cfg = load_config(StudyConfig, None, {dotted: value})
    plain = to_dict(cfg)
    for key, want in {dotted: value, **kept}.items():
        node = plain
        for part in key.split("."):
            node = node[part]
        assert node == want, key


def test_smoke_presets_keep_every_other_default():
    from pipelines.full_study import SMOKE

    smoke, default = to_dict(load_config(StudyConfig, None, presets=SMOKE)), to_dict(StudyConfig())
    for block in ("pretrain", "drl", "dynamic_score", "finetune"):
        changed = {k for k, v in smoke[block]["optim"].items() if v != default[block]["optim"][k]}
        assert changed <= {"epochs"}, block  # SMOKE sets only epochs (some equal the default)


def test_a_partial_yaml_block_and_a_dataset_finetune_merge(tmp_path):
    text = ("drl:\n  optim: {epochs: 3}\nfinetune:\n  optim: {lr: 0.01}\n"
            "data:\n  downstream:\n    - {name: synth_paths, test_split: test, ooc_split: '', finetune: {epochs: 7}}\n  fewshot: []\n")
    cfg = load_config(StudyConfig, _write(tmp_path, text))
    assert cfg.drl.optim.epochs == 3 and cfg.drl.optim.optimizer == "adamw" and cfg.drl.optim.lr == 1e-4
    ft = cfg.data.downstream[0].finetune
    assert ft.epochs == 7 and ft.lr == 0.01 and ft.freeze_bn and ft.batch_size == 8


def test_a_partial_finetune_clip_starts_from_pretrain_clip_and_keeps_its_normalisation(tmp_path):
    text = "pretrain:\n  clip: {crop_size: 32, jitter: 0.1}\nfinetune:\n  clip: {jitter: 0.4, hue: 0.3}\n"
    cfg = load_config(StudyConfig, _write(tmp_path, text))
    assert cfg.finetune_clip == dataclasses.replace(cfg.pretrain.clip, jitter=0.4, hue=0.3)
    assert cfg.pretrain.clip.crop_size == 32 and cfg.pretrain.clip.jitter == 0.1
    default = load_config(StudyConfig, None)
    assert default.finetune.clip is None and default.finetune_clip == default.pretrain.clip
    by_set = load_config(StudyConfig, None, {"finetune.clip.jitter": 0.4})  # --set starts from pretrain.clip too
    assert by_set.finetune_clip == dataclasses.replace(by_set.pretrain.clip, jitter=0.4)
    with pytest.raises(ConfigError, match=r"^finetune.clip.mean: must be pretrain.clip.mean"):
        load_config(StudyConfig, _write(tmp_path, "finetune:\n  clip: {mean: [0.5, 0.5, 0.5]}\n"))


def test_search_block_replaces_the_default_search(tmp_path):
    cfg = load_config(StudyConfig, _write(tmp_path, "search:\n  algorithm.lam: {choice: [1.0]}\n"))
    assert list(cfg.search) == ["algorithm.lam"]


@pytest.mark.parametrize("text,message", [
    ("seed: 1\nseed: 2\n", "seed: duplicate key (lines 1 and 2)"),
    ("benchmark:\n  bias: 0.5\n  bias: 0.6\n", "bias: duplicate key"),
    ("benchmark:\n  bias: .inf\n", "benchmark.bias: must be a finite number"),
    ("benchmark:\n  bias: .nan\n", "benchmark.bias: must be a finite number"),
    ("pretrain:\n  optim: {lr: .nan}\n", "pretrain.optim.lr: must be a finite number"),
    ("pretrain:\n  optim: {momentum: -0.9}\n", "pretrain.optim.momentum: must lie in [0, 1)"),
    ("seed: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels"),
    ("- 1\n- 2\n", "<root>: expected a mapping"),
])
def test_hostile_or_wrong_yaml_is_a_one_line_error(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(StudyConfig, _write(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
              for i in range(1, 9)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < 1000
    with pytest.raises(ConfigError, match="expands to more than") as err:
        load_config(StudyConfig, path)
    assert "\n" not in str(err.value)


def test_a_parser_recursion_is_a_one_line_error(tmp_path):
    with pytest.raises(ConfigError, match="nested") as err:
        load_config(StudyConfig, _write(tmp_path, "seed: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert "\n" not in str(err.value)


def test_loading_a_config_imports_no_torch():
    """Drivers and Ray Train's controllers read configs; torch would cost each of them its import."""
    import subprocess
    import sys

    code = ("import sys; from pipelines.config.loader import load_config; from pipelines.config.schema import StudyConfig; "
            "load_config(StudyConfig, None); print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", (out.stdout, out.stderr)
