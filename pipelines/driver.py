"""What every entrypoint driver shares: the output folder and its lock, Ray start-up, signals."""

from __future__ import annotations

import fcntl
import os
import signal
import sys
from pathlib import Path
from typing import Callable

# Ray Train's controller polls its workers this often (default 2 s, which adds up over many short stages).
RAY_ENV = {"RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.5"}


def parse_sets(items: list[str] | None) -> dict[str, object]:
    """``--set key.path=value`` items as config overrides; values are read as YAML
    (``seed=2``, ``benchmark.bias=0.5``, ``drl.algorithms=[static_inputs]``)."""
    import yaml

    out: dict[str, object] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: expected key.path=value")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ValueError(f"--set {item!r}: the value is not valid YAML") from None
    return out


def resolve_output(arg: str | None, configured: str) -> Path:
    """``--output-dir``, else the config's ``output_dir``, else ``~/drl-study``."""
    return Path(arg or configured or Path.home() / "drl-study").expanduser().resolve()


def lock_output(out: Path, what: str = "study"):
    """Hold an exclusive lock on the output folder: two drivers must not run one study at once."""
    handle = open(out / ".study.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"{out}: another {what} is running on this output folder") from None
    return handle


def job_env_vars() -> dict[str, str]:
    """The environment variables of the Ray job this driver runs in (``ray job submit``)."""
    import json

    from ray._private.runtime_env.constants import RAY_JOB_CONFIG_JSON_ENV_VAR

    job = json.loads(os.environ.get(RAY_JOB_CONFIG_JSON_ENV_VAR) or "{}")
    return (job.get("runtime_env") or {}).get("env_vars") or {}


def init_ray() -> None:
    """Join the cluster ``RAY_ADDRESS`` names (a Ray job), else start a local Ray.

    A job's workers get that address too: Ray Train's placement-group cleaner (which frees the
    CPUs of a trial Tune stops) asks the state API for the cluster, and without an address that
    call fails whenever a second Ray runs on the machine, leaking the CPUs for the rest of the job.
    """
    import ray

    address = os.environ.get("RAY_ADDRESS") or None
    if address is None:  # a local Ray in single-machine mode: every port on 127.0.0.1 (cluster/local_head.sh)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        runtime_env = {"env_vars": RAY_ENV}
    elif "://" not in address and address != "auto" and "RAY_ADDRESS" not in job_env_vars():
        runtime_env = {"env_vars": {"RAY_ADDRESS": address}}
    else:
        runtime_env = None
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=True, runtime_env=runtime_env)


def interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    """SIGTERM (``ray job stop``) as KeyboardInterrupt, so drivers end their runs KILLED."""
    raise KeyboardInterrupt(f"signal {signum}")


def require_disks(out: Path) -> None:
    """Raise :class:`pipelines.disk_space.DiskFull` unless the output folder's disk and Ray's
    are below Ray's threshold; print a warning for each that is near it."""
    from pipelines.disk_space import check_disks, ray_temp_dir

    for line in check_disks({"output folder": out, "Ray's temp folder": ray_temp_dir()}):
        print(line, file=sys.stderr)


def disks_usable(out: Path) -> bool:
    """:func:`require_disks` as a one-line error: whether the study may start."""
    from pipelines.disk_space import DiskFull

    try:
        require_disks(out)
    except DiskFull as err:
        print(err, file=sys.stderr)
        return False
    return True


def run_locked(out: Path, what: str, body: Callable[[], int], on_signal=interrupt,
               signals: tuple[int, ...] = (signal.SIGTERM,)) -> int:
    """Lock ``out``, check its MLflow store, start or join Ray, check the disks, route ``signals``
    to ``on_signal`` and run ``body``. A store that cannot be used (found here, or when
    ``body``'s tracker opens it), or a disk past Ray's threshold, is a one-line error (exit 2).

    The store is checked without importing MLflow (:func:`pipelines.mlflow_store.check_store`):
    the tracker actor opens it, and the study's driver imports neither MLflow nor torch (3–6 s
    of every study's start on a 2-core CPU)."""
    from pipelines.mlflow_store import TrackingError, check_store

    out.mkdir(parents=True, exist_ok=True)
    lock = lock_output(out, what)
    try:
        try:
            check_store(out)
            init_ray()
            if not disks_usable(out):
                return 2
            for sig in signals:
                signal.signal(sig, on_signal)  # after ray.init, which installs a handler of its own
            return body()
        except TrackingError as err:  # here, or from the tracker actor (a RayTaskError that is one)
            print(f"tracking error: {getattr(err, 'cause', None) or err}", file=sys.stderr)
            return 2
    finally:
        lock.close()
