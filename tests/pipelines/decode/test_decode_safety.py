"""Hostile or damaged input (issue #13): paths outside the root, bad split names, duplicate ids,
damaged caches, symlink loops, empty labels, files that are not videos, and the CLI's checks."""

from __future__ import annotations

import csv
import os
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipelines.config.schema import DecodeConfig
from pipelines.decode.readers import RecordSet, VideoRecord
from pipelines.decode.readers.kinetics import VideoIndex, read_kinetics
from pipelines.decode.screen import screen
from pipelines.decode.stage import DecodeInputs, cache_key, clip_spec, run
from pipelines.decode.video import ClipSpec, VideoChecks, decode_video

CFG = DecodeConfig(num_frames=4, short_side=16, timeout_s=30, videos_per_task=4)
SPEC = ClipSpec(4, 1.0, 16)


def _manifest(out) -> list[dict]:
    with open(out.manifest, newline="") as f:
        return list(csv.DictReader(f))


def _ucf(tmp_path, make_video) -> DecodeInputs:
    """A UCF-101 fold whose list escapes the root three ways: ``../``, an absolute path in
    disguise, and a symlink inside the root to a video outside it."""
    root, ann = tmp_path / "ucf" / "UCF-101", tmp_path / "ucf" / "ucfTrainTestlist"
    (root / "ClassA").mkdir(parents=True)
    ann.mkdir()
    make_video(root / "ClassA" / "v_ClassA_g01_c01.avi", 24, 12)
    make_video(tmp_path / "outside.avi", 24, 12)
    (root / "ClassA" / "v_ClassA_g01_c02.avi").symlink_to(tmp_path / "outside.avi")
    (ann / "classInd.txt").write_text("1 ClassA\n")
    (ann / "trainlist01.txt").write_text("ClassA/v_ClassA_g01_c01.avi 1\nClassA/../../../outside.avi 1\n"
                                         "ClassA/../../../../../../../../etc/passwd 1\nClassA/v_ClassA_g01_c02.avi 1\n")
    return DecodeInputs("ucf", "train1", str(root.parent), str(ann), str(tmp_path / "out"), reader="ucf101")


def test_paths_outside_the_root_are_never_opened(tmp_path, make_video, ray_local, monkeypatch):
    from pipelines.decode import video

    opened = []
    real = video._precheck
    monkeypatch.setattr(video, "_precheck", lambda path, fps: opened.append(path) or real(path, fps))
    inputs = _ucf(tmp_path, make_video)
    out = run(replace(CFG, isolate=False), inputs)
    status = {Path(r["path"]).name: r["status"] for r in _manifest(out)}
    assert status == {"v_ClassA_g01_c01.avi": "ok", "outside.avi": "outside_root", "passwd": "outside_root",
                      "v_ClassA_g01_c02.avi": "outside_root"}
    assert out.summary["decoded"] == 1
    assert not any("passwd" in p or "outside" in p or "c02" in p for p in opened)


@pytest.mark.parametrize("split", ["../../evil", "train/../../x", "..", ".hidden"])
def test_a_split_name_that_leaves_the_output_folder_is_refused(tmp_path, make_video, split):
    inputs = replace(_ucf(tmp_path, make_video), split=split)
    with pytest.raises(ValueError, match="split name"):
        run(CFG, inputs)
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil").exists()


def _kinetics(tmp_path, make_video, rows, label_map=True) -> DecodeInputs:
    videos, ann = tmp_path / "k" / "videos", tmp_path / "k" / "ann"
    ann.mkdir(parents=True)
    if label_map:
        (ann / "label_map.txt").write_text("a\nb\n")
    with open(ann / "train.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "youtube_id", "time_start", "time_end"])
        for label, ytid in rows:
            w.writerow([label, ytid, 0, 10])
            path = videos / (label or "x") / f"{ytid}_000000_000010.mp4"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                make_video(path, 24, 12)
    return DecodeInputs("k", "train", str(videos), str(ann), str(tmp_path / "out"))


def test_a_duplicate_video_id_is_reported_and_counted_right(tmp_path, make_video, ray_local):
    inputs = _kinetics(tmp_path, make_video, [("a", "vid0"), ("b", "vid1"), ("a", "vid0")])
    out = run(CFG, inputs)
    statuses = sorted(r["status"] for r in _manifest(out))
    assert statuses == ["duplicate", "ok", "ok"]
    assert out.summary["decoded"] == 2 and out.summary["frames"] == 2 * 8  # 2 s at 4 frames/s each
    assert out.summary["by_status"] == {"ok": 2, "duplicate": 1}


def test_screen_keeps_the_first_of_repeated_ids(tmp_path):
    recs = RecordSet(("a",), [VideoRecord(str(tmp_path / f"{i}.mp4"), "same", "train", 0, "a") for i in range(3)])
    out = screen(recs, tmp_path)
    assert [r.path for r in out.records] == [str(tmp_path / "0.mp4")]
    assert [r.status for r in out.rejects] == ["duplicate", "duplicate"] and "0.mp4" in out.rejects[0].reason


def test_a_damaged_cache_is_decoded_again(tmp_path, make_video, ray_local, capsys):
    inputs = _kinetics(tmp_path, make_video, [("a", "vid0"), ("b", "vid1")])
    first = run(CFG, inputs)
    assert run(CFG, inputs).cached
    shard = next((first.path / "shards").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    again = run(CFG, inputs)
    assert not again.cached and again.path == first.path and "cached decode is damaged" in capsys.readouterr().err
    (again.path / "classes.txt").unlink()
    assert not run(CFG, inputs).cached and (again.path / "classes.txt").is_file()
    assert run(CFG, inputs).cached
    from pipelines.decode.cache import COMPLETE, write_completion

    # a decode whose killed write task lost rows, before session 17: sizes and footers agree, the counts not
    lost = sorted((again.path / "shards").glob("*.parquet"))[0]
    lost.unlink()
    (again.path / COMPLETE).unlink()
    write_completion(again.path)
    capsys.readouterr()
    assert not run(CFG, inputs).cached and "rows for 2 decoded videos" in capsys.readouterr().err
    assert run(CFG, inputs).cached


def test_abandoned_partial_folders_are_removed_and_live_ones_kept(tmp_path, make_video, ray_local):
    from pipelines.decode.cache import hold
    from pipelines.decode.readers import get_reader

    inputs = _kinetics(tmp_path, make_video, [("a", "vid0")])
    recs = screen(get_reader(inputs.reader)(inputs.video_root, inputs.annotation_root, "train"), inputs.video_root)
    final = Path(inputs.out_root) / "k" / "train" / cache_key(CFG, clip_spec(CFG, True), recs, inputs.video_root)
    dead = final.with_name(final.name + ".partial-dead")
    hold(dead).close()  # its run died: the lock is free
    (dead / "shards").mkdir()
    live = hold(final.with_name(final.name + ".partial-live"))
    run(CFG, inputs)
    assert not dead.exists() and Path(live.name).parent.exists()
    live.close()


def test_the_timeout_is_part_of_the_decode_key(tmp_path):
    recs = RecordSet(("a",), [VideoRecord(str(tmp_path / "0.mp4"), "v", "train", 0, "a")])
    keys = {cache_key(replace(CFG, timeout_s=t), clip_spec(CFG, True), recs, str(tmp_path)) for t in (30, 60)}
    assert len(keys) == 2


def test_a_symlink_loop_does_not_hang_the_kinetics_reader(tmp_path, make_video):
    root = tmp_path / "videos"
    make_video(root / "a" / "vid0_000000_000010.mp4", 24, 12)
    (root / "a" / "loop").symlink_to(root)
    (root / "a" / "self").symlink_to(root / "a" / "self")
    found = []
    walker = threading.Thread(target=lambda: found.append(VideoIndex(root)), daemon=True)
    walker.start()
    walker.join(120)  # a hang guard, not a timing: the walk takes milliseconds
    assert found and found[0].find("vid0_000000_000010", "train", "a") is not None


@pytest.mark.parametrize("label_map", [True, False])
@pytest.mark.parametrize("label", ["", "   "])
def test_an_empty_label_is_an_error_naming_file_and_row(tmp_path, make_video, label_map, label):
    inputs = _kinetics(tmp_path, make_video, [("a", "vid0"), (label, "vid1")], label_map=label_map)
    with pytest.raises(ValueError, match=r"train.csv row 3: empty label"):
        read_kinetics(inputs.video_root, inputs.annotation_root, "train")


def _avi(path: Path, frames: int) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 256, np.uint8), format="rgb24")
            f.pts = i
            for pk in s.encode(f):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    return path


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_what_counts_as_a_video(tmp_path, make_video, backend):
    from PIL import Image

    Image.fromarray(np.zeros((120, 160, 3), np.uint8)).save(tmp_path / "photo.jpg")
    os.rename(tmp_path / "photo.jpg", tmp_path / "photo.avi")
    make_video(tmp_path / "one.mp4", 1, 12)
    whole = _avi(tmp_path / "whole.avi", 250)
    data = whole.read_bytes()
    (tmp_path / "half.avi").write_bytes(data[: len(data) // 2])
    assert decode_video(str(whole), SPEC, (backend,)).status == "ok"
    for name, status in (("photo.avi", "not_a_video"), ("one.mp4", "not_a_video"), ("half.avi", "truncated")):
        res = decode_video(str(tmp_path / name), SPEC, (backend, "pyav"))  # the default fallback order
        assert res.status == status and res.reason, (name, res.status, res.errors)
    assert decode_video(str(tmp_path / "half.avi"), SPEC, (backend,)).status == "truncated"
    small = replace(SPEC, checks=VideoChecks(max_pixels=48 * 64 - 1))
    res = decode_video(str(whole), small, (backend,))
    assert res.status == "too_large" and "64x48" in res.reason


def test_the_cli_checks_annotations_and_the_root_before_starting_ray(tmp_path, make_video, monkeypatch, capsys):
    import ray

    from pipelines.decode.__main__ import main

    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("Ray started before the input was checked"))
    inputs = _kinetics(tmp_path, make_video, [("a", "vid0"), ("b", "vid1")])
    args = ["--dataset", "kinetics400", "--annotations", inputs.annotation_root, "--split", "train",
            "--out", str(tmp_path / "o")]
    assert main(args + ["--root", str(tmp_path / "typo")]) == 2
    err = capsys.readouterr().err
    assert "none of the 2 videos" in err and "--root" in err and len(err.strip().splitlines()) == 1
    assert main(args[:4] + ["--split", "validate", "--out", str(tmp_path / "o"), "--root", inputs.video_root]) == 2
    assert "annotation file not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_cli_fails_when_nothing_decodes(tmp_path, make_video, ray_local, capsys):
    from pipelines.decode.__main__ import main

    inputs = _kinetics(tmp_path, make_video, [("a", "vid0")])
    next(Path(inputs.video_root).rglob("*.mp4")).write_bytes(b"not a video at all")
    rc = main(["--dataset", "kinetics400", "--root", inputs.video_root, "--annotations", inputs.annotation_root,
               "--split", "train", "--out", str(tmp_path / "o")])
    assert rc == 1 and "no video of split 'train' could be decoded" in capsys.readouterr().err


def test_diving48_and_jester_names_cannot_leave_the_root(tmp_path):
    import json

    from pipelines.decode.readers import get_reader

    div = tmp_path / "diving48"
    (div / "rgb").mkdir(parents=True)
    (div / "Diving48_vocab.json").write_text(json.dumps([["Back", "15som", "05Twis", "FREE"]]))
    names = ["ok_clip", "../../../outside", "/etc/passwd", "rgb/../../../x"]
    (div / "Diving48_V2_train.json").write_text(json.dumps([{"vid_name": n, "label": 0} for n in names]))
    jes = tmp_path / "jester"
    (jes / "20bn-jester-v1" / "1").mkdir(parents=True)
    (jes / "jester-v1-labels.csv").write_text("Swiping Left\n")
    (jes / "jester-v1-train.csv").write_text("1;Swiping Left\n../../../etc;Swiping Left\n/etc;Swiping Left\n")
    for reader, root, split, inside in (("diving48", div, "train", {"ok_clip"}), ("jester", jes, "train", {"1"})):
        out = screen(get_reader(reader)(root, root, split), root)
        assert {r.video_id for r in out.records} == inside, reader
        assert {r.status for r in out.rejects} == {"outside_root"} and len(out.rejects) >= 2, reader
