"""Clip transforms on uint8 frames T×H×W×3: crop, colour jitter, flip, normalisation."""

from __future__ import annotations

from typing import Sequence

import torch


class ClipTransform:
    """Turn one uint8 clip T×H×W×3 into a normalised float clip C×T×S×S (S = ``crop_size``).

    Training: random crop, colour jitter (brightness, contrast, saturation with strength
    ``jitter``, and a hue shift of up to ``hue`` of a turn; one draw per clip) and an optional
    horizontal flip. Test: centre crop only.
    """

    def __init__(self, crop_size: int, mean: Sequence[float], std: Sequence[float], train: bool,
                 flip: bool = False, jitter: float = 0.0, hue: float = 0.0) -> None:
        self.crop_size, self.train, self.flip, self.jitter, self.hue = crop_size, train, flip, jitter, hue
        self.mean = torch.tensor(mean).view(3, 1, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1, 1)

    def __call__(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        t, h, w, _ = frames.shape
        s = self.crop_size
        if h < s or w < s:
            raise ValueError(f"clip of {h}×{w} is smaller than the crop size {s}")
        if self.train:
            top = int(torch.randint(0, h - s + 1, (1,), generator=generator))
            left = int(torch.randint(0, w - s + 1, (1,), generator=generator))
        else:
            top, left = (h - s) // 2, (w - s) // 2
        clip = frames[:, top:top + s, left:left + s].permute(3, 0, 1, 2).float().div_(255)
        if self.train:
            if self.jitter > 0:
                clip = self._jitter(clip, generator)
            if self.hue > 0:
                clip = shift_hue(clip, self.hue * (2 * float(torch.rand((), generator=generator)) - 1))
            if self.flip and float(torch.rand((), generator=generator)) < 0.5:
                clip = clip.flip(-1)
        return (clip - self.mean) / self.std

    def _jitter(self, clip: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        b, c, s = (1 + self.jitter * (2 * torch.rand(3, generator=generator) - 1)).tolist()
        clip = clip * b
        grey = clip.mean(0, keepdim=True)
        clip = (clip - grey.mean()) * c + grey.mean()
        clip = (clip - grey) * s + grey
        return clip.clamp_(0, 1)


_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_RGB = torch.linalg.inv(_YIQ)  # once, not per clip


def shift_hue(clip: torch.Tensor, turns: float) -> torch.Tensor:
    """Rotate the hue of RGB ``clip`` (3×T×H×W in [0, 1]) by ``turns`` of a full turn (|turns| ≤
    0.5), keeping luma: a rotation of the chroma plane in YIQ space, in HSV's direction (positive
    turns move red towards green); the result is clamped."""
    import math

    angle = -2 * math.pi * turns
    cos, sin = math.cos(angle), math.sin(angle)
    rotate = torch.tensor([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]])
    matrix = _RGB @ rotate @ _YIQ
    return torch.einsum("ij,jthw->ithw", matrix.to(clip.dtype), clip).clamp_(0, 1)
