"""The reference's colour jitter, bit for bit, batched on any device.

The reference (JerryYLi/video-drl, ``torchvideotransforms.ColorJitter``) applies torchvision's
PIL functions to each frame of a clip, with one set of factors per clip, in a random order per
clip: ``adjust_brightness``, ``adjust_contrast``, ``adjust_saturation`` (Pillow's
``ImageEnhance``: a blend with a black image, with the frame's mean luma, with each pixel's
luma) and ``adjust_hue`` (a shift of the hue byte in Pillow's HSV). This module repeats
Pillow's C arithmetic (``libImaging/Blend.c``, ``Convert.c``) step by step: ``float`` where
Pillow computes in ``float``, ``float64`` where in ``double``, integers rounded as C rounds
them. The values stay whole 8-bit levels (held as int32) between the steps.
"""

from __future__ import annotations

import torch

BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)  # the codes of the order columns; -1: not applied


def luma(x: torch.Tensor) -> torch.Tensor:
    """Pillow's ``convert("L")``: x int32 B×3×… → B×1×… (ITU-R 601-2 in 16-bit fixed point)."""
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16


def blend(degenerate: torch.Tensor, image: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Pillow's ``Image.blend(degenerate, image, alpha)``: ``degenerate + alpha·(image −
    degenerate)`` in float32, clipped to [0, 255] and truncated. ``alpha`` float32, one per clip,
    broadcast over the images (int32)."""
    temp = degenerate.float() + alpha * (image - degenerate).float()
    return temp.clamp_(0, 255).trunc_().int()


def adjust_contrast(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``ImageEnhance.Contrast``: a blend with each frame's mean luma rounded to a whole level.
    x int32 B×3×T×H×W."""
    lum = luma(x)
    mean = lum.sum((-2, -1), keepdim=True, dtype=torch.int64).double() / (lum.shape[-1] * lum.shape[-2])
    return blend((mean + 0.5).floor().int(), x, alpha)


def c_round(v: torch.Tensor) -> torch.Tensor:
    """C's ``round`` of values >= 0: halves go up (``torch.round`` rounds them to even)."""
    floor = v.floor()
    return torch.where(v - floor >= 0.5, floor + 1, floor)


def rgb_to_hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pillow's ``rgb2hsv``: x int32 B×3×… → h, s, v int32 B×… (bytes)."""
    r, g, b = x.unbind(1)
    maxc, minc = x.amax(1), x.amin(1)
    grey = maxc == minc
    cr = (maxc - minc).clamp_min(1).float()  # float32 in Pillow; grey pixels are set below
    s = cr / maxc.clamp_min(1).float()
    rc, gc, bc = ((maxc - c).float() / cr for c in (r, g, b))
    h = torch.where(r == maxc, bc - gc, torch.where(g == maxc, (2.0 + rc.double() - bc.double()).float(),
                                                     (4.0 + gc.double() - rc.double()).float()))
    h = torch.fmod(h.double() / 6.0 + 1.0, 1.0).float()
    uh = (h.double() * 255.0).trunc().clamp(0, 255).int()
    us = (s.double() * 255.0).trunc().clamp(0, 255).int()
    zero = torch.zeros_like(uh)
    return torch.where(grey, zero, uh), torch.where(grey, zero, us), maxc


def hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Pillow's ``hsv2rgb``: h, s, v int32 B×… → int32 B×3×…."""
    sector = (h.double() * 6.0 / 255.0).floor()
    f = (h.double() * 6.0 / 255.0 - sector).float()
    fs = (s.double() / 255.0).float()
    vd = v.double()
    p = c_round(vd * (1.0 - fs.double())).clamp(0, 255).int()
    q = c_round(vd * (1.0 - (fs * f).double())).clamp(0, 255).int()
    t = c_round(vd * (1.0 - fs.double() * (1.0 - f.double()))).clamp(0, 255).int()
    case = sector.int() % 6
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = torch.stack((v, v, v), 1)
    for k, rgb in enumerate(table):
        out = torch.where(((case == k) & (s != 0)).unsqueeze(1), torch.stack(rgb, 1), out)
    return out


def adjust_hue(x: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    """torchvision's PIL ``adjust_hue``: HSV, the hue byte plus ``trunc(turns·255)`` modulo 256
    (uint8 overflow), back to RGB. x int32 B×3×T×H×W, ``turns`` one per clip."""
    h, s, v = rgb_to_hsv(x)
    shift = (turns.double() * 255).trunc().long().view(-1, *([1] * (h.dim() - 1)))
    return hsv_to_rgb(((h + shift) % 256).int(), s, v)


def pil_colour_jitter(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """The reference's jitter of uint8 clips ``x`` B×3×T×H×W, ``params`` B×8: the brightness,
    contrast and saturation factors, the hue shift in turns, then the order of the four
    operations (codes :data:`BRIGHTNESS`…:data:`HUE`; -1 pads the ones not applied). Returns
    the jittered clips as uint8.

    Which clips take which operation at each step is worked out where ``params`` lies (on the
    CPU, as the batches bring them): a device's stream is never waited for."""
    if params.shape[-1] != 8:
        raise ValueError(f"the pil jitter needs 8 parameters per clip (4 factors, the order), got {params.shape[-1]}: "
                         "were the clips drawn with another jitter_mode?")
    x = x.int()
    factors = params[:, :4].to(x.device, torch.float32, non_blocking=True)
    alpha = factors[:, :3].reshape(-1, 3, 1, 1, 1, 1)
    order = params[:, 4:8].round().long().cpu()
    for step in range(4):
        for op in (BRIGHTNESS, CONTRAST, SATURATION, HUE):
            rows = (order[:, step] == op).nonzero().flatten()
            if len(rows) == 0:
                continue
            rows = rows.to(x.device, non_blocking=True)
            part = x[rows]
            if op == BRIGHTNESS:
                part = blend(torch.zeros_like(part), part, alpha[rows, 0])
            elif op == CONTRAST:
                part = adjust_contrast(part, alpha[rows, 1])
            elif op == SATURATION:
                part = blend(luma(part), part, alpha[rows, 2])
            else:
                part = adjust_hue(part, factors[rows, 3])
            x.index_copy_(0, rows, part)  # only these clips' bytes move
    return x.to(torch.uint8)
