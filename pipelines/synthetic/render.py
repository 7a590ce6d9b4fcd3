"""Drawing the moving object onto a scene, one frame at a time."""

from __future__ import annotations

import colorsys

import numpy as np

SHAPES = ("bar", "triangle", "ellipse", "ell", "tee")


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether object-frame coordinates (u, v) in [-1, 1]² fall inside ``shape``.

    Every shape lacks rotational symmetry of order 4 or more, so rotation is visible.
    """
    if shape == "bar":
        return (np.abs(u) <= 1.0) & (np.abs(v) <= 0.45)
    if shape == "triangle":
        return (v >= -0.8) & (v <= 1.0 - 1.6 * np.abs(u)) & (np.abs(u) <= 0.9)
    if shape == "ellipse":
        return (u / 1.0) ** 2 + (v / 0.5) ** 2 <= 1.0
    if shape == "ell":
        return ((np.abs(u) <= 1) & (v >= 0.4) & (v <= 1)) | ((u >= -1) & (u <= -0.4) & (np.abs(v) <= 1))
    if shape == "tee":
        return ((np.abs(u) <= 1) & (v >= -1) & (v <= -0.4)) | ((np.abs(u) <= 0.3) & (np.abs(v) <= 1))
    raise ValueError(f"unknown shape {shape!r}")


def random_colour(rng: np.random.Generator) -> np.ndarray:
    """A bright, saturated RGB colour, shape (3,), float in 0..255."""
    h = rng.uniform(0, 1)
    return np.array(colorsys.hsv_to_rgb(h, rng.uniform(0.7, 1.0), rng.uniform(0.9, 1.0))) * 255


def draw_object(
    background: np.ndarray,
    shape: str,
    colour: np.ndarray,
    cx: float,
    cy: float,
    radius: float,
    angle: float,
) -> np.ndarray:
    """Composite one object, with a dark outline, onto a copy of ``background`` (H×W×3 uint8)."""
    size = background.shape[0]
    coords = (np.arange(size) + 0.5) / size
    x, y = (coords - cx)[None, :], (coords - cy)[:, None]  # meshgrid's values, broadcast, not copied
    c, s = np.cos(angle), np.sin(angle)
    u, v = (c * x + s * y) / radius, (-s * x + c * y) / radius
    frame = background.copy()
    frame[_inside(shape, u / 1.25, v / 1.25)] = 0
    frame[_inside(shape, u, v)] = colour.astype(np.uint8)
    return frame
