"""Reductions of host-side numbers (metrics, counts) over the Ray Train workers.

Ray Train starts an NCCL-only process group whenever its workers have GPUs, even with one
worker, and NCCL has no CPU backend: an ``all_reduce`` of a CPU tensor then fails with "No
backend type associated with device type cpu". These reductions therefore run on a gloo group
over the same ranks whenever the default group cannot reduce CPU tensors (created once, by every
rank at the same point, as ``new_group`` requires).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

_HOST_GROUP: list = []  # the cached group (a list, so that no global statement is needed)


def serves_cpu(backend: str) -> bool:
    """Whether a process-group backend string (``gloo``, ``nccl``, ``cuda:nccl,cpu:gloo``) has a
    CPU backend."""
    if ":" in backend:
        return "cpu" in dict(part.split(":", 1) for part in backend.split(","))
    return backend in ("gloo", "mpi")


def host_group():
    """The group to reduce CPU tensors on: the default group, or a gloo group beside it."""
    if not _HOST_GROUP:
        _HOST_GROUP.append(None if serves_cpu(str(dist.get_backend())) else dist.new_group(backend="gloo"))
    return _HOST_GROUP[0]


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def mean_over_workers(metrics: dict[str, float]) -> dict[str, float]:
    """Average each metric over the DDP workers (every worker holds the same keys)."""
    if not distributed():
        return metrics
    names = sorted(metrics)
    values = torch.tensor([float(metrics[k]) for k in names], dtype=torch.float64)
    dist.all_reduce(values, group=host_group())
    return dict(zip(names, (values / dist.get_world_size()).tolist()))


def barrier() -> None:
    """Wait until every worker gets here (a no-op on one worker)."""
    if distributed():
        dist.barrier(group=host_group())
