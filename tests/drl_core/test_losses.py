import math

import torch

from drl_core.losses import grad_reverse, jsd_loss, kd_loss, kl_per_sample


def test_kd_of_identical_logits_is_zero():
    logits = torch.randn(4, 7)
    assert kd_loss(logits, logits.clone()).abs().item() < 1e-6


def test_kd_matches_hand_computation():
    s, t = torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0.0]])
    p, q = torch.softmax(t, 1)[0], torch.softmax(s, 1)[0]
    expected = float((p * (p / q).log()).sum())
    assert math.isclose(kd_loss(s, t).item(), expected, rel_tol=1e-5)
    assert math.isclose(kd_loss(s, t, temperature=2.0).item(),
                        4 * kl_per_sample(t / 2, s / 2).item(), rel_tol=1e-5)


def test_jsd_symmetric_and_bounded():
    a, b = torch.randn(5, 3) * 5, torch.randn(5, 3) * 5
    assert torch.isclose(jsd_loss(a, b), jsd_loss(b, a), atol=1e-6)
    assert 0 <= jsd_loss(a, b).item() <= math.log(2) + 1e-6
    assert jsd_loss(a, a).item() < 1e-6


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.randn(3, requires_grad=True)
    (grad_reverse(x, 0.5) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([-0.5, -1.0, -1.5]))
    y = torch.randn(3, requires_grad=True)
    out = grad_reverse(y, 1.0)
    torch.testing.assert_close(out, y)
