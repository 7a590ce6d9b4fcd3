"""What every entrypoint driver shares: the output folder and its lock, Ray start-up, signals."""

from __future__ import annotations

import fcntl
import os
import signal
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


def init_ray() -> None:
    """Join the cluster ``RAY_ADDRESS`` names (a Ray job), else start a local Ray."""
    import ray

    address = os.environ.get("RAY_ADDRESS") or None
    runtime_env = None if address else {"env_vars": RAY_ENV}
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=True, runtime_env=runtime_env)


def interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    """SIGTERM (``ray job stop``) as KeyboardInterrupt, so drivers end their runs KILLED."""
    raise KeyboardInterrupt(f"signal {signum}")



def run_locked(out: Path, what: str, body: Callable[[], int], on_signal=interrupt,
               signals: tuple[int, ...] = (signal.SIGTERM,)) -> int:
    """Lock ``out``, start or join Ray, route ``signals`` to ``on_signal`` and run ``body``."""
    out.mkdir(parents=True, exist_ok=True)
    lock = lock_output(out, what)
    try:
        init_ray()
        for sig in signals:
            signal.signal(sig, on_signal)  # after ray.init, which installs a handler of its own
        return body()
    finally:
        lock.close()
