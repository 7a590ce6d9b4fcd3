"""Adaptive-frame-rate sampling: every clip spans a fixed duration, whatever the video's fps.

A video's row holds ``num_frames`` frames per ``clip_seconds``, taken at the centres of equal
time bins over the whole video, so any ``num_frames`` consecutive frames of it form a clip that
covers one second of motion, for a 30 fps and a 12 fps video alike.
"""

from __future__ import annotations

import numpy as np


def frame_indices(times: np.ndarray, fps: float, total_frames: int) -> np.ndarray:
    """The frame shown at each timestamp of a ``fps`` video of ``total_frames`` frames (int64)."""
    if total_frames < 1 or fps <= 0:
        raise ValueError(f"need a video with frames and a positive fps, got {total_frames} frames at {fps} fps")
    return np.clip(np.floor(np.asarray(times) * fps).astype(np.int64), 0, total_frames - 1)


def row_frame_count(duration: float, clip_seconds: float, num_frames: int) -> int:
    """How many frames a video row holds: one every ``clip_seconds / num_frames`` s at bin centres
    over the whole video, at least ``num_frames`` (a short video's last frame repeats)."""
    rate = num_frames / clip_seconds
    return max(num_frames, int(np.ceil(duration * rate - 0.5 - 1e-9)))


def row_frame_times(count: int, clip_seconds: float, num_frames: int) -> np.ndarray:
    """Timestamps (s) of a row's ``count`` frames, shape (count,): frame k at (k + ½)·Δ."""
    return (np.arange(count) + 0.5) * clip_seconds / num_frames


def window_starts(row_frames: int, num_frames: int, num_clips: int, spacing: str = "span") -> np.ndarray:
    """First row frame of each of ``num_clips`` uniformly spaced test windows of ``num_frames``
    frames (int64, shape (num_clips,)).

    ``span``: the first window at the row's start, the last at its end (one window: centred).
    ``segments``: the reference's (``VideoDataset._sample_start_times``, ``sampling='uniform'``):
    the row less a clip and one frame, ``n - T - 1`` frames, cut into ``num_clips`` equal
    segments, each window starting at the first frame at or after a segment's centre,
    ``ceil((j + ½)(n - T - 1) / num_clips)`` in exact integer arithmetic. A row that short (the
    reference draws another video instead) has every window at its start.
    """
    slack = max(row_frames - num_frames, 0)
    if spacing == "segments":
        room = max(row_frames - num_frames - 1, 0)
        j = np.arange(num_clips, dtype=np.int64)
        return -((-(2 * j + 1) * room) // (2 * num_clips))
    if spacing != "span":
        raise ValueError(f"test spacing must be 'span' or 'segments', got {spacing!r}")
    if num_clips == 1:
        return np.array([slack // 2], np.int64)
    return np.rint(np.linspace(0, slack, num_clips)).astype(np.int64)


def window(row_frames: int, start: int, num_frames: int) -> np.ndarray:
    """Row frame indices of the window starting at ``start`` (the last frame repeats past the end)."""
    return np.minimum(np.arange(start, start + num_frames), row_frames - 1)
