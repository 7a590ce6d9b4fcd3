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


def test_windows(row_frames: int, clip_frames: int, clip: ClipConfig) -> np.ndarray:
    """Row frame indices of a video's test items, int64 items × frames: ``clip.test_clips``
    windows of ``clip_frames`` (``clip.test_spacing``), or with ``clip.test_sparse`` their
    transpose, item m made of frame m of every window (the reference's ``sparse``)."""
    starts = window_starts(row_frames, clip_frames, clip.test_clips, clip.test_spacing)
    windows = np.stack([window(row_frames, s, clip_frames) for s in starts])
    return np.ascontiguousarray(windows.T) if clip.test_sparse else windows


def test_shape(clip: ClipConfig, clip_frames: int) -> tuple[int, int]:
    """(items, frames per item) of a video's test clips."""
    return (clip_frames, clip.test_clips) if clip.test_sparse else (clip.test_clips, clip_frames)


def test_item(index: SplitIndex, i: int, clip: ClipConfig, out: np.ndarray | None = None) -> dict:
    """Video ``i``'s test items (:func:`test_windows`), centre crops: uint8 N×T×S×S×3 (written
    into ``out`` if given). Only the frames they show are read and decoded."""
    n, (h, w, _) = int(index.row_frames[i]), index.frame_shapes[i].tolist()
    windows = test_windows(n, index.clip_frames, clip)
    unique, local = np.unique(windows, return_inverse=True)
    frames, local = index.frames(i, unique), local.reshape(windows.shape)
    top, left = centre(h, w, clip.crop_size, clip.centre_offset)
    if out is None:
        out = np.empty((*windows.shape, clip.crop_size, clip.crop_size, frames.shape[-1]), np.uint8)
    for k, rows in enumerate(local):
        cut_clip(frames, rows, top, left, clip.crop_size, False, out[k])
    return {"clips": out, "label": int(index.labels[i]), "video": i}


def test_batch(index: SplitIndex, positions: list[int], clip: ClipConfig) -> dict[str, np.ndarray]:
    """The test clips of the videos at ``positions``, cut straight into one batch (one copy of
    each pixel): ``clips`` uint8 B×N×T×S×S×3 (:func:`test_shape`), ``label`` and ``video`` (B,) int64."""
    size = clip.crop_size
    clips = np.empty((len(positions), *test_shape(clip, index.clip_frames), size, size, 3), np.uint8)
    for k, i in enumerate(positions):
        test_item(index, int(i), clip, clips[k])
    return {"clips": clips, "label": index.labels[np.asarray(positions, np.int64)],
            "video": np.asarray(positions, np.int64)}
