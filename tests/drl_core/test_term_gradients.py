"""Per-term gradients of the video model's objective (the diagnostic of why a DRL term does or
does not move the model)."""

import pytest
import torch

from drl_core.algorithms import build_algorithm
from drl_core.algorithms.base import Algorithm
from drl_core.config import AlgorithmConfig
from drl_core.metrics.term_gradients import flat_grad, term_gradients
from drl_core.models import create_model

MEAN, STD = (0.45,) * 3, (0.225,) * 3


def _algo(name: str) -> Algorithm:
    torch.manual_seed(0)
    video = create_model("r3d10", 3, width=8, dropout=0.0)
    spatial = create_model("r2d10", 3, width=8, dropout=0.0)
    return build_algorithm(AlgorithmConfig(name=name, attack_steps=2), video, spatial, MEAN, STD)


def _batch(seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"clips": torch.randn(4, 3, 4, 16, 16, generator=g), "label": torch.randint(0, 3, (4,), generator=g)}


@pytest.mark.parametrize("name", ["supervised", "adversarial", "spatial_adversary", "static_inputs"])
def test_the_video_terms_are_the_whole_of_what_the_loss_asks_of_the_video_model(name):
    algo = _algo(name).train()
    batch = _batch()
    out = algo(batch["clips"], batch["label"])
    params = list(algo.video.parameters())
    assert next(iter(out.video_terms)) == "ce"
    total = flat_grad(out.loss, params)
    parts = sum(flat_grad(t, params) for t in out.video_terms.values())
    torch.testing.assert_close(parts, total, rtol=1e-4, atol=1e-5)
    assert len(out.video_terms) == (1 if name == "supervised" else 2)


def test_term_gradients_average_norms_and_cosines_over_batches():
    algo = _algo("static_inputs")
    batches = [_batch(0), _batch(1)]
    res = term_gradients(algo, batches, torch.device("cpu"), freeze_bn=False)
    assert list(res) == ["ce", "kl_static"]
    assert res["ce"].cosine == pytest.approx(1.0, abs=1e-5)  # the CE term against itself
    by_hand = []
    for b in batches:
        out = algo(b["clips"], b["label"])
        by_hand.append(float(flat_grad(out.video_terms["kl_static"], list(algo.video.parameters())).norm()))
    assert res["kl_static"].norm == pytest.approx(sum(by_hand) / 2, rel=1e-4)
    assert -1.0 <= res["kl_static"].cosine <= 1.0 and res["kl_static"].value <= 0  # −λ·KL is never positive
    assert all(p.grad is None for p in algo.parameters())  # nothing accumulated, nothing updated
