"""drl_core stays pure PyTorch: no ray, mlflow or yaml, not even indirectly."""

import ast
import subprocess
import sys
from pathlib import Path

import drl_core

FORBIDDEN = {"ray", "mlflow", "yaml"}
ROOT = Path(drl_core.__file__).parent


def test_no_forbidden_imports_in_source():
    offenders = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders


def test_importing_every_module_loads_none_of_them():
    modules = sorted("drl_core." + ".".join(p.relative_to(ROOT).with_suffix("").parts)
                     for p in ROOT.rglob("*.py") if p.name != "__init__.py")
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
