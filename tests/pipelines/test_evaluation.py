"""Test-time protocols: 10-clip logit averaging (test clips cut here or by Ray Data tasks), and
scoring a test set with another class list through the model's own head (Mimetics on Kinetics)."""

import pytest
import torch

from drl_core.config import ClipConfig
from drl_core.engine import Predictions
from drl_core.models import create_model
from pipelines.data.shards import open_split
from pipelines.data.inference_stream import InferenceStream
from pipelines.evaluation import mapped_accuracy, predictions


@pytest.mark.parametrize("ray_data", [False, True], ids=["local", "ray_data"])
def test_ten_clip_logits_are_the_mean_of_the_centre_crop_logits_of_uniform_windows(tmp_path, make_split, ray_data,
                                                                                    request):
    if ray_data:
        request.getfixturevalue("ray_local")
    split = make_split(tmp_path / "test", num_classes=3, videos_per_class=2, frames=13, clip_frames=4, size=24)
    clip = ClipConfig(crop_size=16, test_clips=10)
    torch.manual_seed(0)
    model = create_model("r3d10", num_classes=3, width=8).eval()
    pred, _ = predictions(model, split, clip, InferenceStream(4, ray_data=ray_data), torch.device("cpu"))
    # by hand: windows start at rint(linspace(0, 13 - 4, 10)) = 0 1 2 3 4 5 6 7 8 9 of each row,
    # crop rows 4..20 and columns 4..20, normalise, one clip at a time
    index = open_split(split)
    starts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    mean, std = torch.tensor(clip.mean).view(3, 1, 1, 1), torch.tensor(clip.std).view(3, 1, 1, 1)
    assert len(pred.logits) == len(index) == 6
    for v in range(len(index)):
        frames = torch.from_numpy(index.frames(v))
        clips = [(frames[s:s + 4, 4:20, 4:20].permute(3, 0, 1, 2).float() / 255 - mean) / std for s in starts]
        with torch.no_grad():
            per_clip = torch.stack([model(c.unsqueeze(0))[0] for c in clips])
        assert torch.allclose(pred.logits[v], per_clip.mean(0), atol=1e-5)
        assert pred.labels[v] == index.labels[v]


@pytest.mark.parametrize("ray_data", [False, True], ids=["local", "ray_data"])
def test_segment_spaced_sparse_items_are_the_references_by_hand(tmp_path, make_split, ray_data, request):
    """``test_spacing: segments`` with ``test_sparse`` (the reference's SSv2 few-shot clips)."""
    if ray_data:
        request.getfixturevalue("ray_local")
    split = make_split(tmp_path / "test", num_classes=2, videos_per_class=2, frames=13, clip_frames=4, size=24)
    clip = ClipConfig(crop_size=16, test_clips=3, test_spacing="segments", test_sparse=True)
    torch.manual_seed(0)
    model = create_model("r3d10", num_classes=2, width=8).eval()
    pred, _ = predictions(model, split, clip, InferenceStream(3, ray_data=ray_data), torch.device("cpu"),
                          per_clip=True)
    # by hand: 13 - 4 - 1 = 8 frames in 3 segments of 8/3, windows at the first frame at or after
    # each centre, ceil(4/3, 4, 20/3) = 2, 4, 7; item m is frame m of each window
    items = [[2 + m, 4 + m, 7 + m] for m in range(4)]
    index = open_split(split)
    mean, std = torch.tensor(clip.mean).view(3, 1, 1, 1), torch.tensor(clip.std).view(3, 1, 1, 1)
    assert pred.clip_features.shape[:2] == (4, 4)  # 4 videos × 4 items
    for v in range(len(index)):
        frames = torch.from_numpy(index.frames(v))
        clips = [(frames[f][:, 4:20, 4:20].permute(3, 0, 1, 2).float() / 255 - mean) / std for f in items]
        with torch.no_grad():
            per_item = torch.stack([model(c.unsqueeze(0))[0] for c in clips])
        assert torch.allclose(pred.logits[v], per_item.mean(0), atol=1e-5)


def test_mapped_accuracy_matches_classes_by_name_and_restricts_the_argmax():
    model_classes = ("abseiling", "bowling", "canoeing or kayaking", "zumba")
    split_classes = ("bowling", "canoeing or kayaking")  # the test set's own list, e.g. Mimetics
    logits = torch.tensor([[9.0, 5.0, 1.0, 0.0],    # bowling: argmax abseiling, within the set bowling
                           [0.0, 1.0, 3.0, 2.0],    # canoeing: right either way
                           [0.0, 4.0, 3.0, 9.0]])   # canoeing: zumba overall, bowling within the set
    pred = Predictions(logits, torch.zeros(3, 2), torch.tensor([0, 1, 1]), torch.arange(3))
    res = mapped_accuracy(pred, split_classes, model_classes)
    assert res["acc1"] == pytest.approx(1 / 3) and res["acc1_subset"] == pytest.approx(2 / 3)
    assert res["classes"] == 2
    with pytest.raises(ValueError, match="mimetics: classes not in the model's class list: 'miming'"):
        mapped_accuracy(pred, ("bowling", "miming"), model_classes, "mimetics")


def test_a_training_job_tests_on_its_test_clip_where_it_has_one(tmp_path, make_split):
    """A fine-tuning dataset's ``test_clip`` cuts the fine-tuned model's test items."""
    import dataclasses

    from drl_core.config import ModelConfig, OptimConfig
    from pipelines.evaluation import evaluate_job
    from pipelines.train.job import TrainJob

    split = make_split(tmp_path / "test", num_classes=2, videos_per_class=2, frames=13, clip_frames=4, size=24)
    model = create_model("r3d10", num_classes=2, width=8).eval()
    clip = ClipConfig(crop_size=16, test_clips=2)
    job = TrainJob("classify", "", ModelConfig(), OptimConfig(), clip, eval_splits=(("test", str(split)),),
                   inference_stream=InferenceStream(4))
    plain = evaluate_job(job, None, model, torch.device("cpu"))["test"]["acc1"]
    assert evaluate_job(dataclasses.replace(job, clip=dataclasses.replace(clip, crop_size=32), test_clip=clip),
                        None, model, torch.device("cpu"))["test"]["acc1"] == plain
    with pytest.raises(ValueError, match="smaller than the crop size 32"):
        evaluate_job(dataclasses.replace(job, test_clip=dataclasses.replace(clip, crop_size=32)), None, model,
                     torch.device("cpu"))
