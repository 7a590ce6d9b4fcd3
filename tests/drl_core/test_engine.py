import os
import time

import pytest
import torch

from drl_core.algorithms import Supervised
from drl_core.config import OptimConfig
from drl_core.engine import evaluate, fit, freeze_batchnorm, seed_everything, train_one_epoch, make_optimizer
from drl_core.metrics import keys
from drl_core.models import create_model


def _batches(n_batches, batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [{"clips": torch.randn(batch, 3, 4, 16, 16, generator=g),
             "label": torch.randint(0, 3, (batch,), generator=g),
             "video": torch.arange(batch)} for _ in range(n_batches)]


def _model(seed=0):
    torch.manual_seed(seed)
    model = create_model("r2d18", 3, width=8)
    freeze_batchnorm(model)  # BN statistics depend on the micro-batch; compare the math only
    return model


def test_gradient_accumulation_matches_one_big_batch():
    big = _batches(1, 8)
    small = [{k: v[i * 4:(i + 1) * 4] for k, v in big[0].items()} for i in range(2)]
    a, b = Supervised(_model()), Supervised(_model())
    cfg = OptimConfig(lr=0.1, momentum=0.0, weight_decay=0.0)
    train_one_epoch(a, big, make_optimizer(a.parameters(), cfg), torch.device("cpu"), freeze_bn=True)
    train_one_epoch(b, small, make_optimizer(b.parameters(), cfg), torch.device("cpu"), accumulate=2, freeze_bn=True)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-6)


def test_training_is_deterministic_under_a_seed():
    results = []
    for _ in range(2):
        seed_everything(3)
        model = create_model("r3d18", 3, width=8)
        fit(Supervised(model), _batches(2, 4), OptimConfig(epochs=2, lr=0.05, step_size=1), torch.device("cpu"))
        results.append(torch.cat([p.flatten() for p in model.parameters()]))
    torch.testing.assert_close(results[0], results[1])


def test_deterministic_seeding_fixes_the_cublas_workspace_unless_the_environment_chose_one(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    seed_everything(0, deterministic=False)
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ and torch.backends.cudnn.benchmark
    seed_everything(0, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8" and not torch.backends.cudnn.benchmark
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    seed_everything(0, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_fit_reports_shared_metric_keys_and_steps_the_schedule():
    seen = []
    model = _model()
    fit(Supervised(model), _batches(2, 4), OptimConfig(epochs=3, lr=0.1, step_size=1), torch.device("cpu"),
        on_epoch=lambda e, m: seen.append((e, m)), val_loader=_batches(1, 4, seed=1))
    assert [e for e, _ in seen] == [0, 1, 2]
    last = seen[-1][1]
    for key in (keys.TRAIN_LOSS, keys.TRAIN_ACC, keys.VAL_ACC, keys.VAL_LOSS, keys.LR, keys.EPOCH_SECONDS):
        assert key in last
    assert [m[keys.LR] for _, m in seen] == pytest.approx([0.1, 0.01, 0.001])
    assert 0.0 <= evaluate(model, _batches(1, 4), torch.device("cpu"))[keys.VAL_ACC] <= 1.0


def test_an_epoch_counts_the_seconds_its_steps_waited_for_data():
    def slow(batches, first_s, each_s):  # a stream whose first batch takes longest to arrive
        for i, batch in enumerate(batches):
            time.sleep(first_s if i == 0 else each_s)
            yield batch

    model = Supervised(_model())
    m = train_one_epoch(model, slow(_batches(3, 4), 0.3, 0.05), make_optimizer(model.parameters(), OptimConfig()),
                        torch.device("cpu"))
    assert m[keys.FIRST_BATCH_SECONDS] >= 0.3  # a sleep never returns early
    assert m[keys.DATA_WAIT_SECONDS] >= 0.3 + 2 * 0.05
    assert m[keys.FIRST_BATCH_SECONDS] <= m[keys.DATA_WAIT_SECONDS] <= m[keys.EPOCH_SECONDS]
    assert m[keys.EPOCH_CLIPS] == 12  # every batch was trained on


def test_freeze_bn_keeps_running_statistics():
    model = create_model("r2d18", 3, width=8)
    before = [b.clone() for n, b in model.named_buffers() if "running_mean" in n]
    algo = Supervised(model)
    train_one_epoch(algo, _batches(1, 4), make_optimizer(algo.parameters(), OptimConfig(lr=0.01)),
                    torch.device("cpu"), freeze_bn=True)
    after = [b for n, b in model.named_buffers() if "running_mean" in n]
    assert all(torch.equal(x, y) for x, y in zip(before, after))


def test_freeze_bn_fixes_the_video_model_only_and_alg_1_spatial_keeps_learning_its_statistics():
    from drl_core.algorithms import build_algorithm
    from drl_core.config import AlgorithmConfig, ClipConfig

    clip = ClipConfig()
    video, spatial = create_model("r3d10", 3, width=4), create_model("r2d10", 3, width=4)
    algo = build_algorithm(AlgorithmConfig(name="adversarial", attack_steps=1), video, spatial, clip.mean, clip.std)

    def means(m):
        return [b.clone() for n, b in m.named_buffers() if "running_mean" in n]

    v0, s0 = means(video), means(spatial)
    train_one_epoch(algo, _batches(1, 4), make_optimizer(algo.parameters(), OptimConfig(lr=0.01)),
                    torch.device("cpu"), freeze_bn=True)
    assert all(torch.equal(x, y) for x, y in zip(v0, means(video)))
    assert any(not torch.equal(x, y) for x, y in zip(s0, means(spatial)))


def test_accuracy_is_the_exact_fraction_of_correct_videos():
    from drl_core.engine import Predictions

    labels = torch.zeros(300, dtype=torch.long)
    logits = torch.zeros(300, 2)
    logits[270:, 1] = 1.0  # 270 of 300 right: exactly 0.9, which a float32 mean gives as 0.89999998
    pred = Predictions(logits, torch.zeros(300, 1), labels, torch.arange(300))
    assert pred.accuracy == 0.9 and pred.accuracy >= 0.90
    assert Predictions(logits[:0], torch.zeros(0, 1), labels[:0], labels[:0]).accuracy == 0.0


def _uint8_batches(mode: str, n_batches: int = 2, batch: int = 4, frames: int = 4, crop: int = 32):
    """uint8 batches with the jitter parameters that ``mode``'s training clips draw (on the CPU)."""
    import numpy as np

    from drl_core.data.draws import draw_clip

    g = torch.Generator().manual_seed(0)
    return [{"clips": torch.randint(0, 256, (batch, frames, crop, crop, 3), dtype=torch.uint8, generator=g),
             "jitter": torch.from_numpy(np.stack([draw_clip(0, 0, b * batch + k, 16, frames, 40, 40, crop, True, 0.4,
                                                            0.4, mode).jitter_params() for k in range(batch)])),
             "label": torch.randint(0, 3, (batch,), generator=g)} for b in range(n_batches)]


@pytest.mark.parametrize("mode", ["float", "pil"])
@pytest.mark.parametrize("name", ["supervised", "adversarial", "spatial_adversary", "static_inputs", "distill"])
def test_training_steps_never_wait_for_the_device(monkeypatch, name, mode):
    """#14: no per-step host syncs. On the meta device a tensor has no data, so anything that reads
    one back on the host (``float()``, ``bool()``, ``.item()``, ``.cpu()``) raises: a whole epoch of
    every algorithm's steps, with either jitter on the device, runs there, and its sums are read
    back once, at the epoch's end."""
    from drl_core.algorithms import SpatialDistillation, build_algorithm
    from drl_core.config import AlgorithmConfig, ClipConfig
    from drl_core.data.transforms import DeviceTransform

    import drl_core.engine as engine

    clip = ClipConfig(crop_size=32, jitter=0.4, hue=0.4, jitter_mode=mode)
    torch.manual_seed(0)
    video, spatial = create_model("r3d10", 3, width=4), create_model("r2d10", 3, width=4)
    if name == "distill":
        algo = SpatialDistillation(video, spatial)
    else:
        algo = build_algorithm(AlgorithmConfig(name=name, attack_steps=2), video, spatial, clip.mean, clip.std)
    meta = torch.device("meta")
    algo.to(meta)
    reads = []
    monkeypatch.setattr(engine, "read_back", lambda sums: reads.append(sums.shape) or [0.0] * len(sums))
    m = train_one_epoch(algo, _uint8_batches(mode), make_optimizer(algo.parameters(), OptimConfig(lr=0.1)), meta,
                        inputs=DeviceTransform.of(clip))
    assert m[keys.EPOCH_CLIPS] == 8 and len(reads) == 1  # both batches trained on, their sums read once
    with pytest.raises((RuntimeError, NotImplementedError)):  # the probe itself: a host read does raise there
        float(torch.ones((), device=meta))
