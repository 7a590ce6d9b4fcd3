"""What the timed benchmarks print of their alternating rounds."""

from __future__ import annotations


def runs(xs: list[float], scale: float = 1.0) -> str:
    """``median of a, b, …``: each round's figure times ``scale``, one decimal."""
    return "median of " + ", ".join(f"{x * scale:.1f}" for x in xs)
