"""Video decoder backends behind one small interface; each library is imported lazily."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    num_frames: int
    fps: float
    width: int
    height: int


@dataclass(frozen=True)
class Probe:
    """What a container's header declares, read without decoding a frame (0: not declared)."""

    width: int
    height: int
    frames: int
    seconds: float


def probe(path: str) -> Probe | None:
    """The header of ``path``'s first video stream (PyAV), or None if PyAV cannot open it."""
    try:
        import av

        with av.open(path) as container:
            stream = container.streams.video[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
            return Probe(stream.codec_context.width, stream.codec_context.height, int(stream.frames or 0), seconds)
    except Exception:  # noqa: BLE001 - any container PyAV cannot read: the backends decide
        return None


def preload(backends: tuple[str, ...]) -> None:
    """Import the decoder libraries ``backends`` and :func:`probe` use, opening no file, so that
    the children a decode task forks (:func:`pipelines.decode.video.decode_many_isolated`)
    inherit them instead of importing them anew (measured: 4-6% of a decode worker's CPU at 32
    videos per task). A library that does not import is left to fail where it is used."""
    for name in ("av", *(("decord",) if "decord" in backends else ())):
        try:
            __import__(name)
        except ImportError:
            pass


class TruncatedVideo(RuntimeError):
    """Fewer frames could be decoded than the container declares."""


class Decoder(Protocol):
    """Open a video once, then read any frames by index."""

    def info(self) -> VideoInfo: ...

    def read(self, indices: np.ndarray) -> np.ndarray:
        """Frames at ``indices`` (sorted, unique) as uint8 N×H×W×3 RGB."""
        ...


class DecordDecoder:
    def __init__(self, path: str) -> None:
        import decord

        self._vr = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
        first = self._vr[0].shape
        self._info = VideoInfo(len(self._vr), float(self._vr.get_avg_fps()), first[1], first[0])

    def info(self) -> VideoInfo:
        return self._info

    def read(self, indices: np.ndarray) -> np.ndarray:
        return self._vr.get_batch(list(map(int, indices))).asnumpy()


class PyAVDecoder:
    """Sequential decoding with PyAV: slower than decord's seeking, but tolerant of damaged files."""

    def __init__(self, path: str) -> None:
        import av

        self._path = path
        with av.open(path) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            count = stream.frames or sum(1 for _ in container.decode(stream))
            self._info = VideoInfo(int(count), fps, stream.codec_context.width, stream.codec_context.height)

    def info(self) -> VideoInfo:
        return self._info

    def read(self, indices: np.ndarray) -> np.ndarray:
        import av

        wanted, frames = set(map(int, indices)), {}
        last, decoded = max(wanted), 0
        with av.open(self._path) as container:
            for i, frame in enumerate(container.decode(video=0)):
                decoded = i + 1
                if i in wanted:
                    frames[i] = frame.to_ndarray(format="rgb24")
                if i >= last:
                    break
        if not decoded:
            raise RuntimeError("no frame could be decoded")
        if len(frames) < len(wanted):  # the header declares frames the file no longer holds
            raise TruncatedVideo(f"only {decoded} of the {self._info.num_frames} frames the header declares "
                                 f"could be decoded")
        return np.stack([frames[i] for i in map(int, indices)])


FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")


class FrameFolderDecoder:
    """A folder of numbered images (``00001.jpg`` …, as Jester ships) played at ``fps``."""

    def __init__(self, path: str, fps: float) -> None:
        import os

        if fps <= 0:
            raise ValueError("a frame folder needs the dataset's frame rate (its reader gives none)")
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(FRAME_EXTENSIONS))
        if not names:
            raise RuntimeError(f"no {'/'.join(FRAME_EXTENSIONS)} frames in the folder")
        self._files = [os.path.join(path, n) for n in names]
        w, h = self._open(0).size
        self._info = VideoInfo(len(names), float(fps), w, h)

    def _open(self, i: int):
        from PIL import Image

        return Image.open(self._files[i])

    def info(self) -> VideoInfo:
        return self._info

    def read(self, indices: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(self._open(int(i)).convert("RGB")) for i in indices])


class Backend(enum.Enum):
    DECORD = "decord"
    PYAV = "pyav"

    def open(self, path: str) -> Decoder:
        return {Backend.DECORD: DecordDecoder, Backend.PYAV: PyAVDecoder}[self](path)
