"""The MLflow store: MLFLOW_TRACKING_URI everywhere, fast failures, lock retries, one-line errors."""

import socket
import sqlite3
import threading

import pytest

from pipelines import mlflow_store, run_tags
from pipelines.mlflow_store import TrackingError, open_client
from pipelines.tracking import Tracker


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_an_apostrophe_in_the_output_path_is_searched_safely(tmp_path):
    out = tmp_path / "it's a \"study\""
    out.mkdir()
    tracker = Tracker(str(out))
    run = tracker.create_run("study", tags={run_tags.STAGE: "report"})
    assert tracker.find_run(None, run_tags.STAGE, "report") == run
    assert tracker.close_stale_runs() == 1
    with pytest.raises(ValueError, match="cannot be searched"):
        tracker.find_run(None, run_tags.STAGE, "it's")


def test_an_unreachable_server_is_a_one_line_error_naming_it():
    uri = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(TrackingError) as err:
        open_client(uri)
    assert uri in str(err.value) and "unreachable" in str(err.value) and "\n" not in str(err.value)


@pytest.fixture
def silent_server():
    """The URI of an HTTP server that takes connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    threading.Thread(target=lambda: [held.append(server.accept()) for _ in range(16)], daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.slow
def test_a_server_that_never_answers_is_an_error_not_a_hang(silent_server):
    uri = silent_server
    with pytest.raises(TrackingError) as err:
        open_client(uri)  # MLflow's own defaults would retry for about four minutes
    assert uri in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_a_tracker_that_cannot_open_its_store_is_a_one_line_error(ray_local, monkeypatch, silent_server):
    from pipelines.tracking import start_tracker

    uri = silent_server  # takes connections, so the driver's check passes
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow_store.check_store("unused")  # the driver's check cannot tell
    with pytest.raises(TrackingError) as err:
        start_tracker("unused")  # the actor's MLflow client can
    assert uri in str(err.value) and "\n" not in str(err.value)


def test_a_corrupt_store_stops_the_study_driver_with_one_line(tmp_path, capsys):
    from pipelines.full_study import main

    (tmp_path / "mlflow.db").write_bytes(b"not a database, " * 64)
    assert main(["--smoke", "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tracking error:") and "mlflow.db" in err[0], err


def test_a_read_only_store_is_a_one_line_error_but_can_still_be_read(tmp_path, monkeypatch):
    Tracker(str(tmp_path)).create_run("study")
    # MLflow makes the parent folder of a `file:` path relative to the working directory
    # (`_make_parent_dirs_if_sqlite`): keep that empty folder out of the checkout.
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///file:{tmp_path}/mlflow.db?mode=ro&uri=true"
    with pytest.raises(TrackingError, match="is read-only") as err:
        open_client(uri)
    assert "\n" not in str(err.value)
    assert open_client(uri, write=False).get_experiment_by_name("drl-study") is not None


def test_a_lock_is_retried_with_backoff_then_reported(monkeypatch):
    monkeypatch.setattr(mlflow_store.time, "sleep", lambda s: None)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("(sqlite3.OperationalError) database is locked")
        return "written"

    assert mlflow_store._retrying(flaky, "sqlite:///x.db")() == "written" and len(calls) == 3
    def always_locked():
        raise RuntimeError("database is locked")

    with pytest.raises(TrackingError, match="database is locked after"):
        mlflow_store._retrying(always_locked, "sqlite:///x.db")()


def test_a_store_locked_by_another_process_is_a_clear_error(tmp_path, monkeypatch):
    Tracker(str(tmp_path)).create_run("study")
    monkeypatch.setattr(mlflow_store, "LOCK_RETRIES", 1)
    monkeypatch.setattr(mlflow_store.time, "sleep", lambda s: None)
    holder = sqlite3.connect(tmp_path / "mlflow.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TrackingError, match="database is locked after 1 retries") as err:
            Tracker(str(tmp_path))
        assert "\n" not in str(err.value)
    finally:
        holder.rollback()
        holder.close()
    Tracker(str(tmp_path)).create_run("after")  # released: writes go through again


def test_the_study_driver_stops_on_an_unusable_store_with_one_line(tmp_path, monkeypatch, capsys):
    from pipelines.full_study import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_closed_port()}")
    assert main(["--smoke", "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tracking error:") and "unreachable" in err[0]


def test_reports_read_the_store_mlflow_tracking_uri_names(tmp_path, monkeypatch):
    from pipelines.report.seeds import read_store

    server_dir, folder = tmp_path / "server", tmp_path / "study"
    server_dir.mkdir()
    folder.mkdir()
    uri = f"sqlite:///{server_dir}/mlflow.db"
    tracker = Tracker(str(folder), uri)
    run = tracker.create_run("study", params={"seed": 3, "benchmark": {"bias": 0.5}})
    tracker.end_run(run)
    Tracker(str(tmp_path / "other"), uri).end_run(Tracker(str(tmp_path / "other"), uri).create_run(
        "other", params={"seed": 4, "benchmark": {"bias": 0.5}}))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    studies = read_store(folder)
    assert [s["seed"] for s in studies] == [3]  # only this folder's runs of the shared store
