import pytest
import torch

from drl_core.algorithms import build_algorithm, list_algorithms, static_clips
from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.engine import make_optimizer
from drl_core.models import create_model

CLIP = ClipConfig()


def _build(name: str, **kw):
    torch.manual_seed(0)
    cfg = AlgorithmConfig(name=name, **kw)
    video = create_model("r3d18", 3, width=8)
    spatial = create_model("r2d18", 3, width=8)
    return build_algorithm(cfg, video, spatial, CLIP.mean, CLIP.std)


@pytest.mark.parametrize("name", list_algorithms())
def test_one_step_changes_weights_with_finite_components(name):
    algo = _build(name)
    opt = make_optimizer(algo.parameters(), OptimConfig(lr=0.1))
    before = {k: v.clone() for k, v in algo.state_dict().items() if v.dtype.is_floating_point}
    clips, labels = torch.randn(4, 3, 4, 32, 32), torch.tensor([0, 1, 2, 0])
    out = algo(clips, labels)
    assert out.logits.shape == (4, 3)
    assert torch.isfinite(out.loss) and all(torch.isfinite(v) for v in out.components.values())
    out.loss.backward()
    opt.step()
    after = algo.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("video.") and "weight" in k for k in changed)
    if name in ("adversarial", "spatial_adversary"):
        assert any(k.startswith("spatial.") and "weight" in k for k in changed)


def test_adversarial_clips_differ_from_clean_and_are_used():
    """The adversary is really switched on: its clips differ and feed the video loss."""
    algo = _build("adversarial", beta=1.0)
    clips, labels = torch.randn(2, 3, 4, 32, 32), torch.tensor([0, 1])
    out = algo(clips, labels)
    adv = algo.last_adversarial
    assert adv is not None and not torch.equal(adv, clips)
    assert (adv - clips).abs().max() > 0
    # With beta=1 the video loss is CE on adversarial clips only: recompute it by hand.
    algo.eval()
    algo.video.train()
    ce_adv = torch.nn.functional.cross_entropy(algo.video(adv), labels)
    assert torch.isclose(out.components["ce_adv"], ce_adv.detach(), rtol=1e-3)
    assert not torch.isclose(out.components["ce_adv"], out.components["ce"])


def test_spatial_adversary_reverses_gradient_into_video_model():
    """Video grads equal ∂(CE − λ·KD); spatial grads equal ∂(λ·KD + CE_spatial), the reference's
    objective: the reversal really happens and the mimic is also a classifier."""
    import torch.nn.functional as F

    from drl_core.losses import kd_loss

    algo = _build("spatial_adversary", lam=0.5)
    clips, labels = torch.randn(3, 3, 4, 32, 32), torch.tensor([0, 1, 2])
    video_w, spatial_w = algo.video.fc.weight, algo.spatial.fc.weight

    def grad(loss, w):
        return torch.autograd.grad(loss, w, retain_graph=True)[0]

    out = algo(clips, labels)
    g_video, g_spatial = grad(out.loss, video_w), grad(out.loss, spatial_w)
    logits, sp_logits = algo.video(clips), algo.spatial(clips)
    g_ce = grad(F.cross_entropy(logits, labels), video_w)
    g_kd_video = grad(kd_loss(sp_logits.detach(), logits), video_w)
    g_kd_spatial = grad(kd_loss(sp_logits, logits.detach()), spatial_w)
    g_ce_spatial = grad(F.cross_entropy(sp_logits, labels), spatial_w)
    torch.testing.assert_close(g_video, g_ce - 0.5 * g_kd_video, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(g_spatial, 0.5 * g_kd_spatial + g_ce_spatial, rtol=1e-4, atol=1e-6)
    assert g_kd_video.abs().sum() > 0 and g_ce_spatial.abs().sum() > 0
    # the loss value, by hand
    by_hand = F.cross_entropy(logits, labels) + 0.5 * kd_loss(sp_logits, logits) + F.cross_entropy(sp_logits, labels)
    assert torch.isclose(out.loss, by_hand, rtol=1e-5)


@pytest.mark.parametrize("target", ["predicted", "label"])
def test_the_attack_pushes_the_spatial_model_away_from_the_chosen_target(target):
    """``predicted`` (the reference) attacks the video model's argmax, ``label`` the true label."""
    import copy

    from drl_core.adversaries import attack

    algo = _build("adversarial", attack_target=target)
    clips = torch.randn(4, 3, 4, 32, 32)
    ref = copy.deepcopy(algo)
    predicted = ref.video(clips).argmax(1)
    labels = (predicted + 1) % 3  # every label disagrees with the prediction
    aim = predicted if target == "predicted" else labels
    expected = attack("fgsm", ref.spatial, clips, aim, algo.epsilon, algo.mean, algo.std, algo.attack_steps)
    other = attack("fgsm", copy.deepcopy(algo).spatial, clips, labels if target == "predicted" else predicted,
                   algo.epsilon, algo.mean, algo.std, algo.attack_steps)
    algo(clips, labels)
    torch.testing.assert_close(algo.last_adversarial, expected)
    assert not torch.equal(algo.last_adversarial, other)


def test_static_clips_freeze_and_shuffle():
    clips = torch.arange(2 * 3 * 4 * 2 * 2, dtype=torch.float).view(2, 3, 4, 2, 2)
    frozen = static_clips(clips, "freeze")
    assert all(torch.equal(frozen[:, :, t], clips[:, :, 0]) for t in range(4))
    shuffled = static_clips(clips, "shuffle", torch.Generator().manual_seed(1))
    assert sorted(shuffled[0, 0, :, 0, 0].tolist()) == sorted(clips[0, 0, :, 0, 0].tolist())
    with pytest.raises(ValueError):
        static_clips(clips, "rewind")


def test_static_inputs_per_sample_scaling_weights_in_unit_interval():
    algo = _build("static_inputs", per_sample_scaling=True)
    out = algo(torch.randn(4, 3, 4, 32, 32), torch.tensor([0, 1, 2, 0]))
    assert 0.0 <= out.components["weight"].item() <= 1.0


def test_algorithm_config_validation():
    with pytest.raises(ValueError, match="epsilon"):
        AlgorithmConfig(epsilon=-0.1)
    with pytest.raises(ValueError, match="unknown algorithm"):
        AlgorithmConfig(name="drl9")
    with pytest.raises(ValueError, match="unknown model"):
        ModelConfig(name="vit")
    with pytest.raises(ValueError, match="needs a spatial model"):
        build_algorithm(AlgorithmConfig(name="adversarial"), create_model("r3d18", 2, width=8), None,
                        CLIP.mean, CLIP.std)


def test_defaults_from_the_supplement():
    cfg = AlgorithmConfig()
    assert (cfg.alpha, cfg.beta, cfg.lam, cfg.epsilon, cfg.attack_steps) == (0.5, 0.5, 0.5, 8 / 255, 5)
    assert cfg.attack_target == "predicted"
    with pytest.raises(ValueError, match="attack_target"):
        AlgorithmConfig(attack_target="random")
