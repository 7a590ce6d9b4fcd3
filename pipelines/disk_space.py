"""How full the disks a study writes to are, against the fill at which Ray stops.

Past ``local_fs_capacity_threshold`` of its disk in use (0.95 unless the environment's
``RAY_local_fs_capacity_threshold`` says otherwise), Ray refuses to create objects, tasks and
actors on a node. A study started there does not fail at once: one CI run's end-to-end study
waited until it was killed on a disk past 95%. Drivers therefore check the output folder's disk
and Ray's before they start anything (:func:`check_disks`), and a training stage whose workers
find no room says how full Ray's disk is (:mod:`pipelines.train.startup_wait`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

WARN_MARGIN = 0.05  # warn this far below Ray's threshold


class DiskFull(RuntimeError):
    """A disk the study needs is past Ray's threshold."""


def threshold() -> float:
    """The fill (0–1) past which Ray stops creating objects, tasks and actors."""
    return float(os.environ.get("RAY_local_fs_capacity_threshold", "0.95"))


def existing(path: str | Path) -> Path:
    """``path``, or for a path not made yet its nearest existing folder (whose disk it will be on)."""
    path = Path(path).resolve()
    while not path.exists():
        path = path.parent
    return path


def used_fraction(path: str | Path) -> float:
    """The fraction of ``path``'s disk not available (to this user), as Ray counts it."""
    usage = shutil.disk_usage(existing(path))
    return 1.0 - usage.free / usage.total


def ray_temp_dir() -> Path | None:
    """This node's Ray temp folder (where it spills objects), in a driver or a worker of a
    running Ray; None without one."""
    import ray

    node = getattr(ray._private.worker.global_worker, "node", None)
    return Path(node.get_temp_dir_path()) if node is not None else None


def check_disks(paths: dict[str, Path | None]) -> list[str]:
    """Raise :class:`DiskFull` naming each of ``paths`` (role → path; None is skipped) whose disk
    is past Ray's threshold; return a warning for each within :data:`WARN_MARGIN` of it."""
    limit, full, near = threshold(), [], []
    for role, path in paths.items():
        if path is None:
            continue
        used = used_fraction(path)
        if used >= limit:
            full.append(f"{role} {path} is {used:.0%} full")
        elif used >= limit - WARN_MARGIN:
            near.append(f"disk: {role} {path} is {used:.0%} full; Ray stops creating tasks and objects "
                        f"at {limit:.0%} (RAY_local_fs_capacity_threshold)")
    if full:
        raise DiskFull(f"disk: {'; '.join(full)}: past {limit:.0%}, Ray creates no tasks or objects there "
                       f"(RAY_local_fs_capacity_threshold); free some space and run again")
    return near


def ray_disk_note() -> str:
    """`` Disk: /tmp/ray is 96% full (Ray stops at 95%).`` for this node's Ray temp folder, or
    nothing where there is none."""
    folder = ray_temp_dir()
    if folder is None:
        return ""
    return f" Disk: {folder} is {used_fraction(folder):.0%} full (Ray stops at {threshold():.0%})."
