import csv
import hashlib
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pipelines.config.schema import BenchmarkConfig
from pipelines.synthetic.generate import (CSV_HEADER, SOURCE, STATIC, generate_benchmark, plan_benchmark,
                                          render_video, static_classes)
from pipelines.synthetic.render import SHAPES
from pipelines.synthetic.motions import DOWNSTREAM_CLASSES, SOURCE_CLASSES

REPO = Path(__file__).resolve().parents[2]
TINY = BenchmarkConfig(source_train_per_class=2, source_test_per_class=1, downstream_train_per_class=1,
                       downstream_test_per_class=1, static_train_per_class=1, static_test_per_class=1, size=32,
                       duration=(1.1, 1.2))


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    return generate_benchmark(TINY, tmp_path_factory.mktemp("bench") / "b", workers=2)


def test_layout_is_kinetics(tiny_bench):
    assert set(tiny_bench.datasets) == {SOURCE, *DOWNSTREAM_CLASSES, STATIC}
    assert tiny_bench.datasets[STATIC] == ("train", "test")
    assert (tiny_bench.annotations(STATIC) / "label_map.txt").read_text().splitlines() == list(static_classes())
    assert tiny_bench.datasets[SOURCE] == ("train", "test_in_context", "test_out_of_context")
    ann = tiny_bench.annotations(SOURCE)
    labels = (ann / "label_map.txt").read_text().splitlines()
    assert labels == list(SOURCE_CLASSES) and len(labels) >= 8
    with open(ann / "train.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) - 1 == 2 * len(SOURCE_CLASSES)
    for label, ytid, start, end, split in rows[1:]:
        assert len(ytid) == 11 and split == "train"
        path = tiny_bench.videos(SOURCE) / "train" / label / f"{ytid}_{int(start):06d}_{int(end):06d}.mp4"
        assert path.is_file() and path.stat().st_size > 0


def test_generation_is_deterministic(tiny_bench, tmp_path):
    again = generate_benchmark(TINY, tmp_path / "again", workers=1)
    assert _digest(again.root) == _digest(tiny_bench.root)
    # another process, confined to one core, with three workers (x264 threading follows the machine)
    code = ("import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from tests.pipelines.test_synthetic import TINY; "
            "from pipelines.synthetic.generate import generate_benchmark; "
            "generate_benchmark(TINY, sys.argv[1], workers=3)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "pinned")], check=True, cwd=REPO)
    assert _digest(tmp_path / "pinned") == _digest(tiny_bench.root)
    other = generate_benchmark(replace(TINY, seed=1), tmp_path / "other", workers=1)
    assert _digest(other.root) != _digest(tiny_bench.root)


def test_regenerating_reuses_and_refuses_a_different_config(tiny_bench):
    assert generate_benchmark(TINY, tiny_bench.root).key == tiny_bench.key
    with pytest.raises(FileExistsError, match="another config"):
        generate_benchmark(replace(TINY, bias=0.1), tiny_bench.root)


@pytest.mark.parametrize("bias", [0.0, 0.5, 0.9])
def test_scene_statistics_follow_the_bias(bias):
    cfg = replace(BenchmarkConfig(), bias=bias, source_train_per_class=300, source_test_per_class=100)
    plans = plan_benchmark(cfg)
    k = len(SOURCE_CLASSES)
    train = [p for p in plans if p.dataset == SOURCE and p.split == "train"]
    own = sum(p.scene == p.label_index for p in train) / len(train)
    expected = bias + (1 - bias) / k
    assert abs(own - expected) < 0.03
    # otherwise the scene is uniform: every scene appears with the expected share
    counts = Counter(p.scene for p in train if p.label_index == 0 and p.scene != 0)
    assert len(counts) == k - 1 or bias > 0.85
    ooc = [p for p in plans if p.split == "test_out_of_context"]
    assert all(p.scene != p.label_index for p in ooc)
    assert len({p.scene for p in ooc}) == k
    down = [p for p in plans if p.dataset != SOURCE]
    assert len({p.scene for p in down}) > k // 2  # downstream scenes are random


def test_classes_differ_in_motion_not_in_appearance():
    """Frame-level statistics (object size and position) are class-independent by design."""
    cfg = replace(BenchmarkConfig(), source_train_per_class=30, size=32)
    plans = [p for p in plan_benchmark(cfg) if p.dataset == SOURCE and p.split == "train"]
    by_label = {}
    for p in plans:
        by_label.setdefault(p.label, []).append(p)
    shapes = {label: Counter(p.shape for p in ps) for label, ps in by_label.items()}
    assert all(len(c) >= 3 for c in shapes.values())  # shapes are random, not per class
    frames = render_video(plans[0], 32)
    assert frames.shape[1:] == (32, 32, 3) and frames.shape[0] == plans[0].num_frames
    assert (frames[0] != frames[-1]).any()  # the object moved


def test_the_static_task_is_labelled_by_scene_and_shape_and_lies_outside_every_split():
    """The spatial models' pretraining task: each label is a scene and a shape, both visible in
    one frame; the object moves as a random source class, whatever the label."""
    plans = plan_benchmark(BenchmarkConfig(static_train_per_class=4, static_test_per_class=1))
    static = [p for p in plans if p.dataset == STATIC]
    classes = static_classes()
    assert len(classes) == 12 * len(SHAPES) == 60 and len(static) == 60 * 5
    for p in static:
        scene, shape = p.label.split(" ")
        assert int(scene[len("scene"):]) == p.scene and shape == p.shape and classes[p.label_index] == p.label
        assert p.motion in SOURCE_CLASSES
    motions = Counter(p.motion for p in static)
    assert len(motions) == len(SOURCE_CLASSES) and max(motions.values()) < 3 * min(motions.values())
    others = {p.youtube_id for p in plans if p.dataset != STATIC}
    assert not others & {p.youtube_id for p in static}
    # the source, downstream and their videos are those of a benchmark without the static task
    before = [p for p in plan_benchmark(BenchmarkConfig(static_train_per_class=1)) if p.dataset != STATIC]
    assert before == [p for p in plans if p.dataset != STATIC]
    frames = render_video(static[0], 32)
    assert frames.shape[1:] == (32, 32, 3) and frames.dtype.name == "uint8"
