"""The DS anatomy's benchmark-specific parts; the e2e study test runs it on a real store."""

import pytest
import torch

from drl_core.engine import Predictions
from pipelines.report.ds_anatomy import scene_classes, scene_following


def write_split(tmp_path, meta_rows):
    """A decoded split's manifest pointing into a benchmark dataset with ``meta_rows``."""
    data = tmp_path / "synth_source"
    (data / "annotations").mkdir(parents=True)
    (data / "annotations" / "test_meta.csv").write_text(
        "youtube_id,label,scene,scene_class,shape,fps,num_frames,duration\n"
        + "".join(f"{vid},a,{sc},{sc},bar,24,30,1.2\n" for vid, sc in meta_rows))
    split = tmp_path / "shards"
    split.mkdir()
    video = data / "videos" / "test" / "a" / "aaaaaaaaaaa_000001_000002.mp4"
    split.joinpath("manifest.csv").write_text(f"video_id,path,split,label_name,status\nx,{video},test,a,ok\n")
    return split, data / "annotations" / "test_meta.csv"


def test_scene_classes_follow_the_video_order(tmp_path):
    split, _ = write_split(tmp_path, [("aaaaaaaaaaa", 3), ("bbbbbbbbbbb", -1)])
    ids = ["bbbbbbbbbbb_000004_000005", "aaaaaaaaaaa_000001_000002"]
    assert scene_classes(split, ids).tolist() == [-1, 3]


def test_a_video_missing_from_the_scene_annotations_is_an_error_naming_both(tmp_path):
    split, meta = write_split(tmp_path, [("aaaaaaaaaaa", 3)])
    with pytest.raises(ValueError, match=rf"{meta}: no row for video 'ccccccccccc'"):
        scene_classes(split, ["ccccccccccc_000001_000002"])


def test_scene_following_counts_only_clips_shown_on_another_class_scene():
    # 4 videos: scenes 1 (home of label 1: not counted), 2 (another class, followed),
    # 0 (another class, not followed), -1 (no class: not counted)
    scenes = torch.tensor([1, 2, 0, -1])
    logits = torch.eye(3)[[1, 2, 1, 2]]
    pred = Predictions(logits, torch.zeros(4, 1), torch.tensor([1, 1, 1, 1]), torch.tensor([0, 1, 2, 3]))
    assert scene_following(pred, scenes) == pytest.approx(0.5)
    none = Predictions(logits[:1], torch.zeros(1, 1), torch.tensor([1]), torch.tensor([0]))
    assert scene_following(none, scenes) != scene_following(none, scenes)  # NaN: no such clip


def test_a_split_without_scene_annotations_is_an_error_naming_the_file(tmp_path):
    split, meta = write_split(tmp_path, [("aaaaaaaaaaa", 3)])
    meta.unlink()
    with pytest.raises(FileNotFoundError, match=rf"{meta}: no scene annotations"):
        scene_classes(split, ["aaaaaaaaaaa_000001_000002"])


def test_anatomy_tables_give_the_mean_and_each_seed():
    from pipelines.report.ds_anatomy import COLUMNS, SPLITS, markdown

    def measures(value):
        return {split: {key: value for key, _ in COLUMNS} for split in SPLITS}

    text = markdown({0: {"baseline": measures(1.0), "static_inputs": measures(2.0)},
                     1: {"baseline": measures(3.0), "static_inputs": measures(2.0)}})
    in_context = text.split("#### test out of context")[0]
    assert "| Baseline (supervised) | 2.000 ± 1.414 |" in in_context
    assert "| Baseline (supervised), seed 0 | 1.000 |" in in_context
    assert "| Baseline (supervised), seed 1 | 3.000 |" in in_context
    assert "| Alg. 3: static inputs | 2.000 ± 0.000 |" in in_context
    one_seed = markdown({0: {"baseline": measures(1.0)}})
    assert "1.000 ± nan" in one_seed and ", seed 0" not in one_seed


def test_a_clip_config_comes_back_from_its_mlflow_params_strings_included():
    """Params hold ``str(value)`` of the flattened config (pipelines.tracking): numbers, tuples and
    booleans parse as literals, strings (``jitter_mode: pil``) stay text."""
    from drl_core.config import ClipConfig
    from pipelines.config.loader import to_dict
    from pipelines.report.ds_anatomy import param_value
    from pipelines.tracking import flatten

    clip = ClipConfig(crop_size=16, flip=True, hue=0.1, jitter_mode="pil", mean=(0.4, 0.5, 0.6))
    params = {k: str(v) for k, v in flatten(to_dict(clip)).items()}
    values = {k: param_value(v) for k, v in params.items()}
    assert ClipConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}) == clip
    assert param_value("float") == "float" and param_value("1e-3") == 1e-3 and param_value("False") is False
