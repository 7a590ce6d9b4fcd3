"""A process's peak memory is its own, not its parent's."""

import subprocess
import sys

from pipelines.memory import peak_rss_mb


def test_a_child_s_peak_does_not_count_the_memory_of_the_process_that_started_it():
    held = bytearray(400 * 2**20)  # this process holds 400 MiB more while it starts the child
    held[::4096] = b"x" * len(held[::4096])  # touched, so resident
    assert peak_rss_mb() > 400
    child = subprocess.run([sys.executable, "-c", "from pipelines.memory import peak_rss_mb; print(peak_rss_mb())"],
                           capture_output=True, text=True, check=True)
    assert 0 < float(child.stdout) < 200  # a bare interpreter and this module: tens of MiB
    del held
