"""Scenes: static background textures with their own palettes, one per source class.

A scene is recognisable from any single frame, which makes it the static cue whose correlation
with the class (the benchmark's ``bias``) a model can exploit instead of motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Muted palettes (RGB 0..255), two colours each: recognisable, yet darker and less saturated
# than the objects, which are drawn bright with a black outline.
_PALETTES = [
    ((70, 90, 140), (120, 140, 190)),
    ((140, 80, 60), (190, 130, 100)),
    ((60, 120, 70), (110, 170, 110)),
    ((120, 110, 50), (170, 160, 90)),
    ((100, 60, 120), (150, 110, 170)),
    ((50, 110, 120), (100, 160, 170)),
    ((90, 90, 90), (150, 150, 150)),
    ((130, 60, 90), (180, 110, 140)),
    ((80, 70, 50), (140, 120, 90)),
    ((50, 70, 100), (160, 170, 120)),
    ((110, 130, 60), (70, 60, 110)),
    ((150, 100, 40), (60, 100, 130)),
]
CONTRAST = 0.6  # texture contrast relative to the palette: recognisable, yet quieter than the object
_KINDS = ("stripes_h", "stripes_v", "stripes_d", "checker", "dots", "rings", "waves", "blobs")


@dataclass(frozen=True)
class Scene:
    """One background: a texture kind, a spatial frequency and a palette."""

    index: int
    kind: str
    frequency: float
    palette: tuple[tuple[int, int, int], tuple[int, int, int]]


@lru_cache(maxsize=None)
def scene_bank(count: int) -> tuple[Scene, ...]:
    """``count`` distinct scenes; scene i is the home scene of source class i."""
    if count > len(_PALETTES):
        raise ValueError(f"at most {len(_PALETTES)} scenes are defined, asked for {count}")
    return tuple(Scene(i, _KINDS[i % len(_KINDS)], 3.0 + (i * 7) % 4, _PALETTES[i]) for i in range(count))


def _pattern(kind: str, x: np.ndarray, y: np.ndarray, f: float, rng: np.random.Generator) -> np.ndarray:
    """A [0, 1] texture on grid coordinates x, y (each H×W, in frame fractions)."""
    two_pi_f = 2 * np.pi * f
    if kind == "stripes_h":
        return (np.sin(two_pi_f * y) > 0).astype(float)
    if kind == "stripes_v":
        return (np.sin(two_pi_f * x) > 0).astype(float)
    if kind == "stripes_d":
        return (np.sin(two_pi_f * (x + y) / np.sqrt(2)) > 0).astype(float)
    if kind == "checker":
        return ((np.sin(two_pi_f * x) > 0) ^ (np.sin(two_pi_f * y) > 0)).astype(float)
    if kind == "dots":
        return ((np.sin(two_pi_f * x) * np.sin(two_pi_f * y)) > 0.5).astype(float)
    if kind == "rings":
        return (np.sin(two_pi_f * 1.5 * np.hypot(x - 0.5, y - 0.5)) > 0).astype(float)
    if kind == "waves":
        return 0.5 + 0.5 * np.sin(two_pi_f * x + 2 * np.sin(two_pi_f * y / 2))
    if kind == "blobs":
        centres = rng.uniform(0, 1, size=(6, 2))
        d = np.min([np.hypot(x - cx, y - cy) for cx, cy in centres], axis=0)
        return (d < 0.12).astype(float)
    raise ValueError(f"unknown scene kind {kind!r}")


def render_scene(scene: Scene, size: int, rng: np.random.Generator) -> np.ndarray:
    """Render the scene with a random phase shift, so no two videos share pixels.

    Returns:
        uint8 array of shape (size, size, 3).
    """
    coords = (np.arange(size) + 0.5) / size
    x, y = np.meshgrid(coords + rng.uniform(0, 1), coords + rng.uniform(0, 1))
    p = _pattern(scene.kind, x, y, scene.frequency, rng)[..., None]
    a, b = (np.asarray(c, float) for c in scene.palette)
    b = a + CONTRAST * (b - a)
    img = a * (1 - p) + b * p + rng.normal(0, 3, size=(size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)
