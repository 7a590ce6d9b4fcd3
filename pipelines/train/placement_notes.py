"""Placement groups a Ray Train run noted, so that they can be removed when its controller is gone.

A Ray Train run's placement group outlives a controller that dies ungracefully (its stage task
killed, e.g. by Ray's memory monitor) until the Ray job ends: on one node, CPUs the rest of the
study waits for (reproduced). Where a run goes without Ray Train's own cleaner
(:func:`pipelines.train.trainer.wants_pg_cleaner`), its controller notes each group it makes in
``<run folder>/placement_groups.txt`` (:class:`PlacementGroupNote`);
the next attempt of the run, and the study's runner when a stage fails or is stopped, remove them.
Removing a group already removed (a run that ended well) does nothing.
"""

from __future__ import annotations

from pathlib import Path

try:  # Ray Train V2's controller callbacks (pipelines.train.trainer keeps the cleaner without them)
    from ray.train.v2._internal.execution.callback import WorkerGroupCallback
except ImportError:  # pragma: no cover - another Ray version
    WorkerGroupCallback = object

NOTE_FILE = "placement_groups.txt"


class PlacementGroupNote(WorkerGroupCallback):
    """A controller callback that notes each placement group the run makes in ``folder``: the
    cleaner's work, done by whoever retries or gives up the run, at no process of its own."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def after_worker_group_start(self, worker_group) -> None:
        note_group(self.folder, worker_group.get_worker_group_state().placement_group_handle.placement_group.id.hex())


def note_group(folder: str | Path, group_id: str) -> None:
    """Note placement group ``group_id`` (hex) as made by the run in ``folder``."""
    with open(Path(folder) / NOTE_FILE, "a") as f:
        f.write(group_id + "\n")


def remove_noted_groups(folder: str | Path) -> int:
    """Remove every placement group noted under ``folder`` (any depth) and the notes; returns how
    many were noted."""
    import ray
    from ray._raylet import PlacementGroupID
    from ray.util.placement_group import PlacementGroup

    count = 0
    for note in sorted(Path(folder).rglob(NOTE_FILE)) if Path(folder).is_dir() else []:
        for line in note.read_text().split():
            ray.util.remove_placement_group(PlacementGroup(PlacementGroupID(bytes.fromhex(line))))
            count += 1
        note.unlink()
    return count
