"""What killed and retried decode tasks leave in a split's shards: found, removed, re-decoded."""

import csv
import shutil

import pytest

from pipelines.data.shards import open_split
from pipelines.decode import stage
from pipelines.decode.settle import settle_shards, shard_ids
from pipelines.decode.stage import LOST_ROW, run
from tests.pipelines.decode.test_decode_stage import CFG, _fixture


def test_a_file_cut_short_and_a_repeated_file_are_removed(tmp_path, make_split, capsys):
    split = make_split(tmp_path / "split", files=2)
    shards = split / "shards"
    first, second = sorted(shards.glob("*.parquet"))
    ids = set(shard_ids(first)) | set(shard_ids(second))
    shutil.copy(first, shards / "zz-retry.parquet")  # a retried task wrote the same rows again
    data = second.read_bytes()
    (shards / "aa-killed.parquet").write_bytes(data[: len(data) // 3])  # a write cut short
    assert shard_ids(shards / "aa-killed.parquet") is None
    assert settle_shards(shards) == ids
    assert sorted(p.name for p in shards.glob("*.parquet")) == sorted([first.name, second.name])
    err = capsys.readouterr().err
    assert "aa-killed.parquet: cannot be read (a write cut short); removed" in err
    assert "zz-retry.parquet: repeats rows already written; removed" in err
    assert len(open_split(split)) == len(ids)


def test_a_file_sharing_only_some_videos_is_an_error_naming_it(tmp_path, make_split):
    a = make_split(tmp_path / "a", files=2) / "shards"
    b = make_split(tmp_path / "b", num_classes=4, files=1) / "shards"  # a's 12 videos and 4 others
    shutil.copy(sorted(b.glob("*.parquet"))[0], a / "zz-other.parquet")
    with pytest.raises(RuntimeError, match=r"zz-other.parquet: \d+ of its videos are also in another shard file"):
        settle_shards(a)


def _break_first_write(monkeypatch, times: int):
    """``_ray_decode`` as it runs, but its first ``times`` calls lose their first shard file's
    rows: the file is cut short, as a worker killed mid-write leaves it."""
    real, calls = stage._ray_decode, []

    def decode(records, spec, cfg, tmp):
        before = set((tmp / "shards").glob("*.parquet")) if (tmp / "shards").exists() else set()
        real(records, spec, cfg, tmp)
        calls.append(len(records))
        if len(calls) <= times:
            victim = sorted(set((tmp / "shards").glob("*.parquet")) - before)[0]
            victim.write_bytes(victim.read_bytes()[:100])

    monkeypatch.setattr(stage, "_ray_decode", decode)
    return calls


def _manifest(out) -> dict[str, dict]:
    with open(out.manifest, newline="") as f:
        return {r["video_id"]: r for r in csv.DictReader(f)}


def test_videos_whose_rows_a_killed_write_lost_are_decoded_again(tmp_path, ray_local, monkeypatch, capsys):
    from tests.conftest import write_video

    inputs = _fixture(tmp_path, write_video)
    calls = _break_first_write(monkeypatch, times=1)
    out = run(CFG, inputs)
    assert len(calls) == 2 and 0 < calls[1] < calls[0]  # only the videos without a row, again
    assert "decoded videos of" in capsys.readouterr().err
    ok = {v for v, r in _manifest(out).items() if r["status"] == "ok"}
    assert out.summary["decoded"] == len(ok) == 4
    index = open_split(out.path)
    assert sorted(index.video_ids) == sorted(ok)  # one row per decoded video, none lost


def test_a_row_lost_twice_is_lost_in_the_manifest_not_counted_decoded(tmp_path, ray_local, monkeypatch):
    from tests.conftest import write_video

    inputs = _fixture(tmp_path, write_video)
    _break_first_write(monkeypatch, times=2)
    out = run(CFG, inputs)
    rows = _manifest(out)
    lost = {v for v, r in rows.items() if r["status"] == "lost"}
    assert lost and all(rows[v]["reason"] == LOST_ROW for v in lost)
    index = open_split(out.path)
    assert out.summary["decoded"] == len(index) == 4 - len(lost)
    assert out.summary["by_status"]["lost"] == len(lost) and not lost & set(index.video_ids)
