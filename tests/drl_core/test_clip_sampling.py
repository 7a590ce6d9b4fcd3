import numpy as np
import pytest

from drl_core.data.clip_sampling import frame_indices, row_frame_count, row_frame_times, window, window_starts


@pytest.mark.parametrize("fps,seconds", [(30, 10.0), (12, 3.0)])
def test_one_second_windows_of_n_frames_at_any_fps(fps, seconds):
    n = 8
    total = int(fps * seconds)
    count = row_frame_count(seconds, 1.0, n)
    times = row_frame_times(count, 1.0, n)
    assert count == int(seconds * n) and times[-1] < seconds
    for s in window_starts(count, n, 10):
        t = times[window(count, int(s), n)]
        np.testing.assert_allclose(t, t[0] + np.arange(n) / n)
        assert t[-1] - t[0] == pytest.approx(1.0 - 1.0 / n)  # spans one second
        idx = frame_indices(t, fps, total)
        np.testing.assert_array_equal(idx, np.floor(t * fps).astype(int))
        # each index's frame interval contains its timestamp
        assert np.all(idx / fps <= t) and np.all(t < (idx + 1) / fps)


def test_short_videos_clamp_to_their_last_frame():
    idx = frame_indices(row_frame_times(8, 1.0, 8), 10, 5)
    assert idx.max() == 4 and idx.min() == 0


def test_bad_video_parameters():
    with pytest.raises(ValueError):
        frame_indices(np.array([0.1]), 0, 10)


def _reference_first_frames(frames: int, fps: float, n_frames: int, n_clips: int) -> list[int] | None:
    """The reference's test clips of a frame-folder video (JerryYLi/video-drl,
    ``VideoDataset._sample_start_times`` with ``sampling='uniform'`` and
    ``VideoFramesLoader.get_clip``, read at the folder's own rate): each clip's first frame."""
    start, duration = 0, frames / fps
    clip_duration = (n_frames + 1) / fps
    segm_len = (start + duration - clip_duration - start) / n_clips
    if segm_len <= 0:
        return None  # the reference draws another video
    firsts = []
    for clip_start in start + segm_len * np.arange(n_clips) + segm_len / 2:
        read_time = clip_start
        for frame_ind in range(int(clip_start * fps), frames):
            if read_time <= frame_ind / fps:  # the first frame at or after the start
                firsts.append(frame_ind)
                break
    return firsts


@pytest.mark.parametrize("fps,n_frames,n_clips", [(12, 16, 10), (12, 8, 16), (8, 8, 16), (16, 16, 10), (6, 8, 10)])
def test_segment_spacing_starts_where_the_reference_reads_its_test_clips(fps, n_frames, n_clips):
    """A row at the folder's own rate holds its frames one for one (Jester: 12 fps rows of 12 fps
    folders), so the reference's first frames are row frames, for every length of video."""
    checked = 0
    for frames in range(n_frames + 2, 400):
        ours = window_starts(frames, n_frames, n_clips, "segments")
        ref = _reference_first_frames(frames, fps, n_frames, n_clips)
        exact = [-((-(2 * j + 1) * (frames - n_frames - 1)) // (2 * n_clips)) for j in range(n_clips)]
        np.testing.assert_array_equal(ours, exact)
        # the reference computes in float: where the exact start is a whole frame it may land a
        # frame later; everywhere else the two agree
        for j, (a, b) in enumerate(zip(ours.tolist(), ref)):
            tie = ((2 * j + 1) * (frames - n_frames - 1)) % (2 * n_clips) == 0
            assert a == b or (tie and b == a + 1), (frames, j, a, b)
            checked += a == b
        assert ours.max() + n_frames <= frames - 1  # every window inside the row, one frame to spare
    assert checked > 0.95 * n_clips * (400 - n_frames - 2)


def test_segment_spacing_of_a_short_row_puts_every_window_at_its_start():
    assert _reference_first_frames(16, 16.0, 16, 10) is None
    np.testing.assert_array_equal(window_starts(16, 16, 10, "segments"), np.zeros(10, np.int64))
    np.testing.assert_array_equal(window_starts(5, 16, 3, "segments"), np.zeros(3, np.int64))


def test_span_spacing_is_unchanged():
    np.testing.assert_array_equal(window_starts(160, 16, 10), np.arange(0, 145, 16))
    np.testing.assert_array_equal(window_starts(40, 16, 1), [12])
    with pytest.raises(ValueError, match="spacing"):
        window_starts(40, 16, 2, "centres")
