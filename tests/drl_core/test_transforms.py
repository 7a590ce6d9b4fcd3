"""The device transform: colour jitter per clip (a luma-preserving hue rotation among it), then
normalisation."""

import torch

from drl_core.data.transforms import DeviceTransform, shift_hue


def test_shift_hue_keeps_luma_and_a_full_turn_is_the_identity():
    clip = torch.rand(3, 2, 4, 4) * 0.2 + 0.4  # far from the clamp
    torch.testing.assert_close(shift_hue(clip.clone(), 0.0), clip, atol=1e-5, rtol=0)
    torch.testing.assert_close(shift_hue(clip.clone(), 1.0), clip, atol=1e-5, rtol=0)
    luma = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1, 1)
    shifted = shift_hue(clip.clone(), 0.2)
    torch.testing.assert_close((shifted * luma).sum(0), (clip * luma).sum(0), atol=1e-5, rtol=0)
    assert (shifted - clip).abs().max() > 0.01
    red = torch.tensor([0.6, 0.2, 0.2]).view(3, 1, 1, 1)
    assert shift_hue(red.clone(), 1 / 3)[1].item() > 0.3  # a third of a turn moves red towards green


def hand_jitter(clip: torch.Tensor, b: float, c: float, s: float, turns: float) -> torch.Tensor:
    """One clip 3×T×H×W in [0, 1], jittered step by step as the reference's transform does."""
    clip = clip * b
    grey = clip.mean(0, keepdim=True)
    clip = (clip - grey.mean()) * c + grey.mean()
    clip = ((clip - grey) * s + grey).clamp(0, 1)
    return shift_hue(clip, turns) if turns else clip


def test_the_device_transform_jitters_each_clip_with_its_own_draws_then_normalises():
    frames = torch.randint(0, 256, (3, 2, 6, 6, 3), dtype=torch.uint8)  # B×T×H×W×3
    params = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.2, 0.8, 1.1, 0.0], [0.9, 1.1, 0.7, 0.15]])
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    out = DeviceTransform(mean, std)(frames, params)
    assert out.shape == (3, 3, 2, 6, 6) and out.dtype == torch.float32
    m, sd = torch.tensor(mean).view(3, 1, 1, 1), torch.tensor(std).view(3, 1, 1, 1)
    for i in range(3):
        clip = frames[i].permute(3, 0, 1, 2).float() / 255
        torch.testing.assert_close(out[i], (hand_jitter(clip, *params[i].tolist()) - m) / sd, atol=1e-5, rtol=0)
    plain = DeviceTransform(mean, std)(frames)  # no jitter: normalisation alone (test clips)
    torch.testing.assert_close(plain[0], out[0], atol=1e-5, rtol=0)


def test_multi_clip_items_keep_their_clip_axis():
    frames = torch.randint(0, 256, (2, 4, 3, 5, 5, 3), dtype=torch.uint8)  # B×N×T×H×W×3
    out = DeviceTransform((0.5,) * 3, (0.25,) * 3)(frames)
    assert out.shape == (2, 4, 3, 3, 5, 5)
    torch.testing.assert_close(out[1, 2], (frames[1, 2].permute(3, 0, 1, 2).float() / 255 - 0.5) / 0.25)
