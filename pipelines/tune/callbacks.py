"""Tune callbacks of the search driver: each trial's MLflow run ends when its trial does."""

from __future__ import annotations

from pathlib import Path

from ray import tune

from pipelines import run_tags


def trial_state(trial_dir: Path) -> str:
    """``finished`` if the trial trained every epoch (rank 0 then writes ``history.json``), else
    ``stopped_early`` (the scheduler stopped it)."""
    return "finished" if (trial_dir / "history.json").is_file() else "stopped_early"


class TrialRuns(tune.Callback):
    """Ends a trial's MLflow run FINISHED (tagged ``drl.trial_state``) or FAILED, and prints it.

    Tune pickles its callbacks with the experiment, and a resumed search runs under a new
    driver: so the tracker is looked up by actor name and the search's parent run by its tag.
    """

    def __init__(self, tracker_name: str, search: str, trials_dir: str) -> None:
        self.tracker_name, self.search, self.trials_dir = tracker_name, search, trials_dir

    def _end(self, trial, state: str, status: str) -> None:
        import ray

        tracker = ray.get_actor(self.tracker_name)
        parent = ray.get(tracker.find_run.remote(None, run_tags.SEARCH, self.search))
        run_id = ray.get(tracker.find_run.remote(parent, run_tags.TRIAL_ID, trial.trial_id)) if parent else None
        if run_id is not None:
            ray.get(tracker.set_tags.remote(run_id, {run_tags.TRIAL_STATE: state}))
            ray.get(tracker.end_run.remote(run_id, status))
        print(f"[tune] trial {trial.trial_id} {state}", flush=True)

    def on_trial_complete(self, iteration: int, trials: list, trial, **info) -> None:
        self._end(trial, trial_state(Path(self.trials_dir) / trial.trial_id), "FINISHED")

    def on_trial_error(self, iteration: int, trials: list, trial, **info) -> None:
        self._end(trial, "failed", "FAILED")
