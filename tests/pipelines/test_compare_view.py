"""MLflow's compare view in a real browser: the pretraining runs of a study show every model's
outcome side by side. Needs Chromium (Debian's ``chromium``; .ci/run installs it)."""

import shutil

import pytest

from pipelines import run_tags
from pipelines.report.compare_view import BROWSERS, browser, check
from pipelines.tracking import Tracker

MODELS = ("baseline", "continued", "static_inputs")


def fake_study(out) -> None:
    """A store as a finished study leaves it: a parent run, and per model a pretraining run with
    the model's outcome metrics under the same keys."""
    tracker = Tracker(str(out))
    parent = tracker.create_run("study")
    for i, model in enumerate(MODELS):
        run = tracker.create_run(f"pretrain/{model}", parent, {"optim.epochs": 1}, {run_tags.MODEL: model})
        tracker.log_metrics(run, {"train/loss": 1.0 + i, "ds/kl_out_of_context": 0.1 * (i + 1),
                                  "eval/acc1_out_of_context": 0.3 + 0.01 * i}, 0)
        tracker.end_run(run)
    tracker.end_run(parent)


@pytest.mark.slow
@pytest.mark.skipif(browser() is None, reason=f"no headless browser ({', '.join(BROWSERS)}): "
                    "install Debian's chromium (bash .ci/run does)")
def test_the_compare_view_shows_every_models_dynamic_score(tmp_path):
    fake_study(tmp_path)
    ok, missing = check(tmp_path, tmp_path / "compare.png", ["ds/kl_out_of_context", "eval/acc1_out_of_context"])
    assert ok, f"missing on the page: {missing}"
    assert (tmp_path / "compare.png").stat().st_size > 10_000
    ok, missing = check(tmp_path, tmp_path / "again.png", ["ds/no_such_metric"])  # the check can fail
    assert not ok and missing == ["ds/no_such_metric"]


def test_without_a_browser_the_check_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="install Debian's chromium package"):
        check(tmp_path, tmp_path / "x.png", ["ds/kl_out_of_context"])
