"""Disks past Ray's threshold stop the drivers with one line before anything starts."""

import shutil

import pytest

from pipelines import disk_space
from pipelines.disk_space import DiskFull, check_disks


def fill(monkeypatch, **used):
    """Make the disks of the named folders (by their last path part) this full."""
    monkeypatch.setattr(disk_space, "used_fraction", lambda path: used.get(str(path).rsplit("/", 1)[-1], 0.5))


def test_a_disk_past_ray_s_threshold_is_an_error_naming_it_and_one_near_it_a_warning(tmp_path, monkeypatch):
    monkeypatch.delenv("RAY_local_fs_capacity_threshold", raising=False)
    fill(monkeypatch, out=0.91, ray=0.5)
    assert check_disks({"output folder": tmp_path / "out", "Ray's temp folder": tmp_path / "ray", "none": None}) == [
        f"disk: output folder {tmp_path / 'out'} is 91% full; Ray stops creating tasks and objects at 95% "
        f"(RAY_local_fs_capacity_threshold)"]
    fill(monkeypatch, out=0.5, ray=0.96)
    with pytest.raises(DiskFull, match=r"^disk: Ray's temp folder .*/ray is 96% full: past 95%, Ray creates no"):
        check_disks({"output folder": tmp_path / "out", "Ray's temp folder": tmp_path / "ray"})
    monkeypatch.setenv("RAY_local_fs_capacity_threshold", "0.99")  # Ray's own setting moves the line
    [warning] = check_disks({"Ray's temp folder": tmp_path / "ray"})  # 96%: near 99%, not past it
    assert warning.endswith("is 96% full; Ray stops creating tasks and objects at 99% (RAY_local_fs_capacity_threshold)")


def test_a_folder_not_made_yet_counts_its_nearest_existing_parent(tmp_path):
    usage = shutil.disk_usage(tmp_path)
    assert disk_space.used_fraction(tmp_path / "a" / "b") == pytest.approx(1 - usage.free / usage.total, abs=0.01)


def test_the_study_driver_stops_on_a_full_disk_with_one_line_and_runs_nothing(ray_local, tmp_path, monkeypatch,
                                                                              capsys):
    from pipelines.full_study import main

    out = tmp_path / "study"
    fill(monkeypatch, study=0.97)
    assert main(["--smoke", "--output-dir", str(out)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "mlflow" not in line]  # its store's set-up
    assert len(err) == 1 and err[0].startswith(f"disk: output folder {out} is 97% full")
    assert not (out / "stages").exists()


def test_a_startup_wait_note_says_how_full_ray_s_disk_is(ray_local):
    from pipelines.train.startup_wait import holders

    temp = disk_space.ray_temp_dir()
    assert temp is not None and temp.is_dir()
    assert f"Disk: {temp} is " in holders() and "full (Ray stops at" in holders()
