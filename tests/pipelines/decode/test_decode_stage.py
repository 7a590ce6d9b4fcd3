"""The decode stage on Ray Data, over a Kinetics-layout fixture with every kind of bad input."""

import csv
import json
import os

import pytest

from pipelines.config.schema import DecodeConfig
import pyarrow.parquet as pq

from pipelines.data.shards import open_split
from pipelines.decode.stage import DecodeInputs, run, task_count, task_options

LABELS = ["abseiling", "air drumming", "passing American football (in game)"]


def _fixture(tmp_path, make_video):
    videos, ann = tmp_path / "video", tmp_path / "anno"
    ann.mkdir()
    (ann / "label_map.txt").write_text("".join(f"{label}\n" for label in LABELS))
    rows = []

    def add(label, ytid, maker):
        stem = f"{ytid}_{0:06d}_{10:06d}"
        path = videos / "train" / label / f"{stem}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        if maker is not None:
            maker(path)
        rows.append([label, ytid, 0, 10, "train"])
        return path

    good = [add(LABELS[i % 3], f"-good{i:06d}", lambda p, i=i: make_video(p, 20 + i, 12)) for i in range(4)]
    data = good[0].read_bytes()
    add(LABELS[0], "corrupt0000", lambda p: p.write_bytes(os.urandom(4000)))
    add(LABELS[1], "truncated00", lambda p: p.write_bytes(data[: len(data) // 3]))
    add(LABELS[2], "zerobyte000", lambda p: p.write_bytes(b""))
    add(LABELS[0], "notavideo00", lambda p: p.write_text("this is a text file, not a video\n"))
    add(LABELS[1], "missing0000", None)
    add(LABELS[2], "unreadable0", lambda p: p.mkdir())
    add("juggling chainsaws", "unknownlbl0", lambda p: make_video(p, 12, 12))
    with open(ann / "train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "youtube_id", "time_start", "time_end", "split"])
        w.writerows(rows)
    return DecodeInputs("tiny", "train", str(videos), str(ann), str(tmp_path / "shards"))


CFG = DecodeConfig(num_frames=4, short_side=16, timeout_s=30, videos_per_task=3)


@pytest.fixture(scope="module")
def decoded(tmp_path_factory, ray_local):
    from tests.conftest import write_video

    tmp = tmp_path_factory.mktemp("decode")
    inputs = _fixture(tmp, write_video)
    return inputs, run(CFG, inputs)


def test_every_bad_input_lands_in_the_manifest_with_its_reason(decoded):
    _, out = decoded
    with open(out.manifest, newline="") as f:
        rows = {r["video_id"].split("_")[0]: r for r in csv.DictReader(f)}
    assert len(rows) == 11
    expect = {"corrupt0000": "undecodable", "truncated00": "undecodable", "zerobyte000": "empty",
              "notavideo00": "undecodable", "missing0000": "missing", "unreadable0": "unreadable",
              "unknownlbl0": "unknown_label"}
    for vid, status in expect.items():
        assert rows[vid]["status"] == status, (vid, rows[vid])
        assert rows[vid]["reason"]
    assert "juggling chainsaws" in rows["unknownlbl0"]["reason"] and "row 12" in rows["unknownlbl0"]["reason"]
    assert "decord" in rows["corrupt0000"]["reason"] and "pyav" in rows["corrupt0000"]["reason"]
    good = [r for v, r in rows.items() if v.startswith("-good")]
    assert len(good) == 4 and all(r["status"] == "ok" and r["backend"] == "decord" for r in good)
    assert out.summary["by_status"] == {"ok": 4, "undecodable": 3, "empty": 1, "missing": 1,
                                        "unreadable": 1, "unknown_label": 1}


def test_shards_hold_the_decoded_clips_with_stable_classes(decoded):
    _, out = decoded
    assert (out.path / "classes.txt").read_text().splitlines() == LABELS
    index = open_split(out.path)
    assert len(index) == 4 and index.clip_frames == 4
    assert sorted(index.labels.tolist()) == [0, 0, 1, 2]
    for i in range(4):  # one row per video, 4 frames per second of it, short side 16
        frames = index.frames(i)
        assert frames.shape == (index.row_frames[i], 16, 21, 3) and index.row_frames[i] >= 4
    files = sorted((out.path / "shards").glob("*.parquet"))
    assert all(pq.ParquetFile(f).metadata.row_group(g).num_rows == 1  # any video can be read alone
               for f in files for g in range(pq.ParquetFile(f).num_row_groups))
    assert out.summary["per_label"] == {"abseiling": 2, "air drumming": 1,
                                        "passing American football (in game)": 1}


def test_reruns_reuse_shards_and_changes_invalidate(decoded):
    inputs, out = decoded
    again = run(CFG, inputs)
    assert again.cached and again.path == out.path
    other = run(CFG.__class__(**{**CFG.__dict__, "num_frames": 2}), inputs)
    assert not other.cached and other.path != out.path
    assert json.loads((other.path / "summary.json").read_text())["spec"]["num_frames"] == 2


def test_the_key_follows_the_content_not_the_location(decoded, tmp_path):
    import shutil
    from dataclasses import replace

    from pipelines.decode.readers import get_reader
    from pipelines.decode.stage import cache_key, clip_spec

    inputs, out = decoded
    copy = tmp_path / "copy"
    shutil.copytree(inputs.video_root, copy / "video", symlinks=True)
    shutil.copytree(inputs.annotation_root, copy / "anno")
    moved = replace(inputs, video_root=str(copy / "video"), annotation_root=str(copy / "anno"))
    assert run(CFG, moved).key == out.key  # a copy elsewhere is the same dataset

    def key(i):
        return cache_key(CFG, clip_spec(CFG, True), get_reader(i.reader)(i.video_root, i.annotation_root, "train"),
                         i.video_root)

    video = next((copy / "video").rglob("-good000000*.mp4"))
    video.write_bytes(video.read_bytes() + b"\0")  # a changed file
    assert key(moved) != out.key


def test_missing_annotation_file_is_a_one_line_error(tmp_path, ray_local):
    (tmp_path / "anno").mkdir()
    (tmp_path / "anno" / "label_map.txt").write_text("a\n")
    inputs = DecodeInputs("x", "train", str(tmp_path / "v"), str(tmp_path / "anno"), str(tmp_path / "o"))
    with pytest.raises(FileNotFoundError, match=r"anno/train.csv: annotation file not found"):
        run(CFG, inputs)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("videos, per_task, cpus, tasks", [
    (400, 32, 2, 14),  # 13 rounded up to a multiple of the CPUs: no CPU idles through the last round
    (1200, 32, 2, 38), (64, 32, 2, 2), (10, 32, 2, 1), (3, 1, 8, 3), (5, 2, 4, 3), (9, 2, 4, 8), (0, 32, 2, 1)])
def test_decode_tasks_fill_every_cpu_in_the_last_round(videos, per_task, cpus, tasks):
    assert task_count(videos, per_task, cpus) == tasks
    assert videos == 0 or -(-videos // tasks) <= per_task  # never more videos in a task than asked


def test_decode_workers_are_recycled_only_where_they_hold_the_decoders():
    # isolated decoders run in a child that exits after each task: nothing stays in the worker
    assert task_options(DecodeConfig()) == {"num_cpus": 1}
    assert task_options(DecodeConfig(isolate=False)) == {"num_cpus": 1, "max_calls": 16}
    assert task_options(DecodeConfig(isolate=False, max_calls=0)) == {"num_cpus": 1}
