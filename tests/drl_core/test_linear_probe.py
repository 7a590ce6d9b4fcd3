"""The linear probe reaches 100% on separable features and chance-level on noise."""

import torch

from drl_core.metrics.linear_probe import fit_linear_probe


def test_separable_features_are_classified_perfectly():
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 16, generator=gen) * 5
    labels = torch.arange(4).repeat_interleave(30)
    feats = centres[labels] + torch.randn(120, 16, generator=gen) * 0.3
    probe = fit_linear_probe(feats, labels, 4)
    test_labels = torch.arange(4).repeat_interleave(10)
    test = centres[test_labels] + torch.randn(40, 16, generator=gen) * 0.3
    assert probe.accuracy(test, test_labels) == 1.0
    assert probe.logits(test).shape == (40, 4)


def test_noise_features_do_not_generalise():
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(4).repeat_interleave(50)
    probe = fit_linear_probe(torch.randn(200, 8, generator=gen), labels, 4, weight_decay=1e-2)
    assert probe.accuracy(torch.randn(400, 8, generator=gen), torch.arange(4).repeat_interleave(100)) < 0.4
