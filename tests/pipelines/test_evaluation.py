"""Test-time protocols: 10-clip logit averaging, and scoring a test set with another class list
through the model's own head (Mimetics on Kinetics)."""

import pytest
import torch

from drl_core.config import ClipConfig
from drl_core.data.transforms import ClipTransform
from drl_core.engine import Predictions
from drl_core.models import create_model
from pipelines.data.loaders import load_split
from pipelines.evaluation import mapped_accuracy, predictions


def test_ten_clip_logits_are_the_mean_of_each_clips_centre_crop_logits(tmp_path, make_split):
    split = make_split(tmp_path / "test", num_classes=3, videos_per_class=2, clips=10, frames=4, size=24)
    clip = ClipConfig(crop_size=16)
    torch.manual_seed(0)
    model = create_model("r3d10", num_classes=3, width=8).eval()
    pred, _ = predictions(model, split, clip, batch_size=4, device=torch.device("cpu"))
    # by hand: every stored clip of a video through the same centre-crop transform, one at a time
    data = load_split(split)
    transform = ClipTransform(clip.crop_size, clip.mean, clip.std, False, clip.flip, clip.jitter)
    assert len(pred.logits) == data.num_videos == 6
    for v in range(data.num_videos):
        rows = (data.video_index == v).nonzero().flatten()
        assert len(rows) == 10
        with torch.no_grad():
            per_clip = torch.stack([model(transform(data.frames[r]).unsqueeze(0))[0] for r in rows])
        assert torch.allclose(pred.logits[v], per_clip.mean(0), atol=1e-5)
        assert pred.labels[v] == data.labels[rows[0]]


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
