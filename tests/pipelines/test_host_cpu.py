"""The host's stolen CPU share, read from /proc/stat-shaped files."""

from pathlib import Path

import pytest

from pipelines.host_cpu import CpuTicks, StealMeter, cpu_ticks, describe, steal_share


def stat_file(path: Path, user: int, idle: int, steal: int, guest: int = 0) -> Path:
    """A /proc/stat with its aggregate line (and a per-CPU line, which must be ignored)."""
    path.write_text(f"cpu  {user} 5 10 {idle} 2 0 3 {steal} {guest} 0\ncpu0 1 1 1 1 1 1 1 99999 0 0\nintr 1 2\n")
    return path


def test_the_aggregate_line_is_summed_over_its_first_eight_states_guest_time_being_in_user(tmp_path):
    ticks = cpu_ticks(stat_file(tmp_path / "stat", user=100, idle=50, steal=30, guest=40))
    assert ticks == CpuTicks(total=100 + 5 + 10 + 50 + 2 + 0 + 3 + 30, steal=30)


def test_the_share_is_the_stolen_part_of_the_time_between_two_readings(tmp_path):
    path = stat_file(tmp_path / "stat", user=100, idle=50, steal=30)
    meter = StealMeter(path)
    stat_file(path, user=160, idle=70, steal=50)  # 60 + 20 + 20 more ticks: 20 of them stolen
    share = meter.lap()
    assert share == pytest.approx(0.2)
    assert describe(share) == "the hypervisor took 20% of this host's CPU time (steal)"
    stat_file(path, user=200, idle=110, steal=50)  # the next lap counts from the last reading: 80, none stolen
    assert meter.lap() == 0.0


@pytest.mark.parametrize("text", ["", "intr 1 2\n", "cpu  1 2 3\n", "cpu  1 2 3 x 5 6 7 8\n"])
def test_a_missing_or_unreadable_line_gives_no_share_and_says_so(tmp_path, text):
    path = tmp_path / "stat"
    path.write_text(text)
    assert cpu_ticks(path) is None and cpu_ticks(tmp_path / "absent") is None
    share = StealMeter(path).lap()
    assert share is None and "not known" in describe(share)


def test_no_share_without_a_tick_between_the_readings():
    assert steal_share(CpuTicks(10, 1), CpuTicks(10, 1)) is None
    assert steal_share(None, CpuTicks(10, 1)) is None
