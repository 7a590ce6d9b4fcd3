"""The calibration's conditions, and ``drl calibrate --study``: the check that a study's own
baseline sits in the regime where DRL can act."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.calibrate import conditions, regime, study_recipe
from pipelines.config.schema import StudyConfig


def rows(ic: float, ooc: float, chance: float = 0.1) -> list[dict]:
    return [{"test_in_context": ic, "test_out_of_context": ooc, "chance": chance}]


def test_the_regime_needs_a_25_point_gap_and_twice_chance_out_of_context():
    assert [ok for *_, ok in regime(rows(0.9, 0.3))] == [True, True]
    assert [ok for *_, ok in regime(rows(0.9, 0.0))] == [True, False]  # scene only: nothing for DRL to amplify
    assert [ok for *_, ok in regime(rows(0.5, 0.3))] == [False, True]  # the scene cue barely matters
    assert [ok for *_, ok in regime(rows(0.9, 0.45, chance=0.25))] == [True, False]
    gap = regime(rows(0.9, 0.3))[0]
    assert gap[1] == pytest.approx(0.6) and gap[2] == 0.25
    assert [ok for *_, ok in conditions(rows(0.95, 0.92), rows(0.9, 0.3))] == [True, True, True]
    assert [ok for *_, ok in conditions(rows(0.6, 0.5), rows(0.9, 0.3))] == [False, True, True]


def test_the_study_check_trains_the_study_baseline():
    cfg = study_recipe(StudyConfig(seed=3))
    assert cfg.calibration.model == cfg.pretrain.model and cfg.calibration.optim == cfg.pretrain.optim
    assert cfg.calibration.clip == cfg.pretrain.clip and cfg.calibration.seeds == (3,)


@pytest.mark.slow
def test_drl_calibrate_study_exits_as_its_table_says(tmp_path):
    """On a CI-sized benchmark (a 1-epoch baseline), whatever the numbers: the exit status is 0
    exactly when both conditions the table prints are met, and the measurement is cached."""
    sets = ["benchmark.source_train_per_class=6", "benchmark.source_test_per_class=3", "pretrain.optim.epochs=1",
            "benchmark.downstream_train_per_class=1", "benchmark.downstream_test_per_class=1",
            "benchmark.static_train_per_class=1", "benchmark.static_test_per_class=1",
            "pretrain.clip.test_clips=1"]
    cmd = [str(Path(sys.executable).parent / "drl"), "calibrate", "--study", "--output-dir", str(tmp_path / "cal"),
           "--write-doc", str(tmp_path / "regime.md")] + [a for s in sets for a in ("--set", s)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    doc = (tmp_path / "regime.md").read_text()
    assert doc.startswith("# The study's regime (its own baseline)")
    met = re.findall(r"^\| default bias: .* \| (-?[0-9.]+) \| ([0-9.]+) \| (yes|\*\*no\*\*) \|$", doc, re.M)
    assert len(met) == 2 and "unbiased" not in doc
    for measured, threshold, ok in met:
        assert (float(measured) >= float(threshold)) == (ok == "yes")
    assert out.returncode == (0 if all(ok == "yes" for *_, ok in met) else 1)
    assert len(list((tmp_path / "cal" / "calibration_runs").glob("*.json"))) == 1
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert again.returncode == out.returncode and (tmp_path / "regime.md").read_text().split("\n", 3)[3] == \
        doc.split("\n", 3)[3]
