"""Clips cut from video rows: a fresh training clip per video per epoch, and the test clips.

Every training draw (window, crop, flip, colour jitter) comes from (seed, epoch, video) alone
(:mod:`drl_core.data.draws`), so Ray Data tasks and in-process loaders give the same clips.
Crop and flip happen here on uint8; normalisation and the colour jitter run on the device
(:class:`drl_core.data.transforms.DeviceTransform`). NumPy only: a data task need not import
torch.
"""

from __future__ import annotations

import numpy as np

from drl_core.config import ClipConfig
from drl_core.data.clip_sampling import window, window_starts
from drl_core.data.draws import centre, cut_clip, draw_clip, video_key
from pipelines.data.shards import SplitIndex


def epoch_order(seed: int, epoch: int, count: int) -> np.ndarray:
    """The order videos are visited in ``epoch``: a permutation of ``count`` seeded by (seed, epoch)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, epoch, 0x0DE5]).permutation(count)


def train_item(index: SplitIndex, i: int, clip: ClipConfig, seed: int, epoch: int,
               out: np.ndarray | None = None) -> dict:
    """Video ``i``'s training clip in ``epoch``: ``clips`` uint8 T×S×S×3 (written into ``out`` if
    given), ``label``, ``video``, ``start`` (its first row frame) and ``jitter`` (4 floats, 8 with
    the ``pil`` jitter's order; applied on the device). Only the clip's frames are read and decoded."""
    n, (h, w, _) = int(index.row_frames[i]), index.frame_shapes[i].tolist()
    t = index.clip_frames
    d = draw_clip(seed, epoch, video_key(index.video_ids[i]), n, t, h, w, clip.crop_size, clip.flip, clip.jitter,
                  clip.hue, clip.jitter_mode)
    unique, local = np.unique(window(n, d.start, t), return_inverse=True)
    frames = index.frames(i, unique)
    return {"clips": cut_clip(frames, local, d.top, d.left, clip.crop_size, d.flip, out),
            "label": int(index.labels[i]), "video": i, "start": d.start, "jitter": d.jitter_params()}


def test_item(index: SplitIndex, i: int, clip: ClipConfig, out: np.ndarray | None = None) -> dict:
    """Video ``i``'s ``clip.test_clips`` uniformly spaced clips, centre crops: uint8 N×T×S×S×3
    (written into ``out`` if given)."""
    frames = index.frames(i)
    t, (h, w, _) = index.clip_frames, frames.shape[1:]
    top, left = centre(h, w, clip.crop_size)
    starts = window_starts(len(frames), t, clip.test_clips)
    if out is None:
        out = np.empty((len(starts), t, clip.crop_size, clip.crop_size, frames.shape[-1]), np.uint8)
    for k, s in enumerate(starts):
        cut_clip(frames, window(len(frames), s, t), top, left, clip.crop_size, False, out[k])
    return {"clips": out, "label": int(index.labels[i]), "video": i}


def test_batch(index: SplitIndex, positions: list[int], clip: ClipConfig) -> dict[str, np.ndarray]:
    """The test clips of the videos at ``positions``, cut straight into one batch (one copy of
    each pixel): ``clips`` uint8 B×N×T×S×S×3, ``label`` and ``video`` (B,) int64."""
    size = clip.crop_size
    clips = np.empty((len(positions), clip.test_clips, index.clip_frames, size, size, 3), np.uint8)
    for k, i in enumerate(positions):
        test_item(index, int(i), clip, clips[k])
    return {"clips": clips, "label": index.labels[np.asarray(positions, np.int64)],
            "video": np.asarray(positions, np.int64)}
