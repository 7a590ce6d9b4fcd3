"""How much of its host's CPU a run got: the share of CPU time the hypervisor gave to other guests.

On a shared virtual machine, a run's time says as much about its neighbours as about its code.
The same bits of the default study took 4.8 to 11.7 min on the 2-core machine class CI runs on,
and during one slow baseline the hypervisor ran other guests on this host's CPUs for 46% of the
time (the ``steal`` column of ``/proc/stat``, sampled for 20 s). The study and the timed
benchmarks print that share over their span, and the study logs it, so that two times can be
told apart from two machines' days. Steal is only part of it: a neighbour also slows a guest
through a shared cache, memory bandwidth and the clock, which no counter of the guest shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTicks:
    """The host's CPU time so far, in ticks summed over its CPUs: all of it, and the stolen part."""

    total: int
    steal: int


def cpu_ticks(stat: Path = STAT) -> CpuTicks | None:
    """The aggregate ``cpu`` line of ``stat``: user, nice, system, idle, iowait, irq, softirq and
    steal (guest time is already in user). None where there is no such line (not Linux)."""
    try:
        fields = stat.read_text().split("\n", 1)[0].split()
        values = [int(v) for v in fields[1:9]]
    except (OSError, ValueError):
        return None
    if not fields or fields[0] != "cpu" or len(values) < 8:
        return None
    return CpuTicks(sum(values), values[7])


def steal_share(before: CpuTicks | None, after: CpuTicks | None) -> float | None:
    """Of the host's CPU time between two readings, the share stolen (0 to 1); None where a
    reading is missing or no tick passed."""
    if before is None or after is None or after.total <= before.total:
        return None
    return (after.steal - before.steal) / (after.total - before.total)


def describe(share: float | None) -> str:
    """E.g. ``the hypervisor took 23% of this host's CPU time (steal)``."""
    if share is None:
        return "the hypervisor's share of this host's CPU time (steal) is not known here"
    return f"the hypervisor took {share:.0%} of this host's CPU time (steal)"


class StealMeter:
    """The steal share since the last reading: ``meter = StealMeter(); ...; meter.lap()``, one
    read of ``stat`` per lap (each epoch's end is the next one's start)."""

    def __init__(self, stat: Path = STAT) -> None:
        self.stat, self.last = stat, cpu_ticks(stat)

    def lap(self) -> float | None:
        now = cpu_ticks(self.stat)
        share, self.last = steal_share(self.last, now), now
        return share
