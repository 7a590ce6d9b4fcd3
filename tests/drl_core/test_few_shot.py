"""Few-shot episodes: disjoint, balanced, seeded; classifiers; the confidence interval."""

import numpy as np
import pytest
import torch

from drl_core.metrics.few_shot import eligible_classes, evaluate_few_shot, sample_episode


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


@pytest.mark.parametrize("classifier", ["nearest_centroid", "logistic"])
def test_separable_features_give_full_accuracy(classifier):
    rng = np.random.default_rng(0)
    labels = _labels((12,) * 6)
    centres = rng.normal(0, 1, (6, 16)) * 10
    feats = torch.from_numpy(centres[labels] + rng.normal(0, 0.1, (len(labels), 16))).float()
    res = evaluate_few_shot(feats, torch.from_numpy(labels), 5, 1, 5, 20, seed=0, classifier=classifier)
    assert res.mean == 1.0 and res.accuracies.shape == (20,)


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
