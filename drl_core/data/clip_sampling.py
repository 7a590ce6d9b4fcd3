"""Adaptive-frame-rate clip sampling: every clip spans a fixed duration, whatever the video's fps.

A clip of ``clip_seconds`` holds ``num_frames`` frames taken at the centres of equal time bins,
so a 30 fps and a 12 fps video both give clips that cover one second of motion.
"""

from __future__ import annotations

import numpy as np


def clip_starts(duration: float, clip_seconds: float, num_clips: int) -> np.ndarray:
    """Start times (s) of ``num_clips`` uniformly spaced clips, shape (num_clips,).

    One clip is centred; several span the video from its start to its end. A video shorter than
    a clip gives clips starting at 0 (their last frames repeat the video's last frame).
    """
    slack = max(duration - clip_seconds, 0.0)
    if num_clips == 1:
        return np.array([slack / 2])
    return np.linspace(0.0, slack, num_clips)


def frame_times(start: float, clip_seconds: float, num_frames: int) -> np.ndarray:
    """Timestamps (s) of the frames of one clip: bin centres, shape (num_frames,)."""
    return start + (np.arange(num_frames) + 0.5) * clip_seconds / num_frames


def frame_indices(times: np.ndarray, fps: float, total_frames: int) -> np.ndarray:
    """The frame shown at each timestamp of a ``fps`` video of ``total_frames`` frames (int64)."""
    if total_frames < 1 or fps <= 0:
        raise ValueError(f"need a video with frames and a positive fps, got {total_frames} frames at {fps} fps")
    return np.clip(np.floor(np.asarray(times) * fps).astype(np.int64), 0, total_frames - 1)
