"""Motion programs: each class is a trajectory of (centre, radius, angle) over time.

Trajectories are written relative to the video's midpoint time, so that the distribution of a
single frame's object position and size is the same for every class: only motion tells the
classes apart. Coordinates are fractions of the frame side; angles are radians.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

Motion = Callable[[np.random.Generator, np.ndarray], "Path"]


@dataclass(frozen=True)
class Path:
    """Per-frame object state, all arrays of shape (F,) for F frames."""

    dx: np.ndarray  # horizontal offset from the (yet unplaced) centre
    dy: np.ndarray  # vertical offset, image convention (positive is down)
    radius: np.ndarray
    angle: np.ndarray


def _speed(rng: np.random.Generator, lo: float = 0.4, hi: float = 0.55) -> float:
    return float(rng.uniform(lo, hi))


def _radius(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.11, 0.15))


def _static(rng: np.random.Generator, t: np.ndarray, dx, dy, radius=None, angle=None) -> Path:
    r = np.full_like(t, _radius(rng)) if radius is None else radius
    a = np.full_like(t, rng.uniform(0, 2 * np.pi)) if angle is None else angle
    return Path(np.asarray(dx, float) + 0 * t, np.asarray(dy, float) + 0 * t, r, a)


def translate(vx: float, vy: float) -> Motion:
    """Constant velocity along (vx, vy), a unit direction scaled by a random speed."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        v = _speed(rng)
        return _static(rng, t, vx * v * t, vy * v * t)

    return motion


def two_phase(first: tuple[float, float], second: tuple[float, float]) -> Motion:
    """Move along ``first`` until the midpoint, then along ``second`` (an L-shaped path)."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        v = _speed(rng)
        before, after = np.minimum(t, 0.0), np.maximum(t, 0.0)
        dx = v * (first[0] * before + second[0] * after)
        dy = v * (first[1] * before + second[1] * after)
        return _static(rng, t, dx, dy)

    return motion


def scale(direction: float, rate: tuple[float, float] = (0.45, 0.7)) -> Motion:
    """Expand (direction +1) or contract (-1) exponentially about the midpoint size."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        g = float(rng.uniform(*rate))
        r = float(rng.uniform(0.12, 0.16)) * np.exp(direction * g * t)
        return _static(rng, t, 0.0, 0.0, radius=r)

    return motion


def scale_two_phase(first: float) -> Motion:
    """Expand then contract (first=+1), or contract then expand (first=-1)."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        g = float(rng.uniform(0.6, 0.9))
        r = float(rng.uniform(0.12, 0.16)) * np.exp(first * g * (0.35 - np.abs(t)))
        return _static(rng, t, 0.0, 0.0, radius=r)

    return motion


def rotate(direction: float, rate: tuple[float, float] = (2.2, 3.4)) -> Motion:
    """Spin in place: clockwise on screen for direction +1 (image y points down)."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        w = float(rng.uniform(*rate))
        angle = rng.uniform(0, 2 * np.pi) + direction * w * t
        return _static(rng, t, 0.0, 0.0, radius=np.full_like(t, _radius(rng) * 1.15), angle=angle)

    return motion


def orbit(direction: float) -> Motion:
    """Travel on a circle (clockwise on screen for direction +1)."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        radius, w = float(rng.uniform(0.12, 0.18)), float(rng.uniform(2.5, 3.5))
        phase = rng.uniform(0, 2 * np.pi) + direction * w * t
        return _static(rng, t, radius * np.cos(phase), radius * np.sin(phase))

    return motion


def bounce(vx: float, vy: float) -> Motion:
    """Go along (vx, vy) until the midpoint, then come back the same way."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        v = _speed(rng, 0.5, 0.65)
        d = -np.abs(t)
        return _static(rng, t, vx * v * d, vy * v * d)

    return motion


def speed(base: Motion, factor_range: tuple[float, float]) -> Motion:
    """Run ``base`` with time scaled by a random factor, making it slower or faster."""

    def motion(rng: np.random.Generator, t: np.ndarray) -> Path:
        return base(rng, t * float(rng.uniform(*factor_range)))

    return motion


_S = 1 / np.sqrt(2)

SOURCE_CLASSES: dict[str, Motion] = {
    "moving right": translate(1, 0),
    "moving left": translate(-1, 0),
    "moving up": translate(0, -1),
    "moving down": translate(0, 1),
    "expanding": scale(+1),
    "contracting": scale(-1),
    "rotating clockwise": rotate(+1),
    "rotating anticlockwise": rotate(-1),
    "right then up": two_phase((1, 0), (0, -1)),
    "up then right": two_phase((0, -1), (1, 0)),
}

DOWNSTREAM_CLASSES: dict[str, dict[str, Motion]] = {
    # Role of UCF-101: paths the source never shows.
    "synth_paths": {
        "diagonal up-right": translate(_S, -_S),
        "diagonal down-left": translate(-_S, _S),
        "orbit clockwise": orbit(+1),
        "orbit anticlockwise": orbit(-1),
        "bounce horizontal": bounce(1, 0),
        "bounce vertical": bounce(0, 1),
    },
    # Role of HMDB-51 / Diving-48: speed and the order of two phases.
    "synth_tempo": {
        "slow slide": speed(translate(1, 0), (0.35, 0.55)),
        "fast slide": speed(translate(1, 0), (1.3, 1.7)),
        "slow spin": speed(rotate(+1), (0.3, 0.45)),
        "fast spin": speed(rotate(+1), (1.2, 1.5)),
        "grow then shrink": scale_two_phase(+1),
        "shrink then grow": scale_two_phase(-1),
    },
}


def place(path: Path, rng: np.random.Generator, margin: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Pick a random centre that keeps the whole trajectory inside the frame.

    Returns:
        (cx, cy): absolute centres, each of shape (F,), in frame fractions.
    """
    reach = path.radius * 1.25 + margin
    centres = []
    for d in (path.dx, path.dy):
        lo, hi = float(np.max(reach - d)), float(np.min(1 - reach - d))
        c = rng.uniform(lo, hi) if hi > lo else (lo + hi) / 2
        centres.append(c + d)
    return centres[0], centres[1]
