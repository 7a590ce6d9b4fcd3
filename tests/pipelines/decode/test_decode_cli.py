"""``python -m pipelines.decode`` on every dataset fixture: shards, manifest with every bad row,
counts per label printed. Jester's frame folders decode through the same stage."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipelines.decode.__main__ import main
from tests.pipelines.decode import layouts

CONFIG = "decode: {num_frames: 4, short_side: 16, timeout_s: 60}\n"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(layouts.BUILDERS))
def test_decode_cli_writes_shards_and_a_manifest_with_every_bad_row(name, tmp_path, ray_local, capsys):
    lay = layouts.BUILDERS[name](tmp_path / "data")
    split = next((s for s in lay.expect if lay.bad.get(s)), next(iter(lay.expect)))  # one with bad rows
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    rc = main(["--dataset", name, "--root", str(lay.root), "--annotations", str(lay.annotations),
               "--split", split, "--out", str(tmp_path / "out"), "--config", str(tmp_path / "cfg.yaml")])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    folder = Path(printed.split("decoded: ")[1].splitlines()[0])
    with open(folder / "manifest.csv", newline="") as f:
        rows = {r["video_id"]: r for r in csv.DictReader(f)}
    ok = set(lay.expect[split]) - lay.missing.get(split, set())
    assert {v for v, r in rows.items() if r["status"] == "ok"} == ok
    for vid in lay.missing.get(split, set()):
        assert rows[vid]["status"] == "missing" and rows[vid]["reason"]
    for vid, status in lay.bad.get(split, {}).items():
        assert rows[vid]["status"] == status and rows[vid]["reason"], rows[vid]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["frames"] == sum(int(rows[v]["frames"]) for v in ok) and all(int(rows[v]["frames"]) >= 4 for v in ok)
    assert summary["spec"]["encoding"] == "jpeg"  # real layouts store JPEG frames by default
    assert (folder / "classes.txt").read_text().splitlines() == list(lay.classes)
    for label in {lay.expect[split][v] for v in ok}:
        n = sum(lay.expect[split][v] == label for v in ok)
        assert f"{n:6d}  {label}" in printed
    if name == "jester":
        assert {rows[v]["backend"] for v in ok} == {"frames"}


def test_decode_cli_names_a_missing_annotation_file(tmp_path, capsys):
    rc = main(["--dataset", "ucf101", "--root", str(tmp_path), "--split", "train1", "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "classInd.txt: annotation file not found" in capsys.readouterr().err


def test_decode_cli_takes_the_decode_block_of_the_configs_dataset_at_that_root(tmp_path):
    """A few-shot set's own rows (SSv2's 8 frames a second) come from its own block, so the study
    finds the split the command decoded; datasets elsewhere keep the study's."""
    from pipelines.config.loader import ConfigError, load_config
    from pipelines.config.schema import StudyConfig
    from pipelines.decode.__main__ import decode_block

    entry = ("    - {{name: {name}, reader: ssv2, root: '{root}', test_split: validation, ooc_split: '', "
             "decode: {{num_frames: {frames}}}}}\n")
    (tmp_path / "cfg.yaml").write_text(CONFIG + "data:\n  downstream: []\n  fewshot:\n"
                                       + entry.format(name="ssv2", root=tmp_path / "ssv2", frames=2))
    cfg = load_config(StudyConfig, tmp_path / "cfg.yaml")
    assert decode_block(cfg, "ssv2", str(tmp_path / "ssv2" / ".")).num_frames == 2
    assert decode_block(cfg, "ssv2", str(tmp_path / "elsewhere")) == cfg.decode
    assert decode_block(cfg, "jester", str(tmp_path / "ssv2")).num_frames == 4
    (tmp_path / "two.yaml").write_text(CONFIG + "data:\n  downstream: []\n  fewshot:\n"
                                       + entry.format(name="a", root=tmp_path / "ssv2", frames=2)
                                       + entry.format(name="b", root=tmp_path / "ssv2", frames=3))
    with pytest.raises(ConfigError, match="datasets a, b read .* with different decode blocks"):
        decode_block(load_config(StudyConfig, tmp_path / "two.yaml"), "ssv2", str(tmp_path / "ssv2"))
