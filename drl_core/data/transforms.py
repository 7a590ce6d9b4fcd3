"""The device side of the input pipeline: uint8 clips → normalised float clips, with each
training clip's colour jitter (drawn on the CPU, :mod:`drl_core.data.draws`) applied in a batch:
ours in float, or the reference's PIL arithmetic (:mod:`drl_core.data.pil_jitter`)."""

from __future__ import annotations

import math
from typing import Sequence

import torch

from drl_core.config import ClipConfig
from drl_core.data.pil_jitter import pil_colour_jitter

_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_RGB = torch.linalg.inv(_YIQ)  # once, not per clip


class DeviceTransform:
    """``clips`` uint8 B×T×H×W×3 (or B×N×T×H×W×3, N clips per video) → float B×3×T×H×W (or
    B×N×3×T×H×W), normalised with ``mean``/``std``.

    With ``jitter`` (float B×4: brightness, contrast and saturation factors and a hue shift in
    turns, one row per clip; B×8 for ``jitter_mode="pil"``, the order of the operations after
    them) the colour jitter runs first, on whatever device the clips are on; ``jitter`` may stay
    on the CPU (it is moved here, without waiting).
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], jitter_mode: str = "float") -> None:
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1, 1)
        self.jitter_mode = jitter_mode

    @classmethod
    def of(cls, clip: ClipConfig) -> DeviceTransform:
        """The transform of ``clip``'s normalisation and jitter arithmetic."""
        return cls(clip.mean, clip.std, clip.jitter_mode)

    def __call__(self, clips: torch.Tensor, jitter: torch.Tensor | None = None) -> torch.Tensor:
        lead = clips.shape[:-4]
        x = clips.reshape(-1, *clips.shape[-4:]).permute(0, 4, 1, 2, 3)
        if jitter is not None and self.jitter_mode == "pil":
            x = pil_colour_jitter(x, jitter)  # its plan from the parameters where they lie (the CPU)
        x = x.float().div_(255)
        if jitter is not None and self.jitter_mode != "pil":
            x = colour_jitter(x, jitter)  # its hue matrices from the parameters where they lie (the CPU)
        x = (x - self.mean.to(x.device)) / self.std.to(x.device)
        return x.reshape(*lead, *x.shape[1:])


def colour_jitter(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Brightness, contrast, saturation, then hue, per clip: ``x`` B×3×T×H×W in [0, 1],
    ``params`` B×4. The contrast pivot is the clip's mean grey, the saturation pivot each pixel's.

    Whether any clip turns its hue, and the turning matrices, are worked out where ``params``
    lies: left on the CPU (as the batches bring them), a device's stream is never waited for."""
    params = params.to(torch.float32)
    b, c, s = (params[:, i].to(x.device, non_blocking=True).view(-1, 1, 1, 1, 1) for i in range(3))
    x = x * b
    grey = x.mean(1, keepdim=True)
    pivot = grey.mean((2, 3, 4), keepdim=True)
    x = (x - pivot) * c + pivot
    x = ((x - grey) * s + grey).clamp_(0, 1)
    turns = params[:, 3]
    if bool((turns != 0).any()):
        rotation = hue_rotation(turns).to(x.dtype).to(x.device, non_blocking=True)
        x = rotation.matmul(x.flatten(2)).view_as(x).clamp_(0, 1)
    return x


def hue_rotation(turns: torch.Tensor) -> torch.Tensor:
    """RGB → RGB matrices B×3×3 that rotate the hue by ``turns`` (B,) of a full turn keeping luma:
    a rotation of the chroma plane in YIQ space, in HSV's direction (positive turns move red
    towards green)."""
    angle = -2 * math.pi * turns.detach().cpu().double()
    rot = torch.zeros(len(turns), 3, 3, dtype=torch.float64)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2] = angle.cos(), -angle.sin()
    rot[:, 2, 1], rot[:, 2, 2] = angle.sin(), angle.cos()
    return (_RGB.double() @ rot @ _YIQ.double()).float()


def shift_hue(clip: torch.Tensor, turns: float) -> torch.Tensor:
    """Rotate the hue of one RGB clip (3×T×H×W in [0, 1]) by ``turns``; the result is clamped."""
    matrix = hue_rotation(torch.tensor([turns]))[0].to(clip.dtype)
    return torch.einsum("ij,jthw->ithw", matrix, clip).clamp_(0, 1)
