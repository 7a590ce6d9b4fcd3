"""A live progress line per training stage in the job log: epoch, step, clips/s and ETA."""

from __future__ import annotations

import time

from drl_core.metrics import keys


class Progress:
    """Rank 0 prints ``[label] epoch e/E step s/S … ETA`` every ``every_s`` seconds and at the end
    of each epoch; the other ranks print nothing."""

    def __init__(self, label: str, epochs: int, steps_per_epoch: int, rank: int, every_s: float = 10.0) -> None:
        self.label, self.epochs, self.steps, self.rank, self.every_s = label, epochs, steps_per_epoch, rank, every_s
        self.start = self.last = time.monotonic()
        self.done_steps = 0

    def eta(self, epoch: int, step: int) -> float:
        """Seconds left, from the mean step time so far."""
        left = (self.epochs - epoch) * self.steps - (step + 1)
        return max(0.0, left) * (time.monotonic() - self.start) / max(self.done_steps, 1)

    def step(self, epoch: int, i: int) -> None:
        self.done_steps += 1
        now = time.monotonic()
        if self.rank == 0 and now - self.last >= self.every_s:
            self.last = now
            print(f"[{self.label}] epoch {epoch + 1}/{self.epochs} step {i + 1}/{self.steps or '?'} "
                  f"ETA {self.eta(epoch, i):.0f} s", flush=True)

    def epoch_done(self, epoch: int, metrics: dict) -> None:
        if self.rank == 0:
            loss = metrics.get(keys.TRAIN_LOSS, float("nan"))
            steal = f", {metrics[keys.EPOCH_STEAL]:.0%} CPU steal" if keys.EPOCH_STEAL in metrics else ""
            print(f"[{self.label}] epoch {epoch + 1}/{self.epochs} done: loss {loss:.3f}, "
                  f"{metrics.get(keys.EPOCH_SECONDS, 0.0):.1f} s ({metrics.get(keys.DATA_WAIT_SECONDS, 0.0):.1f} "
                  f"waiting for data{steal}), ETA {self.eta(epoch + 1, -1):.0f} s", flush=True)
