"""What the report commands share: produce a text, then write it to a file or print it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from pipelines.mlflow_store import TrackingError


def emit(make: Callable[[], str], out: str | None) -> int:
    """Run ``make``; on a bad store (missing file, metric or study) print the error and return 2
    with nothing written, else write the text to ``out`` (saying so) or print it, and return 0."""
    try:
        text = make()
    except (FileNotFoundError, ValueError, KeyError, TrackingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if out:
        Path(out).write_text(text)
        print(f"wrote {out}")
    else:
        print(text)
    return 0
