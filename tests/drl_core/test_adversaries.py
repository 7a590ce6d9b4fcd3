import pytest
import torch
import torch.nn.functional as F

from drl_core.adversaries import attack, fgsm_momentum, pgd
from drl_core.models import create_model

MEAN, STD = (0.45, 0.4, 0.35), (0.225, 0.25, 0.2)


def _pixels(x):
    return x * torch.tensor(STD).view(1, 3, 1, 1, 1) + torch.tensor(MEAN).view(1, 3, 1, 1, 1)


@pytest.mark.parametrize("method", [fgsm_momentum, pgd])
def test_attack_stays_within_epsilon_in_pixel_space(method):
    torch.manual_seed(0)
    model = create_model("r2d18", 4, width=8).eval()
    pixels = torch.rand(2, 3, 4, 32, 32)
    x = (pixels - torch.tensor(MEAN).view(1, 3, 1, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1, 1)
    y = torch.tensor([0, 1])
    eps = 8 / 255
    adv = method(lambda c: F.cross_entropy(model(c), y), x, eps, MEAN, STD, steps=3)
    diff = (_pixels(adv) - pixels).abs()
    assert diff.max().item() <= eps + 1e-5
    assert diff.max().item() > eps / 2  # it really moved
    assert _pixels(adv).min() >= -1e-5 and _pixels(adv).max() <= 1 + 1e-5


def test_fgsm_raises_the_loss_and_keeps_bn_statistics():
    torch.manual_seed(0)
    model = create_model("r2d18", 4, width=8)
    with torch.no_grad():
        model.train()(torch.randn(4, 3, 4, 32, 32))  # give BN non-trivial statistics
    stats = [b.clone() for n, b in model.named_buffers() if "running_mean" in n]
    x, y = torch.randn(4, 3, 4, 32, 32), torch.tensor([0, 1, 2, 3])
    adv = attack("fgsm", model, x, y, 8 / 255, MEAN, STD, steps=5)
    model.eval()
    with torch.no_grad():
        assert F.cross_entropy(model(adv), y) > F.cross_entropy(model(x), y)
    after = [b for n, b in model.named_buffers() if "running_mean" in n]
    assert all(torch.equal(a, b) for a, b in zip(stats, after))
    assert model.training is False  # restored to the mode it was put in


def test_unknown_attack():
    model = create_model("r2d18", 2, width=8)
    with pytest.raises(ValueError, match="fgsm"):
        attack("cw", model, torch.randn(1, 3, 2, 16, 16), torch.tensor([0]), 0.01, MEAN, STD, 1)
