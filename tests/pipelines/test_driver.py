"""The study's driver process: what it imports before any stage runs."""

import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("torch", "mlflow", "pandas", "ray.train", "ray.data")


def test_the_study_driver_imports_no_torch_mlflow_or_ray_train():
    # Each costs the driver seconds at every study's start (the stages and the tracker import
    # what they need in their own processes); a module-level import of one would bring it back.
    code = ("import sys, pipelines.full_study; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
