"""The evaluate stage on a test set with its own class list (Mimetics-style), and the few-shot
stage on held-out classes, run on real decoded splits and a saved model."""

import pytest
import torch

from drl_core.config import ClipConfig, ModelConfig
from drl_core.models import build_model
from pipelines.config.schema import FewShotConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.stages import evaluate, fewshot
from pipelines.stages.base import StageContext, StageResult, StageSpec
from pipelines.train.model_file import save_model

CLIP = ClipConfig(crop_size=16)


def _model(tmp_path, classes):
    torch.manual_seed(0)
    cfg = ModelConfig(name="r3d10", width=8)
    path = tmp_path / "model.pt"
    save_model(path, build_model(cfg, len(classes)), cfg, tuple(classes))
    return StageResult("pretrain/m", "model-key", str(tmp_path), {"model": str(path)})


def _split(path, make_split, **kw):
    folder = make_split(path, **kw)
    classes = folder.joinpath("classes.txt").read_text().splitlines()
    return StageResult(f"decode/{path.name}", f"key-{path.name}", str(folder), {"path": str(folder), "classes": classes})


def _ctx(tmp_path, kind, config, inputs):
    spec = StageSpec(f"{kind}/m", kind, config)
    (tmp_path / "stage").mkdir(exist_ok=True)
    return StageContext(spec, "k", tmp_path / "stage", inputs, None, tmp_path)


def test_evaluate_scores_a_test_set_with_the_models_head_by_class_name(tmp_path, make_split):
    test = _split(tmp_path / "mimetics", make_split, num_classes=2, videos_per_class=3, size=24)
    # the model knows more classes, in another order: "class 1" is its index 3
    model = _model(tmp_path, ["zumba", "class 0", "abseiling", "class 1"])
    cfg = evaluate.EvaluateStage(CLIP, InferenceStream(4), (), (("mimetics", "mimetics"),))
    out = evaluate.run(_ctx(tmp_path, "evaluate", cfg, {"model": model, "mimetics": test}))
    res = out["eval"]["mimetics"]
    assert res["classes"] == 2 and 0 <= res["acc1"] <= res["acc1_subset"] <= 1
    assert out["metrics"]["eval/acc1_mimetics_subset"] == res["acc1_subset"]


def test_fewshot_stage_reports_each_setting_with_a_confidence_interval(tmp_path, make_split):
    test = _split(tmp_path / "ssv2", make_split, num_classes=6, videos_per_class=4, size=24)
    model = _model(tmp_path, ["class 0", "other"])  # "class 0" was seen in pretraining: not in the pool
    cfg = fewshot.FewShotStage(FewShotConfig(ways=5, shots=(1, 2), queries=2, episodes=30), CLIP, InferenceStream(4))
    out = fewshot.run(_ctx(tmp_path, "fewshot", cfg, {"model": model, "test": test}))
    for s in ("5way1shot", "5way2shot"):
        r = out["fewshot"][s]
        assert r["classes"] == 5 and r["episodes"] == 30 and 0 <= r["acc"] <= 1 and r["ci95"] >= 0
        assert out["metrics"][f"fewshot/{s}/acc"] == r["acc"]
    assert len(list((tmp_path / "features").glob("*.npz"))) == 1  # extracted once for both settings


def test_fewshot_clip_items_keep_each_test_clip_s_features_in_a_cache_file_of_their_own(tmp_path, make_split):
    import dataclasses

    import numpy as np

    test = _split(tmp_path / "ssv2", make_split, num_classes=6, videos_per_class=4, size=24)
    model = _model(tmp_path, ["other"])
    def run(items, clip):
        cfg = fewshot.FewShotStage(FewShotConfig(ways=5, shots=(1,), queries=2, episodes=20, items=items), clip,
                                   InferenceStream(4))
        return fewshot.run(_ctx(tmp_path, "fewshot", cfg, {"model": model, "test": test}))["fewshot"]["5way1shot"]

    run("clip", CLIP)
    [per_clip] = [np.load(f) for f in (tmp_path / "features").glob("*.npz") if "clip_features" in np.load(f)]
    assert per_clip["clip_features"].shape == (24, CLIP.test_clips, 64)  # 24 videos × 10 clips × r3d10-w8's 64 dims
    np.testing.assert_allclose(per_clip["clip_features"].mean(1), per_clip["features"], rtol=1e-5, atol=1e-6)
    one = dataclasses.replace(CLIP, test_clips=1)  # one clip per video: a clip item is the video item
    assert run("clip", one) == run("video", one)
    assert len(list((tmp_path / "features").glob("*.npz"))) == 3  # per clip (10 and 1 clips), per video (1 clip)
    # the reference's SSv2 few-shot items: frame m of each of 5 segment-spaced windows, T items a video
    sparse = dataclasses.replace(CLIP, test_clips=5, test_spacing="segments", test_sparse=True)
    run("clip", sparse)
    [items] = [np.load(f)["clip_features"] for f in (tmp_path / "features").glob("*.npz")
               if "clip_features" in np.load(f) and np.load(f)["clip_features"].shape[1] not in (1, CLIP.test_clips)]
    assert items.shape == (24, 4, 64)  # make_split's clips are 4 frames: 4 items of 5 frames each


def test_evaluate_cuts_a_mapped_set_with_its_own_test_clips(tmp_path, make_split):
    import dataclasses

    test = _split(tmp_path / "mimetics", make_split, num_classes=2, videos_per_class=3, size=24)
    model = _model(tmp_path, ["class 0", "class 1"])
    def acc(clip, own=()):
        cfg = evaluate.EvaluateStage(clip, InferenceStream(4), (), (("mimetics", "mimetics"),), own)
        return evaluate.run(_ctx(tmp_path, "evaluate", cfg, {"model": model, "mimetics": test}))["eval"]["mimetics"]

    too_large = dataclasses.replace(CLIP, crop_size=32)  # the split's frames are 24 pixels
    with pytest.raises(ValueError, match="smaller than the crop size 32"):
        acc(CLIP, (("mimetics", too_large),))
    assert acc(too_large, (("mimetics", CLIP),)) == acc(CLIP)  # its own clips, not the stage's
    with pytest.raises(ValueError, match="smaller than the crop size 32"):
        acc(too_large, (("elsewhere", CLIP),))  # another set's clips are not its own


def test_evaluate_cut_by_ray_data_in_its_placement_group_equals_cut_in_the_task(ray_local, tmp_path, make_split):
    """The runner's path: the stage task in its placement group, its test clips cut by Ray Data
    tasks in the group's second bundle; the same accuracies and probes as cut in the task."""
    import ray

    from pipelines.stages.runner import KINDS, execute, task_options

    test = _split(tmp_path / "test", make_split, num_classes=2, videos_per_class=3, size=24)
    inputs = {"model": _model(tmp_path, ["class 0", "class 1"]), "test": test}
    local = evaluate.run(_ctx(tmp_path, "evaluate", evaluate.EvaluateStage(CLIP, InferenceStream(4), (("in_context", "test"),)),
                              inputs))
    cfg = evaluate.EvaluateStage(CLIP, InferenceStream(4, ray_data=True, max_tasks=2), (("in_context", "test"),))
    spec = StageSpec("evaluate/m", "evaluate", cfg, resources={"num_cpus": 1}, data_cpus=0.5)
    options, group = task_options(spec)
    try:
        remote = ray.get(ray.remote(execute).options(**options).remote(
            spec, KINDS["evaluate"], "k", str(tmp_path / "remote"), inputs, None, str(tmp_path)), timeout=300)
    finally:
        ray.util.remove_placement_group(group)
    assert remote.outputs["eval"] == local["eval"] and local["eval"]["in_context"]["acc1"] >= 0
