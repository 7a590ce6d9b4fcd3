"""The two Quick-start commands, CI and the cluster scripts hang together."""

import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _quick_start():
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_quick_start_has_exactly_two_commands():
    study, tests = _quick_start()
    assert study == "bash cluster/run_study.sh" and tests == "bash tests/run.sh"
    assert (REPO / "cluster/run_study.sh").is_file() and (REPO / "tests/run.sh").is_file()


def test_ci_calls_the_readme_test_command_word_for_word():
    _, tests = _quick_start()
    assert tests in (REPO / ".ci/run").read_text()


def test_scripts_are_valid_bash():
    for script in [*REPO.glob("cluster/*.sh"), REPO / "tests/run.sh", REPO / ".ci/run"]:
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_study_script_submits_the_entrypoint_bound_to_localhost():
    text = (REPO / "cluster/run_study.sh").read_text()
    assert "ray job submit" in text and "pipelines/full_study.py" in text
    assert (REPO / "pipelines/full_study.py").is_file()
    start = (REPO / "cluster/start_local.sh").read_text()
    assert "--node-ip-address 127.0.0.1" in start and "--dashboard-host 127.0.0.1" in start


def test_runtime_env_keeps_venv_data_and_outputs_out_of_the_upload():
    env = yaml.safe_load((REPO / "cluster/runtime_env.yaml").read_text())
    for path in ("/.venv/", "/outputs/", "/data/"):
        assert path in env["excludes"]
    ignored = (REPO / ".gitignore").read_text().split()
    assert ".venv/" in ignored and "/outputs/" in ignored and "/data/" in ignored


def test_cloud_and_kuberay_recipes_parse_and_name_the_real_entrypoint():
    cloud = yaml.safe_load((REPO / "cluster/ray-cluster.yaml").read_text())
    assert cloud["head_node_type"] in cloud["available_node_types"]
    assert any("--dashboard-host=127.0.0.1" in c for c in cloud["head_start_ray_commands"])
    comments = (REPO / "cluster/ray-cluster.yaml").read_text()
    # ray up: token auth on every node, with the token the user generated copied to each of them
    assert all("RAY_AUTH_MODE=token" in c for k in ("head_start_ray_commands", "worker_start_ray_commands")
               for c in cloud[k] if "ray start" in c)
    assert cloud["file_mounts"]["/home/ubuntu/.ray/auth_token"] == "~/.ray/auth_token"
    assert any("chmod 600 ~/.ray/auth_token" in c for c in cloud["setup_commands"])
    job = yaml.safe_load((REPO / "cluster/kuberay-rayjob.yaml").read_text())
    assert job["kind"] == "RayJob" and job["apiVersion"].startswith("ray.io/")
    spec = job["spec"]["rayClusterSpec"]
    # KubeRay submits through the dashboard service: it must not be bound to the pod's loopback;
    # token auth protects it instead.
    assert "dashboard-host" not in spec["headGroupSpec"]["rayStartParams"]
    assert spec["authOptions"] == {"mode": "token"}
    for text in (job["spec"]["entrypoint"], comments):
        script, config = re.search(r"python (pipelines/full_study\.py) --config (\S+\.yaml)", text).groups()
        assert (REPO / script).is_file() and (REPO / config).is_file()


def test_readme_documents_each_cluster_recipe():
    text = (REPO / "README.md").read_text()
    for name in ("cluster/start_local.sh", "cluster/ray-cluster.yaml", "cluster/kuberay-rayjob.yaml", "ray up"):
        assert name in text
