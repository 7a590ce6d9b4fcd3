"""The random choices of one training clip, drawn from (seed, epoch, video) alone.

Any process that draws for the same video in the same epoch gets the same clip: a rerun is
bit-identical however the work is spread over data workers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


def video_key(video_id: str) -> int:
    """A stable 32-bit key of a video id (CRC-32; Python's ``hash`` varies per process)."""
    return zlib.crc32(video_id.encode())


@dataclass(frozen=True)
class ClipDraw:
    """Where the clip starts (row frame), its crop's top-left corner, whether it is flipped,
    its colour jitter ``(brightness, contrast, saturation, hue turns)`` and, for the ``pil``
    jitter, the order of those four operations (:mod:`drl_core.data.pil_jitter` codes, -1 for
    those not applied; empty otherwise)."""

    start: int
    top: int
    left: int
    flip: bool
    jitter: tuple[float, float, float, float]
    order: tuple[int, ...] = ()

    def jitter_params(self) -> np.ndarray:
        """The device's jitter parameters: the four factors, then the order if drawn (float32)."""
        return np.asarray(self.jitter + self.order, np.float32)


def draw_clip(seed: int, epoch: int, key: int, row_frames: int, num_frames: int, height: int, width: int,
              crop: int, flip: bool, jitter: float, hue: float, jitter_mode: str = "float") -> ClipDraw:
    """One training clip's draws for video ``key`` in ``epoch``; ``flip``/``jitter``/``hue``/
    ``jitter_mode`` as in ClipConfig (no flip and factors of 1 when off). The ``pil`` jitter
    also draws its order, a shuffle of the operations it applies (the reference's
    ``random.shuffle``), after every other draw."""
    if height < crop or width < crop:
        raise ValueError(f"frames of {height}×{width} are smaller than the crop size {crop}")
    rng = np.random.default_rng([seed & 0xFFFFFFFF, epoch, key])
    u = rng.random(7)
    start = int(u[0] * (max(row_frames - num_frames, 0) + 1))
    top, left = int(u[1] * (height - crop + 1)), int(u[2] * (width - crop + 1))
    b, c, s = (1 + jitter * (2 * u[3:6] - 1)).tolist() if jitter > 0 else (1.0, 1.0, 1.0)
    turns = hue * (2 * float(u[6]) - 1) if hue > 0 else 0.0
    flipped = bool(flip and rng.random() < 0.5)
    order: tuple[int, ...] = ()
    if jitter_mode == "pil":  # brightness, contrast, saturation if jitter; hue if hue
        ops = [op for op, on in enumerate((jitter > 0,) * 3 + (hue > 0,)) if on]
        order = tuple(int(op) for op in rng.permutation(ops)) + (-1,) * (4 - len(ops))
    return ClipDraw(start, top, left, flipped, (b, c, s, turns), order)


def cut_clip(frames: np.ndarray, indices: np.ndarray, top: int, left: int, crop: int, flip: bool,
             out: np.ndarray | None = None) -> np.ndarray:
    """The crop of ``frames`` (uint8 N×H×W×3) at ``indices``: uint8 T×crop×crop×3, contiguous,
    written into ``out`` if given (e.g. a row of a batch: one copy per pixel, not three)."""
    cols = slice(left + crop - 1, left - 1 if left else None, -1) if flip else slice(left, left + crop)
    if out is None:
        out = np.empty((len(indices), crop, crop, frames.shape[-1]), frames.dtype)
    for t, i in enumerate(indices):
        out[t] = frames[i, top:top + crop, cols]
    return out


def centre(height: int, width: int, crop: int, offset: str = "floor") -> tuple[int, int]:
    """Top-left corner of the centre crop: half of each margin, rounded down (``floor``) or by
    Python's ``round``, half to even (``round``: the reference's ``CenterCrop``)."""
    if height < crop or width < crop:
        raise ValueError(f"frames of {height}×{width} are smaller than the crop size {crop}")
    if offset == "round":
        return int(round((height - crop) / 2.0)), int(round((width - crop) / 2.0))
    return (height - crop) // 2, (width - crop) // 2
