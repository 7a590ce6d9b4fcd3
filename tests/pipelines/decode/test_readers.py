"""Every reader on a fixture that copies its dataset's native layout (tests/pipelines/decode/layouts.py)."""

from __future__ import annotations

import pytest

from pipelines.decode.readers import READERS, get_reader
from tests.pipelines.decode import layouts


@pytest.fixture(scope="module", params=sorted(layouts.BUILDERS))
def dataset(request, tmp_path_factory):
    return request.param, layouts.BUILDERS[request.param](tmp_path_factory.mktemp(request.param))


def test_every_dataset_has_a_reader_and_a_fixture():
    assert sorted(READERS) == sorted(layouts.BUILDERS)


def test_reader_yields_the_right_videos_labels_and_label_order(dataset):
    name, lay = dataset
    for split, expected in lay.expect.items():
        out = get_reader(name)(lay.root, lay.annotations, split)
        assert out.classes == lay.classes, (name, split)
        got = {r.video_id: r.label_name for r in out.records}
        assert got == expected, (name, split)
        for r in out.records:
            assert out.classes[r.label] == r.label_name and r.split == split
        present = {r.video_id for r in out.records if __import__("os").path.exists(r.path)}
        assert present == set(expected) - lay.missing.get(split, set()), (name, split)


def test_bad_rows_come_back_as_rejects_with_file_and_row(dataset):
    name, lay = dataset
    for split, bad in lay.bad.items():
        out = get_reader(name)(lay.root, lay.annotations, split)
        assert {r.video_id: r.status for r in out.rejects} == bad, (name, split)
        for r in out.rejects:
            assert any(w in r.reason for w in ("row", "line", "item")), r.reason


def test_missing_annotation_file_is_a_one_line_error_naming_it(tmp_path):
    for name in READERS:
        (tmp_path / name).mkdir()
        split = {"ucf101": "train1", "hmdb51": "train1", "mimetics": "test", "ssv2": "validation",
                 "jester": "validation"}.get(name, "train")
        with pytest.raises(FileNotFoundError) as err:
            get_reader(name)(tmp_path / name, tmp_path / name, split)
        assert str(tmp_path / name) in str(err.value) and "\n" not in str(err.value), name


def test_kinetics_flat_cvdf_layout_prefers_replacement_copies(tmp_path):
    lay = layouts.kinetics400_flat(tmp_path)
    out = get_reader("kinetics400")(lay.root, lay.annotations, "train")
    assert out.classes == ("abseiling", "air drumming", "zumba")  # no label_map.txt: sorted train labels
    paths = {r.video_id: r.path for r in out.records}
    assert {v: r.label_name for v, r in zip(paths, out.records)} == lay.expect["train"]
    assert "replacement" in paths["-flat000000_000000_000010"]
    assert "/train/" in paths["-flat000001_000000_000010"]


def test_kinetics_test_csv_without_labels_is_an_error(tmp_path):
    layouts.write_text(tmp_path / "test.csv", ["youtube_id,time_start,time_end,split", "--6bJUbfpnQ,17,27,test"])
    layouts.write_text(tmp_path / "label_map.txt", ["abseiling"])
    with pytest.raises(ValueError, match="test.csv: no label column"):
        get_reader("kinetics400")(tmp_path, tmp_path, "test")


def test_ucf_label_order_is_class_ind_not_python_sorted(tmp_path):
    lay = layouts.ucf101(tmp_path)
    out = get_reader("ucf101")(lay.root, lay.annotations, "train01")
    assert out.classes.index("Hammering") < out.classes.index("HammerThrow")
    assert sorted(out.classes) != list(out.classes)
    with pytest.raises(ValueError, match="split must be train1..3"):
        get_reader("ucf101")(lay.root, lay.annotations, "fold1")


def test_hmdb_labels_are_sorted_class_names(tmp_path):
    lay = layouts.hmdb51(tmp_path)
    out = get_reader("hmdb51")(lay.root, lay.annotations, "test2")
    assert out.classes == ("brush_hair", "cartwheel", "climb", "climb_stairs")
    # tags are per fold: a clip is train in one fold and test in another
    assert set(lay.expect["train1"]) & set(lay.expect["test2"])


@pytest.mark.parametrize("name", ["ssv2", "jester"])
def test_qualcomm_annotation_names_read_the_same(tmp_path, name):
    a = layouts.BUILDERS[name](tmp_path / "a")
    b = layouts.BUILDERS[name](tmp_path / "b", qualcomm=True)
    for split in a.expect:
        ra = get_reader(name)(a.root, a.annotations, split)
        rb = get_reader(name)(b.root, b.annotations.parent, split)  # the root above labels/
        assert [(r.video_id, r.label) for r in ra.records] == [(r.video_id, r.label) for r in rb.records]


def test_ssv2_test_split_takes_labels_from_test_answers(tmp_path):
    lay = layouts.ssv2(tmp_path)
    layouts.write_text(lay.annotations / "test-answers.csv",
                       ["1420;Holding something next to something", "166429;Not a template"])
    out = get_reader("ssv2")(lay.root, lay.annotations, "test")
    assert [(r.video_id, r.label) for r in out.records] == [("1420", 1)]
    assert [(r.video_id, r.status) for r in out.rejects] == [("166429", "unknown_label")]


def test_jester_records_are_frame_folders_at_12_fps(tmp_path):
    lay = layouts.jester(tmp_path)
    out = get_reader("jester")(lay.root, lay.annotations, "train")
    assert all(r.fps == 12.0 and r.path.endswith(f"20bn-jester-v1/{r.video_id}") for r in out.records)
    assert out.classes[2] == "Pushing Hand Away"  # file order, not alphabetical
