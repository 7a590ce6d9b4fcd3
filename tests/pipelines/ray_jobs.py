"""A separate local Ray that takes Ray Jobs, as users submit the study and the search."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, free_port

HEAD = """
import signal, sys, time, ray
sys.path.insert(0, sys.argv[3])
from tests.conftest import own_agent_port
own_agent_port(int(sys.argv[2]))
ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1",
         dashboard_port=int(sys.argv[1]))
print(ray._private.worker.global_worker.node.all_processes["raylet"][0].process.pid, flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # exit runs ray.shutdown: this cluster only
while True:
    time.sleep(1)
"""


@pytest.fixture(scope="module")
def jobs_cluster():
    """A separate local Ray (2 CPUs, dashboard on 127.0.0.1, token authentication, as
    cluster/start_local.sh starts one) that takes Ray Jobs; stopped after."""
    from ray.job_submission import JobSubmissionClient

    token = Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))
    if not token.is_file() or not token.read_text().strip():
        subprocess.run([str(Path(sys.executable).parent / "ray"), "get-auth-token", "--generate"], check=True,
                       capture_output=True)
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "token"  # this client, the head and the jobs' drivers
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # jobs run `python`
    head = subprocess.Popen([sys.executable, "-c", HEAD, str(port), str(free_port()), str(REPO)], stdout=subprocess.PIPE,
                            text=True, env=env)
    raylet = int(head.stdout.readline())
    try:
        auth = {"authorization": f"Bearer {token.read_text().strip()}"}
        yield JobSubmissionClient(f"http://127.0.0.1:{port}", headers=auth), raylet
    finally:
        head.send_signal(signal.SIGTERM)
        head.wait(timeout=120)
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved


RAY_PACKAGE_RACE = "Failed to download runtime_env file package"  # Ray GCS drops a reused working_dir zip


def submit_job(client, entrypoint: str) -> str:
    """Submit, waiting for the head's job agent (it comes up a little after the head), and submit
    again if Ray lost the uploaded working_dir package of an identical earlier job."""
    shipped = yaml.safe_load((REPO / "cluster" / "runtime_env.yaml").read_text())  # as users submit
    runtime_env = {"working_dir": str(REPO), "excludes": shipped["excludes"], "env_vars": shipped["env_vars"]}
    for _ in range(120):
        try:
            job = client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env)
        except RuntimeError as err:
            if "No available agent" not in str(err):
                raise
            time.sleep(1)
            continue
        for _ in range(60):  # the package race shows in the first seconds of the driver
            status = client.get_job_status(job)
            if status.is_terminal() or "[study] started" in client.get_job_logs(job):
                break
            time.sleep(0.5)
        if not (client.get_job_status(job).is_terminal() and RAY_PACKAGE_RACE in client.get_job_logs(job)):
            return job
    raise AssertionError("the job could not be submitted")


STATE = """
import ray
from ray.util.state import list_actors, list_placement_groups
ray.init()
print("resources available:", ray.available_resources(), "of", ray.cluster_resources())
for a in list_actors(filters=[("state", "=", "ALIVE")], limit=1000):
    print("actor", a.class_name, a.job_id, a.pid, a.placement_group_id, a.required_resources)
for g in list_placement_groups(limit=1000):
    print("placement group", g.placement_group_id, g.state, g.creator_job_id, g.bundles)
"""


def cluster_state(client) -> str:
    """What holds the cluster: alive actors and placement groups (a job of its own, for hang reports)."""
    job = client.submit_job(entrypoint=f"python -c '{STATE}'")
    for _ in range(120):
        if client.get_job_status(job).is_terminal():
            break
        time.sleep(1)
    return client.get_job_logs(job)
