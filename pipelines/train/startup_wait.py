"""Say why a training stage's workers do not start, each time Ray Train gives up waiting for them.

Ray Train asks for a placement group holding every worker's resources and waits 60 s for it
(``RAY_TRAIN_WORKER_GROUP_START_TIMEOUT_S``); then it drops the request and asks again, without
end (its controller-failure limit is -1), logging nothing above INFO. A stage whose CPUs are held
by something else therefore waits in silence: one CI run's baseline waited 15 min that way, and
what held the CPUs was never known. :class:`StartupWaitNote` prints one line per timed-out
attempt, naming the stage, what it asks for, the cluster's free resources and what holds them,
and appends the line to ``<run folder>/startup_waits.txt``. It retries as Ray Train does: on an
autoscaling cluster, nodes may still come.
"""

from __future__ import annotations

import time
from pathlib import Path

try:  # Ray Train V2's controller callbacks and its startup-timeout error
    from ray.train.v2._internal.exceptions import WorkerGroupStartupTimeoutError
    from ray.train.v2._internal.execution.callback import ControllerCallback
except ImportError:  # pragma: no cover - another Ray version: nothing is noted
    ControllerCallback, WorkerGroupStartupTimeoutError = object, None

WAIT_FILE = "startup_waits.txt"


class StartupWaitNote(ControllerCallback):
    """A controller callback: after each attempt whose workers found no room, one line (printed
    and appended to ``folder``/:data:`WAIT_FILE`) that says what the stage ``label`` asked for
    (``request``, e.g. ``1 × {'CPU': 1.25}``) and what holds the cluster (:func:`holders`)."""

    def __init__(self, folder: str, label: str, request: str) -> None:
        self.folder, self.label, self.request = folder, label, request
        self.waits, self.since = 0, time.monotonic()

    def after_controller_start(self, train_run_context) -> None:
        self.since = time.monotonic()  # in the controller's process, which may be on another node

    def after_controller_state_update(self, previous_state, current_state) -> None:
        error = getattr(current_state, "training_failed_error", None)
        if WorkerGroupStartupTimeoutError is None or not isinstance(
                getattr(error, "controller_failure", None), WorkerGroupStartupTimeoutError):
            return
        self.waits += 1
        line = (f"[train] {self.label}: no room for its workers ({self.request}) after "
                f"{time.monotonic() - self.since:.0f} s ({self.waits} attempt(s)); Ray Train asks again. {holders()}")
        print(line, flush=True)
        with open(Path(self.folder) / WAIT_FILE, "a") as f:
            f.write(line + "\n")


def holders() -> str:
    """The cluster's free CPUs and GPUs, and what holds the rest: each placement group with its
    bundles, and (where Ray's state API answers) the running tasks and live actors by name; and
    how full this node's Ray disk is (past Ray's threshold it starts nothing)."""
    import ray
    from ray.util.placement_group import placement_group_table

    free, total = ray.available_resources(), ray.cluster_resources()
    kinds = [k for k in ("CPU", "GPU") if total.get(k)]
    text = "Free: " + ", ".join(f"{k} {free.get(k, 0.0):g} of {total[k]:g}" for k in kinds) + "."
    groups = [g for g in placement_group_table().values() if g.get("state") == "CREATED"]
    if groups:
        text += " Placement groups: " + "; ".join(
            f"{g['placement_group_id'][:12]} {list(g['bundles'].values())}" for g in groups) + "."
    from pipelines.disk_space import ray_disk_note

    return text + running() + ray_disk_note()


def running() -> str:
    """`` Running: 2 × decode_many, 1 × RayTrainWorker ...`` from Ray's state API, or nothing
    where it does not answer (a cluster without the dashboard)."""
    from collections import Counter

    try:
        from ray.util.state import list_actors, list_tasks

        tasks = list_tasks(filters=[("state", "=", "RUNNING")], timeout=5, raise_on_missing_output=False)
        actors = list_actors(filters=[("state", "=", "ALIVE")], timeout=5, raise_on_missing_output=False)
    except Exception:  # noqa: BLE001 - diagnostics only: the state API is optional
        return ""
    names = Counter(t.name for t in tasks if not t.name.endswith(".__init__")) + Counter(a.class_name for a in actors)
    return (" Running: " + ", ".join(f"{n} × {name}" for name, n in names.most_common(8)) + ".") if names else ""
