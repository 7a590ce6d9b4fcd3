"""What the command line shows while it works: a progress bar on stderr."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TextIO


class Bar:
    """``label [#####.....] done/total unit, ETA s``: redrawn in place on a terminal, a line every
    ``every_s`` seconds (and at the end) in a log."""

    def __init__(self, label: str, total: int, unit: str = "videos", stream: TextIO | None = None,
                 every_s: float = 10.0, width: int = 30) -> None:
        self.label, self.total, self.unit, self.width, self.every_s = label, max(total, 1), unit, width, every_s
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.start = self.last = time.monotonic()

    def line(self) -> str:
        filled = min(self.width, self.width * self.done // self.total)
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {self.unit}"
                f", ETA {eta:.0f} s")

    def advance(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.line() + ("\n" if self.done >= self.total else ""))
            self.stream.flush()
        elif now - self.last >= self.every_s or self.done >= self.total:
            self.last = now
            print(self.line(), file=self.stream, flush=True)


class Counted:
    """An iterable of batches (``{"label": B, ...}``) that advances ``bar`` by each batch's size;
    iterable again, as the loaders it wraps are."""

    def __init__(self, loader: Iterable[dict], bar: Bar) -> None:
        self.loader, self.bar = loader, bar

    def __iter__(self) -> Iterator[dict]:
        for batch in self.loader:
            yield batch
            self.bar.advance(len(batch["label"]))
