"""Clip transforms on uint8 frames T×H×W×3: crop, colour jitter, flip, normalisation."""

from __future__ import annotations

from typing import Sequence

import torch


class ClipTransform:
    """Turn one uint8 clip T×H×W×3 into a normalised float clip C×T×S×S (S = ``crop_size``).

    Training: random crop, colour jitter (brightness, contrast, saturation; one draw per clip)
    and an optional horizontal flip. Test: centre crop only.
    """

    def __init__(self, crop_size: int, mean: Sequence[float], std: Sequence[float], train: bool,
                 flip: bool = False, jitter: float = 0.0) -> None:
        self.crop_size, self.train, self.flip, self.jitter = crop_size, train, flip, jitter
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
