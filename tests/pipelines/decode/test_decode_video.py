import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipelines.decode import backends, video
from pipelines.decode.schema import SHARD_SCHEMA, clips_to_table, frames_of, read_shards
from pipelines.decode.video import ClipSpec, decode_many_isolated, decode_video


def _frame_ids(clip):
    """Frame i of the test videos carries (7·i mod 256) in its top-left corner."""
    return np.round(clip[:, 0, 0, 0].astype(float) / 7).astype(int)


@pytest.mark.parametrize("fps,seconds", [(30, 10), (12, 3)])
@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_adaptive_sampling_gives_one_second_clips(tmp_path, make_video, fps, seconds, backend):
    path = make_video(tmp_path / f"v{fps}.mp4", fps * seconds, fps, size=(48, 64))
    spec = ClipSpec(num_frames=8, clip_seconds=1.0, num_clips=4, short_side=24)
    res = decode_video(str(path), spec, (backend,))
    assert res.status == "ok" and res.backend == backend
    assert res.clips.shape == (4, 8, 24, 32, 3)
    assert res.fps == pytest.approx(fps) and res.duration == pytest.approx(seconds, abs=1 / fps)
    np.testing.assert_allclose(res.starts, np.linspace(0, seconds - 1, 4), atol=1e-6)
    for clip, times, start in zip(res.clips, res.times, res.starts):
        np.testing.assert_allclose(times, start + (np.arange(8) + 0.5) / 8, atol=1e-5)
        expected = np.floor(times * fps).astype(int)
        # the corner value identifies the frame (mod 256/7 ≈ 36 frames, enough to tell neighbours)
        assert (np.abs(_frame_ids(clip) - (expected * 7 % 256) / 7) < 0.6).all()


def test_schema_round_trip(tmp_path):
    clips = np.random.default_rng(0).integers(0, 255, (2, 4, 6, 8, 3), dtype=np.uint8)
    times = np.tile(np.arange(4, dtype=np.float32), (2, 1))
    meta = {"video_id": "abc", "label": 3, "label_name": "moving up", "split": "train",
            "source_fps": 25.0, "duration": 2.0, "backend": "decord"}
    table = clips_to_table(meta, clips, times, np.array([0.0, 1.0]))
    assert table.schema.equals(SHARD_SCHEMA)
    pq.write_table(table, tmp_path / "part.parquet")
    back = read_shards(tmp_path)
    np.testing.assert_array_equal(np.stack(frames_of(back)), clips)
    assert back.column("label_name").to_pylist() == ["moving up"] * 2
    assert back.column("frame_times").to_pylist()[1] == [0.0, 1.0, 2.0, 3.0]


def test_falls_back_to_pyav_and_records_why(tmp_path, make_video, monkeypatch):
    path = make_video(tmp_path / "v.mp4", 24, 12)

    def broken(self, p):
        raise RuntimeError("simulated decord failure")

    monkeypatch.setattr(backends.DecordDecoder, "__init__", broken)
    res = decode_video(str(path), ClipSpec(4, 1.0, 1, 16), ("decord", "pyav"))
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
    results = decode_many_isolated([good, hang, good], ClipSpec(4, 1.0, 1, 16), ("decord",), timeout_s=2)
    assert [r.status for r in results] == ["ok", "timeout", "ok"]
    assert "longer than 2 s" in results[1].reason
    assert time.perf_counter() - start < 30
