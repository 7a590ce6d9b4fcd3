"""Few-shot episodes: disjoint, balanced, seeded; classifiers; the confidence interval."""

import numpy as np
import pytest
import torch

from drl_core.metrics.few_shot import (CLASSIFIERS, CloserRecipe, eligible_classes, evaluate_few_shot,
                                       fit_closer_softmax, sample_episode)


def _labels(per_class=(20, 20, 20, 20, 20, 20, 3)) -> np.ndarray:
    return np.repeat(np.arange(len(per_class)), per_class)


def test_episodes_are_disjoint_balanced_and_within_the_pool():
    labels = _labels()
    classes = eligible_classes(labels, 1 + 15)
    assert classes.tolist() == [0, 1, 2, 3, 4, 5]  # class 6 has too few videos
    rng = np.random.default_rng(0)
    for _ in range(50):
        ep = sample_episode(labels, classes, 5, 1, 15, rng)
        assert len(set(ep.classes.tolist())) == 5 and set(ep.classes.tolist()) <= set(classes.tolist())
        assert not set(ep.support.tolist()) & set(ep.query.tolist())
        assert len(set(ep.query.tolist())) == len(ep.query) == 75
        for k, c in enumerate(ep.classes):  # item labels agree with the episode's class order
            assert (labels[ep.support[ep.support_labels == k]] == c).all()
            assert (labels[ep.query[ep.query_labels == k]] == c).sum() == 15
    pool = eligible_classes(labels, 16, pool=np.array([1, 3, 5, 6]))
    assert pool.tolist() == [1, 3, 5]


def test_episodes_are_seeded():
    labels = _labels()
    a = [sample_episode(labels, np.arange(6), 5, 5, 3, np.random.default_rng(7)) for _ in range(2)]
    b = sample_episode(labels, np.arange(6), 5, 5, 3, np.random.default_rng(8))
    assert np.array_equal(a[0].support, a[1].support) and np.array_equal(a[0].query, a[1].query)
    assert not np.array_equal(a[0].query, b.query)


@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_separable_features_give_full_accuracy(classifier):
    rng = np.random.default_rng(0)
    labels = _labels((12,) * 6)
    centres = rng.normal(0, 1, (6, 16)) * 10
    feats = torch.from_numpy(centres[labels] + rng.normal(0, 0.1, (len(labels), 16))).float()
    res = evaluate_few_shot(feats, torch.from_numpy(labels), 5, 1, 5, 20, seed=0, classifier=classifier)
    assert res.mean == 1.0 and res.accuracies.shape == (20,)


def reference_closer_baseline(x, y, ways, rng, recipe):
    """JerryYLi/video-drl models/fsl.py CloserBaseline(method="softmax")'s training, as written
    there (nn.Linear, torch.optim.SGD, np.random.permutation batches), in float64, with its
    initialisation drawn from ``rng`` as fit_closer_softmax draws it."""
    clf = torch.nn.Linear(x.shape[1], ways).double()
    bound = 1 / np.sqrt(x.shape[1])
    with torch.no_grad():
        clf.weight.copy_(torch.from_numpy(rng.uniform(-bound, bound, (x.shape[1], ways))).T)
        clf.bias.copy_(torch.from_numpy(rng.uniform(-bound, bound, ways)))
    optimizer = torch.optim.SGD(clf.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                dampening=recipe.dampening, weight_decay=recipe.weight_decay)
    for _ in range(recipe.epochs):
        rand_id = rng.permutation(len(x))
        for i in range(0, len(x), recipe.batch_size):
            selected = torch.from_numpy(rand_id[i: min(i + recipe.batch_size, len(x))])
            loss = torch.nn.functional.cross_entropy(clf(x[selected]), y[selected])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return clf.weight.detach().T, clf.bias.detach()


@pytest.mark.parametrize("shots", [1, 5])
def test_closer_softmax_trains_as_the_reference_s_closer_baseline(shots):
    gen = np.random.default_rng(4)
    y = torch.from_numpy(np.repeat(np.arange(5), shots))
    x = torch.from_numpy(gen.normal(0, 1, (len(y), 12)) + 2 * np.eye(5, 12)[y.numpy()])
    recipe = CloserRecipe(epochs=30)  # 30 of the reference's 100 epochs keep the test short
    ours = fit_closer_softmax(x, y, 5, np.random.default_rng(9), recipe)
    theirs = reference_closer_baseline(x, y, 5, np.random.default_rng(9), recipe)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(ours[0], fit_closer_softmax(x, y, 5, np.random.default_rng(9), CloserRecipe(epochs=1))[0])
    assert CloserRecipe() == CloserRecipe(0.01, 0.9, 0.9, 1e-3, 100, 4)  # models/fsl.py's numbers


def test_every_classifier_sees_the_same_episodes(monkeypatch):
    from drl_core.metrics import few_shot

    gen = np.random.default_rng(5)
    labels = _labels((8,) * 6)
    feats = torch.from_numpy(gen.normal(0, 1, (len(labels), 6))).float()
    drawn: dict[str, list] = {}
    for c in CLASSIFIERS:
        seen = drawn.setdefault(c, [])
        monkeypatch.setattr(few_shot, "sample_episode", lambda *a, seen=seen: seen.append(sample_episode(*a)) or seen[-1])
        evaluate_few_shot(feats, torch.from_numpy(labels), 5, 1, 2, 30, seed=2, classifier=c)
    for c in CLASSIFIERS:
        assert len(drawn[c]) == 30
        assert all(np.array_equal(a.support, b.support) and np.array_equal(a.query, b.query)
                   for a, b in zip(drawn[c], drawn["nearest_centroid"])), c
    monkeypatch.undo()
    once, again = (evaluate_few_shot(feats, torch.from_numpy(labels), 5, 1, 2, 30, seed=2, classifier="closer_softmax")
                   for _ in range(2))
    assert np.array_equal(once.accuracies, again.accuracies)


def test_mean_and_confidence_interval_match_a_hand_computation():
    rng = np.random.default_rng(1)
    labels = _labels((10,) * 6)
    feats = torch.from_numpy(rng.normal(0, 1, (len(labels), 8))).float()  # chance-level features
    res = evaluate_few_shot(feats, torch.from_numpy(labels), 5, 1, 3, 200, seed=3)
    accs = res.accuracies
    assert res.mean == pytest.approx(accs.sum() / len(accs))
    sd = np.sqrt(((accs - accs.mean()) ** 2).sum() / (len(accs) - 1))
    assert res.ci95 == pytest.approx(1.96 * sd / np.sqrt(200))
    assert 0.1 < res.mean < 0.35 and res.ci95 > 0  # 5-way chance is 0.2
    again = evaluate_few_shot(feats, torch.from_numpy(labels), 5, 1, 3, 200, seed=3)
    assert np.array_equal(again.accuracies, accs)


def test_too_few_classes_is_an_error_saying_what_is_needed():
    labels = _labels((4,) * 6)
    with pytest.raises(ValueError, match="needs 5 classes with at least 6 videos"):
        evaluate_few_shot(torch.zeros(len(labels), 4), torch.from_numpy(labels), 5, 1, 5, 10, seed=0)
