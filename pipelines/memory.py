"""A process's own peak memory, for the training stages' metric and the memory benchmark."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """This process's peak resident memory (MiB): on Linux the high-water mark of its own address
    space (``VmHWM``), which starts again at ``exec``. ``ru_maxrss`` does not: Linux carries it
    over ``exec`` from the forked copy of the parent, so a child started by a 600-MiB process
    reports at least 600 MiB (measured: an evaluation holding 340 MiB read as 544-671 MiB in
    ``memory_scaling``). Elsewhere, ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
