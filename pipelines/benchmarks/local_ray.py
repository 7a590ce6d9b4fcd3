"""A private local Ray for the benchmarks: its own processes, every port on 127.0.0.1."""

from __future__ import annotations

import os


def start_local_ray(cpus: int) -> None:
    """Start a Ray of ``cpus`` CPUs for this process (never joining a cluster already running).
    Single-machine mode keeps the head, its agents and its workers on loopback
    (cluster/local_head.sh explains why)."""
    import ray

    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False)
