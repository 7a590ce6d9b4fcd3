import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipelines.decode import backends, video
import pyarrow as pa

from pipelines.decode.schema import SHARD_SCHEMA, read_shard, row_frames, video_table
from pipelines.decode.video import ClipSpec, decode_many_isolated, decode_video


def _frame_ids(clip):
    """Frame i of the test videos carries (7·i mod 256) in its top-left corner."""
    return np.round(clip[:, 0, 0, 0].astype(float) / 7).astype(int)


@pytest.mark.parametrize("fps,seconds", [(30, 10), (12, 3)])
@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_a_row_samples_the_whole_video_at_the_clip_rate(tmp_path, make_video, fps, seconds, backend):
    path = make_video(tmp_path / f"v{fps}.mp4", fps * seconds, fps, size=(48, 64))
    spec = ClipSpec(num_frames=8, clip_seconds=1.0, short_side=24)
    res = decode_video(str(path), spec, (backend,))
    assert res.status == "ok" and res.backend == backend
    assert res.frames.shape == (8 * seconds, 24, 32, 3)  # 8 frames per second of video
    assert res.fps == pytest.approx(fps) and res.duration == pytest.approx(seconds, abs=1 / fps)
    expected = np.floor((np.arange(8 * seconds) + 0.5) / 8 * fps).astype(int)
    # the corner value identifies the frame (mod 256/7 ≈ 36 frames, enough to tell neighbours)
    assert (np.abs(_frame_ids(res.frames) - (expected * 7 % 256) / 7) < 0.6).all()


@pytest.mark.parametrize("encoding", ["raw", "jpeg"])
def test_schema_round_trip(tmp_path, encoding):
    ramp = np.arange(16)[None, :, None, None] * 4 + np.arange(16)[None, None, :, None] * 3  # smooth: JPEG keeps it
    frames = (ramp + np.arange(5)[:, None, None, None] * 10 + np.array([0, 20, 40])).astype(np.uint8)
    meta = {"video_id": "abc", "label": 3, "label_name": "moving up", "split": "train",
            "source_fps": 25.0, "duration": 2.0, "backend": "decord"}
    table = video_table(meta, frames, 8.0, encoding, quality=95)
    assert table.schema.equals(SHARD_SCHEMA)
    assert table.schema.field("frames").type.value_type == pa.large_binary()  # 64-bit offsets
    pq.write_table(table, tmp_path / "part.parquet")
    back = read_shard(tmp_path / "part.parquet")
    vid, decoded = row_frames(back, 0)
    assert (vid, back.column("label")[0].as_py()) == ("abc", 3) and decoded.shape == frames.shape
    np.testing.assert_array_equal(row_frames(back, 0, np.array([4, 1]))[1], decoded[[4, 1]])  # just those
    if encoding == "raw":
        np.testing.assert_array_equal(decoded, frames)
    else:
        assert np.abs(decoded.astype(int) - frames).mean() < 2
    assert back.column("num_frames").to_pylist() == [5] and back.column("frame_rate").to_pylist() == [8.0]


def test_shards_of_the_old_format_are_named(tmp_path):
    pq.write_table(pa.table({"video_id": ["a"], "frames": [b"x"]}), tmp_path / "old.parquet")
    with pytest.raises(ValueError, match=r"old.parquet: column 'frames' is binary.*decode the split again"):
        read_shard(tmp_path / "old.parquet")


def test_falls_back_to_pyav_and_records_why(tmp_path, make_video, monkeypatch):
    path = make_video(tmp_path / "v.mp4", 24, 12)

    def broken(self, p):
        raise RuntimeError("simulated decord failure")

    monkeypatch.setattr(backends.DecordDecoder, "__init__", broken)
    res = decode_video(str(path), ClipSpec(4, 1.0, 16), ("decord", "pyav"))
    assert res.status == "ok" and res.backend == "pyav"
    assert "simulated decord failure" in res.errors[0]


def test_isolated_decoding_times_out_and_continues(tmp_path, make_video, monkeypatch):
    good = str(make_video(tmp_path / "good.mp4", 24, 12))
    hang = str(make_video(tmp_path / "hang.mp4", 24, 12))
    real = video.decode_video

    def maybe_hang(path, spec, names, fps=0.0):
        if path == hang:
            time.sleep(60)
        return real(path, spec, names, fps)

    monkeypatch.setattr(video, "decode_video", maybe_hang)
    start = time.perf_counter()
    results = decode_many_isolated([good, hang, good], ClipSpec(4, 1.0, 16), ("decord",), timeout_s=2)
    assert [r.status for r in results] == ["ok", "timeout", "ok"]
    assert "longer than 2 s" in results[1].reason
    assert time.perf_counter() - start < 30



PROBE = """
import os, sys
from pipelines.decode import video
real = video.decode_video
def where(path, spec, names, fps=0.0):  # runs where the file is opened and decoded
    return video.DecodeResult(real(path, spec, names, fps).status, str(os.getpid()))
video.decode_video = where
results = video.decode_many_isolated(sys.argv[1:], video.ClipSpec(4, 1.0, 16), ("decord", "pyav"), timeout_s=60)
print(" ".join(r.status for r in results), len({r.reason for r in results}), str(os.getpid()) in {r.reason for r in results},
      "av" in sys.modules and "decord" in sys.modules)
"""


def test_isolated_decoding_opens_every_file_in_the_child_with_the_libraries_preloaded(tmp_path, make_video):
    # why a decode task's worker is not recycled when isolate is on (pipelines.decode.stage.task_options):
    # every file is opened and decoded, and whatever the decoders leak (dmlc/decord#197) lives and dies,
    # in the forked child; the caller (a fresh process here) only imports the libraries first, so that
    # no child imports them anew
    import subprocess
    import sys

    good = str(make_video(tmp_path / "good.mp4", 24, 12))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")  # decord fails, PyAV is tried: both backends run
    out = subprocess.run([sys.executable, "-c", PROBE, good, str(bad)], capture_output=True, text=True, check=True)
    # both videos in one child, none in the caller; both libraries imported in the caller
    assert out.stdout.split() == ["ok", "undecodable", "1", "False", "True"], out.stdout


def _reference_resize_clip(clip, size, interpolation="bilinear"):
    """JerryYLi/video-drl, ``torchvideotransforms/functional.py``: ``resize_clip``'s PIL branch
    and ``get_resize_sizes``, as written (its filters swapped)."""
    import numbers

    import PIL.Image

    if isinstance(size, numbers.Number):
        im_w, im_h = clip[0].size
        if (im_w <= im_h and im_w == size) or (im_h <= im_w and im_h == size):
            return clip
        if im_w < im_h:
            ow, oh = size, int(size * im_h / im_w)
        else:
            oh, ow = size, int(size * im_w / im_h)
        size = (ow, oh)
    pil_inter = PIL.Image.NEAREST if interpolation == "bilinear" else PIL.Image.BILINEAR
    return [img.resize(size, pil_inter) for img in clip]


@pytest.mark.parametrize("h,w", [(240, 320), (360, 480), (256, 340), (480, 272), (100, 100), (128, 171), (131, 128)])
def test_the_reference_resize_gives_its_bytes(h, w):
    """``decode.resize: reference`` against the reference's own resize on the same frames."""
    from PIL import Image

    frame = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    ours = video.resize_short_side(frame, 128, "reference")
    [ref] = _reference_resize_clip([Image.fromarray(frame)], 128)
    np.testing.assert_array_equal(ours, np.asarray(ref))
    assert min(ours.shape[:2]) == 128
    bilinear = video.resize_short_side(frame, 128)  # the default: Pillow's bilinear, the long side rounded
    common = tuple(min(a, b) for a, b in zip(bilinear.shape[:2], ours.shape[:2]))
    if min(h, w) != 128:  # another filter: other pixels
        assert not np.array_equal(bilinear[:common[0], :common[1]], ours[:common[0], :common[1]])
    assert (h, w) != (240, 320) or (bilinear.shape[1], ours.shape[1]) == (171, 170)  # round against int


def test_the_decode_key_leaves_the_default_resize_out():
    """Splits decoded before ``decode.resize`` existed keep their keys: the key's spec is the one
    ClipSpec had without it; the reference's resize is another key."""
    import hashlib
    import json
    from dataclasses import asdict, replace

    from pipelines.config.schema import DecodeConfig
    from pipelines.decode.readers.base import RecordSet
    from pipelines.decode.stage import cache_key, clip_spec

    cfg, records = DecodeConfig(), RecordSet(("a", "b"))
    spec = clip_spec(cfg, "kinetics400")
    before = {k: v for k, v in asdict(spec).items() if k != "resize"}
    h = hashlib.sha256(json.dumps({"spec": before, "backends": cfg.backends, "timeout_s": cfg.timeout_s,
                                   "classes": records.classes, "version": 4}, sort_keys=True).encode())
    assert cache_key(cfg, spec, records) == h.hexdigest()[:16]
    reference = replace(cfg, resize="reference")
    assert clip_spec(reference, "kinetics400").resize == "reference"
    assert cache_key(reference, clip_spec(reference, "kinetics400"), records) != cache_key(cfg, spec, records)


@pytest.mark.parametrize("frames", [23, 31, 40])
def test_jester_few_shot_rows_and_windows_are_the_reference_s_frames(tmp_path, frames):
    """The R3D-18 configs' Jester few-shot rows (16 frames per 4/3 s: 12 fps, the folders' own
    rate, resized as the reference resizes) hold the folder's frames one for one, and the
    segment-spaced windows start where the reference's test clips do."""
    from PIL import Image

    from drl_core.data.clip_sampling import window_starts
    from tests.drl_core.test_clip_sampling import _reference_first_frames
    from tests.pipelines.decode import layouts

    folder = layouts.write_frames(tmp_path / "video", n=frames)
    spec = ClipSpec(16, 1.3333333, 20, encoding="raw", resize="reference")
    res = decode_video(str(folder), spec, ("decord",), fps=12.0)
    assert res.status == "ok" and len(res.frames) == frames
    for k, row in enumerate(res.frames):
        [ref] = _reference_resize_clip([Image.open(folder / f"{k + 1:05d}.jpg")], 20)
        np.testing.assert_array_equal(row, np.asarray(ref))
    # (these lengths have no start on a whole frame, where the reference's floats may tip: test_clip_sampling)
    assert window_starts(frames, 16, 10, "segments").tolist() == _reference_first_frames(frames, 12.0, 16, 10)
