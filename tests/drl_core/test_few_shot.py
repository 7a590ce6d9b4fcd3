"""Few-shot episodes: disjoint, balanced, seeded; classifiers; the confidence interval."""

import numpy as np
import pytest
import torch

from drl_core.metrics.few_shot import (CLASSIFIERS, CloserRecipe, closer_softmax_scores, eligible_classes,
                                       episode_items, evaluate_few_shot, fit_closer_softmax, sample_episode)


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


def test_clip_items_make_every_support_clip_a_sample_and_keep_each_query_video_s_clips():
    labels = _labels((4,) * 6)
    clips = torch.arange(len(labels) * 3 * 2, dtype=torch.float32).view(len(labels), 3, 2)  # V×N×D
    ep = sample_episode(labels, np.arange(6), 5, 2, 1, np.random.default_rng(0))
    support, support_labels, query = episode_items(clips, ep)
    assert support.shape == (10 * 3, 2) and query.shape == (5 * 3, 2)
    assert torch.equal(support[3:6], clips[ep.support[1]]) and torch.equal(query[-3:], clips[ep.query[-1]])
    assert support_labels.tolist() == np.repeat(ep.support_labels, 3).tolist()
    videos = episode_items(clips.mean(1), ep)  # V×D: one sample per video
    assert videos[0].shape == (10, 2) and videos[1].tolist() == ep.support_labels.tolist()


@pytest.mark.parametrize("classifier", CLASSIFIERS)
def test_one_clip_per_video_is_the_video_item_and_more_clips_change_the_result(classifier):
    gen = np.random.default_rng(6)
    labels = _labels((6,) * 6)
    clips = torch.from_numpy(gen.normal(0, 1, (len(labels), 4, 8)) + np.eye(6, 8)[labels][:, None]).float()
    run = lambda f: evaluate_few_shot(f, torch.from_numpy(labels), 5, 1, 3, 40, seed=1, classifier=classifier)
    assert np.array_equal(run(clips[:, :1]).accuracies, run(clips[:, 0]).accuracies)
    assert not np.array_equal(run(clips).accuracies, run(clips[:, 0]).accuracies)


def test_clip_items_train_the_closer_softmax_as_the_reference_on_every_support_clip():
    """models/fsl.py CloserBaseline: support clips are samples (labels repeated per clip, class
    major), the query logits are averaged over each video's clips."""
    gen = np.random.default_rng(8)
    labels = _labels((5,) * 6)
    clips = torch.from_numpy(gen.normal(0, 1, (len(labels), 3, 6)) + 0.7 * np.eye(6)[labels][:, None]).float()
    res = evaluate_few_shot(clips, torch.from_numpy(labels), 5, 2, 3, 6, seed=4, classifier="closer_softmax")
    rng = np.random.default_rng(4)
    for e in range(6):
        ep = sample_episode(labels, np.arange(6), 5, 2, 3, rng)
        x = clips[ep.support].reshape(-1, 6).double()
        y = torch.from_numpy(np.repeat(np.arange(5), 2 * 3))
        weight, bias = reference_closer_baseline(x, y, 5, np.random.default_rng([4, e]), CloserRecipe())
        logits = (clips[ep.query].double() @ weight + bias).mean(1)  # Q×N×ways → Q×ways
        assert res.accuracies[e] == (logits.argmax(1).numpy() == ep.query_labels).mean()
    assert len(set(res.accuracies.tolist())) > 1  # the check above compares a spread of accuracies, not only perfect ones


def test_closer_softmax_episodes_trained_together_are_each_trained_as_alone():
    gen = np.random.default_rng(3)
    labels = _labels((6,) * 6)
    feats = torch.from_numpy(gen.normal(0, 1, (len(labels), 2, 5))).float()
    eps = [sample_episode(labels, np.arange(6), 5, 2, 2, gen) for _ in range(5)]
    together = closer_softmax_scores(feats, eps, 5, seed=1)
    alone = closer_softmax_scores(feats, eps, 5, seed=1, chunk_bytes=1)  # one episode at a time
    for e, (a, b) in enumerate(zip(together, alone)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
        x, y, q = episode_items(feats, eps[e])
        weight, bias = fit_closer_softmax(x, y, 5, np.random.default_rng([1, e]))
        torch.testing.assert_close(a, q.double() @ weight + bias, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(together[0], together[1])


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
