"""Check MLflow's compare view in a real browser: the study's models side by side.

``python -m pipelines.report.compare_view --store DIR --screenshot docs/mlflow_compare.png``

Starts ``mlflow ui`` on 127.0.0.1 over the study store in ``DIR``, opens the compare view of the
newest study's pretraining runs (one per model) in headless Chromium, saves a screenshot, and
checks the rendered page: every model's run and each outcome key asked for (by default
``ds/kl_out_of_context``) must be on it. Exit 0 when they are, 1 when not, 2 without Chromium
or a store.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from drl_core.metrics.keys import DS_OUT_OF_CONTEXT
from pipelines import names, run_tags
from pipelines.mlflow_store import tracking_uri
from pipelines.tracking import EXPERIMENT

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    """The headless browser on PATH, or None."""
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pretrain_runs(store: Path) -> tuple[str, dict[str, str]]:
    """(experiment id, model → run id) of the newest study's pretraining runs in ``store``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri(store))
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        raise FileNotFoundError(f"{store}: no MLflow experiment {EXPERIMENT!r}")
    runs = client.search_runs([exp.experiment_id], max_results=5000)
    parents = sorted((r for r in runs if "mlflow.parentRunId" not in r.data.tags), key=lambda r: r.info.start_time)
    if not parents:
        raise FileNotFoundError(f"{store}: no study in the store")
    newest = parents[-1].info.run_id
    models = {r.data.tags[run_tags.MODEL]: r.info.run_id for r in runs
              if r.data.tags.get("mlflow.parentRunId") == newest and run_tags.MODEL in r.data.tags}
    if not models:
        raise FileNotFoundError(f"{store}: the newest study has no pretraining run with its outcome (drl.model tag)")
    return exp.experiment_id, models


def compare_url(port: int, experiment: str, run_ids: list[str]) -> str:
    query = urllib.parse.urlencode({"runs": json.dumps(run_ids), "experiments": json.dumps([experiment])})
    return f"http://127.0.0.1:{port}/#/compare-runs?{query}"


def start_ui(store: Path, port: int) -> subprocess.Popen:
    """``mlflow ui`` on 127.0.0.1:``port`` over the store; returns once it answers."""
    mlflow = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen([str(mlflow), "ui", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", tracking_uri(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow ui exited with status {proc.returncode}") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("mlflow ui did not answer within 120 s")


def render_page(chrome: str, url: str, screenshot: Path, budget_ms: int = 20000) -> str:
    """The page's DOM after the browser ran its scripts for ``budget_ms``; a screenshot too."""
    flags = [chrome, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--window-size=2400,2600", f"--virtual-time-budget={budget_ms}"]
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(flags + [f"--screenshot={screenshot}", url], check=True, capture_output=True, timeout=180)
    return subprocess.run(flags + ["--dump-dom", url], check=True, capture_output=True, text=True,
                          timeout=180).stdout


def check(store: Path, screenshot: Path, keys: list[str]) -> tuple[bool, list[str]]:
    """Render the compare view; (all present?, what is missing)."""
    chrome = browser()
    if chrome is None:
        raise FileNotFoundError(f"no headless browser on PATH ({', '.join(BROWSERS)}); "
                                "install Debian's chromium package")
    experiment, models = pretrain_runs(store)
    port = free_port()
    ui = start_ui(store, port)
    try:
        dom = render_page(chrome, compare_url(port, experiment, list(models.values())), screenshot)
    finally:
        ui.terminate()
        ui.wait(timeout=30)
    runs = [names.pretrain_stage(m) for m in models]
    missing = [k for k in keys if k not in dom] + [r for r in runs if r not in dom]
    return not missing, missing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="a study output folder (holds mlflow.db)")
    p.add_argument("--screenshot", default="mlflow_compare.png", help="where the PNG goes")
    p.add_argument("--key", action="append", help="an outcome key that must show (repeatable; default "
                   f"{DS_OUT_OF_CONTEXT})")
    args = p.parse_args(argv)
    try:
        ok, missing = check(Path(args.store), Path(args.screenshot), args.key or [DS_OUT_OF_CONTEXT])
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.screenshot}; " + ("every model and key is on the page" if ok else f"missing: {missing}"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
