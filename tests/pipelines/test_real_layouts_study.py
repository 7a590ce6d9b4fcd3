"""The study on real datasets' native layouts, end to end: Kinetics-400 as the source, UCF-101,
HMDB-51 and Diving-48 downstream, few-shot episodes from a UCF-101 split, Mimetics as an
evaluation set scored with the source model's head. The datasets are the readers' fixtures
(tests/pipelines/decode/layouts.py, bad rows included); the models and schedules are the smoke
study's."""

import json
import re
from pathlib import Path

import pytest

from tests.pipelines.decode import layouts

MIMETICS_LABELS = ("abseiling", "zumba", "air drumming")  # classes of the Kinetics fixture


def mimetics(root: Path) -> tuple[Path, Path]:
    """A Mimetics layout whose clips carry the Kinetics fixture's class names."""
    videos, ann = root / "mimetics", root / "Mimetics_release_v1.0"
    layouts.write_text(ann / "label_map.txt", list(layouts.K400_CLASSES))
    lines = ["label,youtube_id,time_start,time_end,split,is_cc"]
    for i, label in enumerate(MIMETICS_LABELS):
        lines.append(f"{label},mimetic{i:04d},0,5,test,0")
        layouts.write_video(videos / label.replace(" ", "_") / f"mimetic{i:04d}_000000_000005.mp4", seed=i)
    layouts.write_text(ann / "mimetics_v1.0.csv", lines)
    return videos, ann


def dataset(name: str, reader: str, root, annotations, train: str, test: str) -> str:
    return (f"{{name: {name}, reader: {reader}, root: '{root}', annotations: '{annotations}', "
            f"train_split: '{train}', test_split: {test}, ooc_split: ''}}")


def study_yaml(tmp: Path) -> Path:
    k400, ucf = layouts.kinetics400(tmp / "k400"), layouts.ucf101(tmp / "ucf")
    hmdb, diving = layouts.hmdb51(tmp / "hmdb"), layouts.diving48(tmp / "diving")
    mim_root, mim_ann = mimetics(tmp)
    text = f"""data:
  source: {dataset("kinetics400", "kinetics400", k400.root, k400.annotations, "train", "validate")}
  downstream:
    - {dataset("ucf101", "ucf101", ucf.root, ucf.annotations, "train1", "test1")}
    - {dataset("hmdb51", "hmdb51", hmdb.root, hmdb.annotations, "train1", "test1")}
    - {dataset("diving48", "diving48", diving.root, diving.annotations, "train", "test")}
  fewshot:  # UCF-101's first training list: three videos of each of five classes, cut as the
    # reference cuts SSv2's few-shot clips: rows of their own (12 frames a second, resized to the
    # crop), segment-spaced windows, sparse items
    - name: ucf101_fewshot
      reader: ucf101
      root: '{ucf.root}'
      annotations: '{ucf.annotations}'
      train_split: train1
      test_split: train1
      ooc_split: ''
      decode: {{num_frames: 6, clip_seconds: 0.5, short_side: 28, resize: reference}}
      test_clip: {{test_clips: 3, test_sparse: true}}
  evaluation:
    - {dataset("mimetics", "mimetics", mim_root, mim_ann, "", "test")}
fewshot:  # as the real-data configs: the reference's classifier and items, its stronger jitter for fine-tuning
  ways: 2
  classifier: closer_softmax
  items: clip
pretrain:
  clip: {{jitter_mode: pil, test_spacing: segments, centre_offset: round}}  # the reference's jitter, test windows and crops, as the real-data configs
finetune:
  clip: {{jitter: 0.4, hue: 0.4}}
drl:
  algorithms: [static_inputs]
  control: false
"""
    (tmp / "study.yaml").write_text(text)
    return tmp / "study.yaml"


@pytest.mark.slow
def test_the_study_runs_on_native_layouts_of_real_datasets(ray_local, tmp_path, capsys):
    from pipelines.full_study import main

    out = tmp_path / "out"
    assert main(["--config", str(study_yaml(tmp_path / "data")), "--smoke", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[study] done" in printed and "FAILED" not in printed
    [summary] = (out / "shards" / "ucf101" / "train1").glob("*/summary.json")
    summary = json.loads(summary.read_text())
    assert summary["by_status"] == {"ok": 15, "label_mismatch": 1}  # the fixture's bad row, kept in the manifest
    [few] = (out / "shards" / "ucf101_fewshot" / "train1").glob("*/summary.json")
    spec = json.loads(few.read_text())["spec"]
    assert (spec["num_frames"], spec["clip_seconds"], spec["short_side"], spec["resize"]) == (6, 0.5, 28, "reference")
    import numpy as np

    items = {np.load(f)["clip_features"].shape[:2] for f in (out / "features").glob("*.npz") if "clip_features" in np.load(f)}
    assert items == {(15, 6)}  # 15 videos, 6 sparse items each (one frame of each of 3 windows)
    report = (out / "report" / "report.md").read_text()
    assert "accuracy on mimetics" in next(line for line in report.splitlines() if line.startswith("- **Alg. 3"))
    header = next(line for line in report.splitlines() if line.startswith("| model |"))
    for column in ("acc mimetics", "acc mimetics (own classes)", "fine-tune ucf101", "linear probe hmdb51",
                   "fine-tune diving48", "2way1shot ucf101_fewshot"):
        assert f"| {column} |" in header, column
    rows = [line for line in report.splitlines() if line.startswith(("| Baseline", "| Alg. 3"))]
    assert len(rows) == 2
    for row in rows:  # every cell a number in [0, 1] (accuracies) or a small KL; none missing
        cells = row.strip("|").split("|")[1:]
        assert len(cells) == header.count("|") - 2 and all(re.match(r"^ \d+\.\d{3}( ± \d\.\d{3})? $", c) for c in cells)
    from pipelines.report.results import main as results

    page = tmp_path / "RESULTS.md"  # the seed-averaged page: its goal takes Mimetics as out of context
    assert results(["--store", str(out), "--out", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("# The controlled study: DRL on kinetics400") and "## kinetics400: mean ± std" in text
    assert "| DRL model | vs | DS in context | acc mimetics | mean linear probe |" in text
