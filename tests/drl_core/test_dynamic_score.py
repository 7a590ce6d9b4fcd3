import pytest
import torch
from torch import nn

from drl_core.algorithms.distillation import SpatialDistillation
from drl_core.config import OptimConfig
from drl_core.engine import predict
from drl_core.metrics.dynamic_score import distill_spatial, ds_parts, dynamic_score, score_models, static_probe
from drl_core.models import create_model


class FirstFrameModel(nn.Module):
    """Sees only frame 0: a purely static model."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x, return_features=False):
        feats = x[:, :, 0].mean((2, 3))
        logits = self.fc(feats) * 5
        return (logits, feats) if return_features else logits


class FrameDifferenceModel(FirstFrameModel):
    """Responds only to the change between consecutive frames: a purely dynamic model."""

    def forward(self, x, return_features=False):
        feats = (x[:, :, 1:] - x[:, :, :-1]).abs().mean((2, 3, 4))
        logits = self.fc(feats) * 5
        return (logits, feats) if return_features else logits


def _loader(n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    clips = torch.randn(n, 3, 4, 8, 8, generator=gen)
    clips[: n // 2] = clips[: n // 2, :, :1].expand(-1, -1, 4, -1, -1)  # half of them static
    labels = torch.randint(0, 3, (n,), generator=gen)
    return [{"clips": clips[i:i + 8], "label": labels[i:i + 8], "video": torch.arange(i, min(i + 8, n))}
            for i in range(0, n, 8)]


def test_static_model_gets_zero_from_frozen_frame_probe():
    torch.manual_seed(0)
    ds = static_probe(FirstFrameModel(), _loader(), "freeze", torch.device("cpu"))
    assert ds.kl < 1e-6 and ds.agreement == 1.0


def test_dynamic_model_gets_clearly_positive_probe_and_ds():
    torch.manual_seed(0)
    model = FrameDifferenceModel()
    probe = static_probe(model, _loader(), "freeze", torch.device("cpu"))
    assert probe.kl > 0.05
    clean = predict(model, _loader(), torch.device("cpu"))
    assert static_probe(model, _loader(), "freeze", torch.device("cpu"), clean=clean).kl == pytest.approx(probe.kl)
    # A spatial model distilled on it cannot mimic it: DS stays clearly positive.
    spatial = create_model("r2d18", 3, width=8)
    distill_spatial(model, spatial, _loader(48, 1), OptimConfig(epochs=3, lr=0.05, step_size=10), torch.device("cpu"))
    ds = score_models(model, spatial, _loader(24, 2), torch.device("cpu"))
    assert ds.kl > 0.05
    assert set(ds.per_class) <= {0, 1, 2} and len(ds.per_video) == 24


def test_dynamic_score_of_identical_predictions_is_zero():
    logits = torch.randn(6, 4)
    ds = dynamic_score(logits, logits.clone(), torch.tensor([0, 1, 2, 3, 0, 1]))
    assert abs(ds.kl) < 1e-6 and ds.agreement == 1.0 and len(ds.per_class) == 4


def test_distillation_freezes_teacher():
    teacher, spatial = create_model("r3d18", 3, width=8), create_model("r2d18", 3, width=8)
    algo = SpatialDistillation(teacher, spatial).train()
    assert not teacher.training and spatial.training
    out = algo(torch.randn(2, 3, 4, 16, 16), torch.tensor([0, 1]))
    out.loss.backward()
    assert all(p.grad is None for p in teacher.parameters())


def test_ds_parts_splits_ds_into_cross_entropy_minus_entropy():
    gen = torch.Generator().manual_seed(0)
    video, spatial = torch.randn(40, 5, generator=gen) * 3, torch.randn(40, 5, generator=gen)
    labels = torch.randint(0, 5, (40,), generator=gen)
    parts = ds_parts(video, spatial, labels)
    assert parts["ds"] == pytest.approx(dynamic_score(video, spatial, labels).kl, abs=1e-5)
    assert parts["ds"] == pytest.approx(parts["cross_entropy"] - parts["video_entropy"], abs=1e-5)
    right = video.argmax(1) == labels
    assert parts["video_acc1"] == pytest.approx(float(right.float().mean()))
    assert parts["spatial_acc1"] == pytest.approx(float((spatial.argmax(1) == labels).float().mean()))
    ds = dynamic_score(video, spatial, labels).per_video
    assert parts["ds_video_right"] == pytest.approx(float(ds[right].mean()), abs=1e-5)
    assert parts["ds_video_wrong"] == pytest.approx(float(ds[~right].mean()), abs=1e-5)


def test_ds_parts_of_a_uniform_video_model_has_entropy_log_k():
    """A video model that spreads its prediction evenly has H(p) = log K, and no right clips."""
    video, spatial = torch.zeros(6, 4), torch.eye(4)[[0, 1, 2, 3, 0, 1]] * 2
    parts = ds_parts(video, spatial, torch.tensor([1, 1, 1, 1, 1, 1]))
    assert parts["video_entropy"] == pytest.approx(torch.log(torch.tensor(4.0)).item(), abs=1e-6)
    assert parts["spatial_acc1"] == pytest.approx(2 / 6)
    assert parts["ds_video_right"] != parts["ds_video_right"]  # NaN: the argmax of ties is class 0, never 1


def test_the_static_probes_read_the_loader_once_and_equal_one_pass_per_view():
    from drl_core.metrics.dynamic_score import static_probes

    class Counting(list):
        reads = 0

        def __iter__(self):
            Counting.reads += 1
            return super().__iter__()

    torch.manual_seed(0)
    model, cpu = FrameDifferenceModel(), torch.device("cpu")
    loader = Counting(_loader())
    clean, probes = static_probes(model, loader, ("freeze", "shuffle"), cpu)
    assert Counting.reads == 1
    assert torch.equal(clean.logits, predict(model, _loader(), cpu).logits)
    for mode in ("freeze", "shuffle"):  # each view as its own pass gives the same KL, the same permutations
        alone = static_probe(model, _loader(), mode, cpu, clean=clean)
        assert probes[mode].kl == alone.kl and probes[mode].per_class == alone.per_class
    assert probes["shuffle"].kl > 0 and probes["freeze"].kl > 0.05
