"""Decode one video into a row of frames at the clip frame rate, falling back across backends.

:func:`decode_video` runs in-process; :func:`decode_many_isolated` runs it in a forked child with
a deadline, so a decoder that hangs (dmlc/decord#269) is killed and one that leaks memory
(dmlc/decord#197, #208) gives it back when the child exits.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from drl_core.config import ADDED_OPTION
from drl_core.data.clip_sampling import frame_indices, row_frame_count, row_frame_times
from pipelines.decode.backends import Backend, Decoder, FrameFolderDecoder, TruncatedVideo, VideoInfo, preload, probe

FRAMES = "frames"  # the backend name recorded for frame folders


@dataclass(frozen=True)
class VideoChecks:
    """What a file must be to count as a video: at least ``min_frames`` frames and
    ``min_seconds``, at most ``max_pixels`` per frame (checked on the header, before decoding),
    and at least ``1 - truncation_tolerance`` of the frames its container declares."""

    min_frames: int = 4
    min_seconds: float = 0.25
    max_pixels: int = 7680 * 4320
    truncation_tolerance: float = 0.1


@dataclass(frozen=True)
class ClipSpec:
    """A row holds ``num_frames`` frames per ``clip_seconds`` of video, resized to
    ``short_side`` (``resize``: :func:`resize_short_side`) and stored as ``encoding`` (``jpeg``
    at ``jpeg_quality``, or ``raw``)."""

    num_frames: int
    clip_seconds: float
    short_side: int
    checks: VideoChecks = field(default_factory=VideoChecks)
    encoding: str = "raw"
    jpeg_quality: int = 90
    resize: str = field(default="bilinear", metadata=ADDED_OPTION)  # session 19

    @property
    def frame_rate(self) -> float:
        return self.num_frames / self.clip_seconds


@dataclass
class DecodeResult:
    """The row's frames N×H×W×3 (frame k at (k + ½) / frame rate s), or ``status``/``reason``
    saying why not."""

    status: str  # ok, missing, unreadable, empty, not_a_video, too_large, truncated, undecodable, timeout
    reason: str = ""
    backend: str = ""
    frames: np.ndarray | None = None
    fps: float = 0.0
    duration: float = 0.0
    errors: list[str] = field(default_factory=list)


def resize_short_side(frame: np.ndarray, short: int, mode: str = "bilinear") -> np.ndarray:
    """A uint8 H×W×3 frame with its short side resized to ``short``.

    ``bilinear``: Pillow's bilinear filter, the long side rounded. ``reference``: the reference's
    ``torchvideotransforms.functional.resize_clip`` on the PIL frames its loaders give, called with
    ``interpolation='bilinear'``: the long side truncated (``int(short * long / short_side)``) and,
    as its PIL branch swaps the two filters, Pillow's nearest neighbour.
    """
    h, w = frame.shape[:2]
    if mode == "reference":
        if min(h, w) == short:
            return frame
        size = (short, int(short * h / w)) if w < h else (int(short * w / h), short)
        return np.asarray(Image.fromarray(frame).resize(size, Image.NEAREST))
    scale = short / min(h, w)
    size = (max(short, round(w * scale)), max(short, round(h * scale)))
    if size == (w, h):
        return frame
    return np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))


def _precheck(path: str, fps: float) -> DecodeResult | None:
    if not os.path.lexists(path) or not os.path.exists(path):
        return DecodeResult("missing", f"no such file: {path}")
    if os.path.isdir(path):
        return None if fps > 0 else DecodeResult("unreadable", "is a directory, not a video file")
    try:
        with open(path, "rb") as f:
            head = f.read(1)
    except OSError as err:
        return DecodeResult("unreadable", f"{type(err).__name__}: {err.strerror}")
    if not head:
        return DecodeResult("empty", "zero-byte file")
    return None


def _check_header(path: str, checks: VideoChecks) -> tuple[DecodeResult | None, int]:
    """``too_large`` from the header alone (decoding a huge frame could exhaust memory), and the
    frame count the container declares (0 if none)."""
    head = probe(path) if not os.path.isdir(path) else None
    if head is None:
        return None, 0
    if head.width * head.height > checks.max_pixels:
        return DecodeResult("too_large", f"{head.width}x{head.height} pixels per frame (limit "
                                         f"{checks.max_pixels:,})"), 0
    return None, head.frames


def _check_info(info: VideoInfo, declared: int, checks: VideoChecks) -> DecodeResult | None:
    """``not_a_video`` (too few frames, too short, too large) or ``truncated`` (fewer frames
    than the container declares), from what a backend opened."""
    duration = info.num_frames / info.fps if info.fps > 0 else 0.0
    if info.num_frames < checks.min_frames or duration < checks.min_seconds:
        return DecodeResult("not_a_video", f"{info.num_frames} frame(s), {duration:.2f} s (a video needs "
                                           f">= {checks.min_frames} frames and >= {checks.min_seconds:g} s)")
    if info.width * info.height > checks.max_pixels:
        return DecodeResult("too_large", f"{info.width}x{info.height} pixels per frame (limit {checks.max_pixels:,})")
    if declared and info.num_frames < (1 - checks.truncation_tolerance) * declared:
        return DecodeResult("truncated", f"{info.num_frames} decodable frames of the {declared} the container declares")
    return None


def _open(name: str, path: str, fps: float) -> Decoder:
    return FrameFolderDecoder(path, fps) if name == FRAMES else Backend(name).open(path)


def decode_video(path: str, spec: ClipSpec, backends: tuple[str, ...], fps: float = 0.0) -> DecodeResult:
    """Sample ``path`` at ``spec.frame_rate`` over its whole length (at least ``num_frames`` frames).

    Each backend is tried in order; the first that succeeds wins and is recorded. A folder
    with ``fps`` > 0 is a frame folder (read as images at that rate).
    """
    bad = _precheck(path, fps)
    if bad is None:
        bad, declared = _check_header(path, spec.checks)
    if bad is not None:
        return bad
    errors = []
    for name in ((FRAMES,) if os.path.isdir(path) else backends):
        try:
            decoder = _open(name, path, fps)
            info = decoder.info()
            if info.fps <= 0:
                raise RuntimeError(f"no frame rate ({info.fps})")
            bad = _check_info(info, declared, spec.checks)
            if bad is not None:
                return DecodeResult(bad.status, bad.reason, name, errors=errors)
            duration = info.num_frames / info.fps
            count = row_frame_count(duration, spec.clip_seconds, spec.num_frames)
            idx = frame_indices(row_frame_times(count, spec.clip_seconds, spec.num_frames), info.fps, info.num_frames)
            unique = np.unique(idx)
            lookup = {int(i): resize_short_side(f, spec.short_side, spec.resize)
                      for i, f in zip(unique, decoder.read(unique))}
            frames = np.stack([lookup[int(i)] for i in idx])
            return DecodeResult("ok", "", name, frames, info.fps, duration, errors)
        except TruncatedVideo as err:
            return DecodeResult("truncated", str(err), name, errors=errors)
        except Exception as err:  # noqa: BLE001 - every decoder failure is recorded, then the next is tried
            errors.append(f"{name}: {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}")
    return DecodeResult("undecodable", "; ".join(errors), errors=errors)


def _child(conn, paths: list[str], fps: list[float], spec: ClipSpec, backends: tuple[str, ...]) -> None:
    """Decode ``paths`` in order, sending one result per video as soon as it is ready."""
    try:
        for path, rate in zip(paths, fps):
            try:
                result = decode_video(path, spec, backends, rate)
            except BaseException:  # noqa: BLE001
                result = DecodeResult("undecodable", traceback.format_exc(limit=1).strip().splitlines()[-1])
            conn.send(result)
    finally:
        conn.close()
        os._exit(0)


def decode_many_isolated(paths: list[str], spec: ClipSpec, backends: tuple[str, ...],
                         timeout_s: float, fps: list[float] | None = None) -> list[DecodeResult]:
    """:func:`decode_video` for each path, in a forked child that is killed on any video's timeout.

    One child serves the whole list; a video that runs past ``timeout_s`` is reported as
    ``timeout`` and a fresh child takes over from the next video. The child exits at the end,
    returning whatever memory the decoders held. ``fps`` gives each frame folder's rate. The
    decoder libraries are imported here first (:func:`~pipelines.decode.backends.preload`): no
    file is opened or decoded outside the child.
    """
    fps = [0.0] * len(paths) if fps is None else fps
    preload(backends)
    ctx = mp.get_context("fork")
    results: list[DecodeResult] = []
    while len(results) < len(paths):
        todo = paths[len(results):]
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(send, todo, fps[len(results):], spec, backends), daemon=True)
        proc.start()
        send.close()
        try:
            for _ in todo:
                if not recv.poll(timeout_s):
                    results.append(DecodeResult("timeout", f"decoding took longer than {timeout_s:g} s; decoder killed"))
                    break
                try:
                    results.append(recv.recv())
                except EOFError:
                    results.append(DecodeResult("undecodable", f"decoder process died (exit code {proc.exitcode})"))
                    break
        finally:
            recv.close()
            if proc.is_alive():
                proc.kill()
            proc.join()
    return results
