"""Hue jitter: a luma-preserving rotation of the chroma plane, drawn once per clip."""

import torch

from drl_core.data.transforms import ClipTransform, shift_hue


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


def test_the_transform_draws_a_hue_only_when_asked():
    frames = torch.randint(0, 256, (2, 8, 8, 3), dtype=torch.uint8)
    plain = ClipTransform(8, (0.5,) * 3, (0.25,) * 3, True, jitter=0.2)
    hued = ClipTransform(8, (0.5,) * 3, (0.25,) * 3, True, jitter=0.2, hue=0.2)
    a = plain(frames, torch.Generator().manual_seed(0))
    b = hued(frames, torch.Generator().manual_seed(0))
    assert not torch.allclose(a, b)
    torch.testing.assert_close(plain(frames, torch.Generator().manual_seed(0)), a)  # hue 0: the same draws as before
