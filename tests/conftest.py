"""Shared fixtures: a local 2-CPU Ray for the tests that need one, and tiny generated videos."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_agent_port(port: int) -> None:
    """Give the local Ray this process starts next its own dashboard-agent port: a Ray already on
    the machine (the head ``bash cluster/run_study.sh`` leaves running) holds the default one."""
    import ray._private.parameter as parameter

    init = parameter.RayParams.__init__

    def patched(self, *args, **kwargs):
        kwargs["dashboard_agent_listen_port"] = port
        init(self, *args, **kwargs)

    parameter.RayParams.__init__ = patched


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs of its own (never a cluster already running here), once per session."""
    import ray

    if not ray.is_initialized():  # workers import test modules too (tests/pipelines/stage_kinds.py)
        own_agent_port(free_port())
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.5"}})
    yield ray


def raylet_pid() -> int:
    """The raylet of the Ray this process started (its workers are the raylet's children)."""
    import ray

    return ray._private.worker.global_worker.node.all_processes["raylet"][0].process.pid


def train_worker_pids(parent: int) -> list[int]:
    """Ray Train worker processes whose parent is the raylet ``parent`` (one cluster only)."""
    import subprocess

    rows = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines()
    return [int(r.split(None, 2)[0]) for r in rows
            if len(r.split(None, 2)) == 3 and int(r.split(None, 2)[1]) == parent and "ray::RayTrainWorker" in r]


def write_video(path: Path, num_frames: int, fps: int, size: tuple[int, int] = (48, 64)) -> Path:
    """An H.264 .mp4 whose frame i has a bright column at x = i (mod width); returns ``path``."""
    from pipelines.synthetic.generate import write_mp4

    h, w = size
    frames = np.full((num_frames, h, w, 3), 40, np.uint8)
    for i in range(num_frames):
        frames[i, :, (2 * i) % w] = 255
        frames[i, : 4, : 4] = (i * 7) % 256
    write_mp4(frames, fps, path, crf=10)
    return path


@pytest.fixture
def make_video():
    return write_video


def write_split(folder: Path, num_classes: int = 3, videos_per_class: int = 4, frames: int = 6,
                size: int = 32, files: int = 2, seed: int = 0, clip_frames: int = 4, encoding: str = "raw") -> Path:
    """A decoded split as the decode stage writes it (Parquet shards of one video per row group,
    classes.txt, summary.json), without decoding videos: each video's row holds ``frames``
    frames, in which class c's bright square moves by 3(c+1) pixels per frame; a clip is
    ``clip_frames`` of them."""
    from pipelines.decode.schema import video_table, write_split_files

    rng = np.random.default_rng(seed)
    classes = [f"class {c}" for c in range(num_classes)]
    tables = []
    for c in range(num_classes):
        for v in range(videos_per_class):
            arr = rng.integers(0, 60, (frames, size, size, 3), dtype=np.uint8)
            for t in range(frames):
                x = (v + t * (c + 1) * 3) % (size - 6)
                arr[t, 10:16, x:x + 6] = 255
            meta = {"video_id": f"c{c}v{v}", "label": c, "label_name": classes[c], "split": folder.name,
                    "source_fps": 8.0, "duration": frames / clip_frames, "backend": "test"}
            tables.append(video_table(meta, arr, float(clip_frames), encoding))
    return write_split_files(folder, classes, clip_frames, encoding, (tables[i::files] for i in range(files)))


@pytest.fixture
def make_split():
    return write_split


def assert_config_error(script: str, args: list[str], message: str) -> None:
    """Running ``script`` (a driver under pipelines/) with ``args`` exits 2 with a one-line
    error holding ``message``."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, script, *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
