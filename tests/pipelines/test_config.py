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
])
def test_bad_values_name_their_key_path(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(StudyConfig, _write(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_overrides_are_checked_like_file_keys(tmp_path):
    cfg = load_config(StudyConfig, None, {"benchmark.bias": 0.25, "decode.test_clips": 3})
    assert cfg.benchmark.bias == 0.25 and cfg.decode.test_clips == 3
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
