"""The local head of cluster/start_local.sh: loopback only, a private token, and a stop script
that stops that head and nothing else (issue #13, items 8 and 9)."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
DRIVER = ("import ray; ray.init(address='127.0.0.1:{port}'); "
          "f = ray.remote(lambda: 1); assert ray.get([f.remote() for _ in range(4)]) == [1] * 4")


def _with_children(pids: set[int]) -> set[int]:
    rows = [r.split() for r in subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True,
                                               text=True).stdout.splitlines()]
    out, todo = set(pids), list(pids)
    while todo:
        parent = todo.pop()
        for pid, ppid in ((int(a), int(b)) for a, b in rows):
            if ppid == parent and pid not in out:
                out.add(pid)
                todo.append(pid)
    return out


def _head_pids(session: Path, port: int) -> set[int]:
    rows = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True).stdout.splitlines()
    mine = {int(r.split(None, 1)[0]) for r in rows
            if str(session) in r or f"ray.util.client.server --address=127.0.0.1:{port} " in r}
    return _with_children(mine)


def _listening(pids: set[int]) -> list[tuple[str, int, str]]:
    """(address, port, process) of every TCP socket the processes ``pids`` listen on (``ss``)."""
    out = []
    for line in subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines():
        fields = line.split()
        owners = re.findall(r'\("([^"]+)",pid=(\d+)', line)
        hit = [name for name, pid in owners if int(pid) in pids]
        if hit:
            address, _, port = fields[3].rpartition(":")
            out.append((address.strip("[]"), int(port), hit[0]))
    return out


def _loopback(address: str) -> bool:
    if address == "*":
        return False
    ip = ipaddress.ip_address(address.split("%")[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


@pytest.mark.slow
def test_local_head_listens_on_loopback_only_keeps_its_token_private_and_stops_alone(ray_local, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    temp = Path(tempfile.mkdtemp(prefix="rd", dir="/tmp"))  # Ray's socket paths must stay short
    port = free_port()
    env = {**os.environ, "HOME": str(home), "DRL_RAY_PORT": str(port), "DRL_RAY_DASHBOARD_PORT": str(free_port()),
           "DRL_RAY_CLIENT_PORT": str(free_port()), "DRL_RAY_NODE_MANAGER_PORT": str(free_port()),
           "DRL_RAY_OBJECT_MANAGER_PORT": str(free_port()), "DRL_RAY_TEMP_DIR": str(temp),
           "DRL_RAY_NUM_CPUS": "1", "RAY_AUTH_MODE": "token", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["bash", "cluster/start_local.sh"], cwd=REPO, env=env, check=True, timeout=180, capture_output=True)
    session = (temp / "session_latest").resolve()
    try:
        assert (home / ".ray" / "auth_token").stat().st_mode & 0o777 == 0o600
        driver_env = {**env, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # as cluster/local_head.sh sets
        subprocess.run([sys.executable, "-c", DRIVER.format(port=port)], env=driver_env, check=True, timeout=180)
        pids = _head_pids(session, port)
        sockets = _listening(pids)
        names = {name for _, _, name in sockets}
        assert {"gcs_server", "raylet"} <= names, (sockets, pids, session)  # the check sees the head's servers
        exposed = [s for s in sockets if not _loopback(s[0])]
        assert not exposed, f"listening beyond loopback: {exposed}"
    finally:
        stop = subprocess.run(["bash", "cluster/stop_local.sh"], cwd=REPO, env=env, timeout=120,
                              capture_output=True, text=True)
    assert stop.returncode == 0, stop.stderr
    assert ", 0 of them killed)" in stop.stdout, stop.stdout  # in Ray's order, each exits on SIGTERM (not so all at once)
    assert not _head_pids(session, port) & pids
    assert ray_local.get(ray_local.put("still here")) == "still here"  # the other Ray was left alone
