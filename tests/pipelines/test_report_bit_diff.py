"""``pipelines.report.bit_diff``: two output folders compared stage by stage, to the bit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from drl_core.config import ModelConfig
from drl_core.models import build_model
from pipelines.report import bit_diff
from pipelines.train.model_file import save_model


def make_stage(out: Path, name: str, key: str, history: list[dict], seed: int = 0) -> Path:
    """A finished training stage as the runner leaves it: result.json, history.json and model.pt."""
    folder = out / "stages" / name / key
    folder.mkdir(parents=True)
    torch.manual_seed(seed)
    cfg = ModelConfig(name="r3d18", width=4)
    save_model(folder / "model.pt", build_model(cfg, 3), cfg, ("a", "b", "c"))
    (folder / "history.json").write_text(json.dumps(history))
    result = {"key": key, "outputs": {"model": str(folder / "model.pt"), "history": history, "cached": False},
              "seconds": 12.5}
    (folder / "result.json").write_text(json.dumps(result))
    return folder


HISTORY = [{"epoch": 0, "train/loss": 1.25, "train/acc1": 0.5, "time/epoch_s": 3.0, "memory/worker_peak_rss_mb": 600.0}]


def study(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    make_stage(out, "pretrain/baseline", "k1", HISTORY)
    make_stage(out, "evaluate/baseline", "k2", [], seed=1)
    return out


def test_the_run_s_own_figures_are_left_out_also_under_a_model_s_name():
    assert bit_diff.is_run_only(("result.json", "seconds"))
    assert bit_diff.is_run_only(("history.json", "[0]", "time/epoch_s"))
    assert bit_diff.is_run_only(("result.json", "outputs", "metrics", "baseline/memory/worker_peak_rss_mb"))
    assert not bit_diff.is_run_only(("result.json", "outputs", "metrics", "baseline/eval/acc1_in_context"))
    assert not bit_diff.is_run_only(("result.json", "outputs", "metrics", "baseline/eval/time_acc1"))


def test_equal_means_the_same_bits():
    nan = float("nan")
    assert bit_diff.same_tensor(torch.tensor([1.0, nan]), torch.tensor([1.0, nan]))
    assert not bit_diff.same_tensor(torch.tensor([0.0]), torch.tensor([-0.0]))
    assert not bit_diff.same_tensor(torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64))
    assert not bit_diff.same_tensor(torch.ones(2, 3), torch.ones(3, 2))
    assert bit_diff.same_tensor(torch.ones(2, dtype=torch.bfloat16), torch.ones(2, dtype=torch.bfloat16))
    assert bit_diff.same_number(nan, nan) and not bit_diff.same_number(0.0, -0.0)


def test_identical_folders_compare_equal_and_count_what_they_compared(tmp_path, capsys):
    a = study(tmp_path, "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    assert bit_diff.main([str(a), str(b)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    tensors = len(build_model(ModelConfig(name="r3d18", width=4), 3).state_dict())
    # per stage: epoch, loss and acc1, counted once (history.json is result.json's copy); no time,
    # memory or seconds
    assert last == f"2 stages in both, 3 numbers and {2 * tensors} tensors compared: 0 differ"


def test_a_changed_weight_or_number_is_named_while_times_and_cache_hits_are_not(tmp_path, capsys):
    a = study(tmp_path, "a")
    b = tmp_path / "b"
    make_stage(b, "pretrain/baseline", "other-key", [{**HISTORY[0], "train/loss": 1.2500001, "time/epoch_s": 9.0}])
    make_stage(b, "evaluate/baseline", "k2", [], seed=1)
    payload = torch.load(b / "stages/evaluate/baseline/k2/model.pt", weights_only=True)
    first = next(iter(payload["model"]))
    payload["model"][first].view(-1)[0] += 1e-7
    torch.save(payload, b / "stages/evaluate/baseline/k2/model.pt")
    result = json.loads((b / "stages/pretrain/baseline/other-key/result.json").read_text())
    result["outputs"]["cached"], result["seconds"] = True, 0.1
    (b / "stages/pretrain/baseline/other-key/result.json").write_text(json.dumps(result))

    assert bit_diff.main([str(a), str(b)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert f"evaluate/baseline: tensor model.pt/model/{first}: values differ" in lines
    assert "pretrain/baseline: number result.json/outputs/history/[0]/train/loss: 1.25 vs 1.2500001" in lines
    # the stage key, the time, the seconds and the cache hit are not differences; history.json,
    # the same as its result.json's copy on both sides, is not counted again
    assert lines[-1].endswith(": 2 differ")


def test_a_side_file_that_is_not_its_result_s_copy_is_compared_too(tmp_path, capsys):
    a = study(tmp_path, "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    [side] = (b / "stages/pretrain/baseline").glob("*/history.json")
    side.write_text(json.dumps([{**HISTORY[0], "train/loss": 2.0}]))  # result.json still says 1.25
    assert bit_diff.main([str(a), str(b)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert "pretrain/baseline: number history.json/[0]/train/loss: 1.25 vs 2.0" in lines and lines[-1].endswith(": 1 differ")


def test_stages_in_one_folder_only_and_names_with_several_keys_are_noted(tmp_path, capsys):
    a = study(tmp_path, "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    make_stage(b, "finetune/baseline/ucf101", "k3", HISTORY)
    make_stage(a, "evaluate/baseline", "k0", [], seed=1)
    assert bit_diff.main([str(a), str(b)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "stage finetune/baseline/ucf101 only in B" in lines
    assert "stage evaluate/baseline has several keys in A; the newest was compared" in lines
    assert lines[-1].endswith("0 differ (2 notes above)")


def test_a_folder_that_is_not_a_study_or_a_broken_file_is_a_one_line_error(tmp_path, capsys):
    a = study(tmp_path, "a")
    assert bit_diff.main([str(a), str(tmp_path / "nowhere")]) == 2
    nowhere = tmp_path / "nowhere"
    assert capsys.readouterr().err.strip() == f"error: {nowhere}: not a study output folder (no stages/ in it)"
    b = tmp_path / "b"
    shutil.copytree(a, b)
    broken = b / "stages/pretrain/baseline/k1/model.pt"
    broken.write_bytes(broken.read_bytes()[:100])
    assert bit_diff.main([str(a), str(b)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {broken}: not readable as weights (") and "\n" not in err


def decoded(out: Path, seed: int, files: int = 2) -> None:
    """A decode stage of ``out`` and the split it wrote (``shards/<dataset>/<split>/<key>``)."""
    from tests.conftest import write_split

    write_split(out / "shards" / "ucf101" / "train1" / "abc", seed=seed, files=files)
    folder = out / "stages" / "decode" / "ucf101" / "train1" / "stagekey"
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({"key": "stagekey", "outputs": {"key": "abc", "cached": False},
                                                    "seconds": 1.0}))


def test_rows_compares_every_decoded_row_however_the_shards_are_cut(tmp_path, capsys):
    a, b, c = study(tmp_path, "a"), study(tmp_path, "b"), study(tmp_path, "c")
    decoded(a, seed=0)
    decoded(b, seed=0, files=3)  # the same rows in other files
    decoded(c, seed=1)
    assert bit_diff.main([str(a), str(b)]) == 0 and "decoded rows" not in capsys.readouterr().out
    assert bit_diff.main([str(a), str(b), "--rows"]) == 0
    assert ", 12 decoded rows and " in capsys.readouterr().out.strip().splitlines()[-1]
    assert bit_diff.main([str(a), str(c), "--rows"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("decode/ucf101/train1: decoded rows differ (12 rows, SHA-256 ")
    shutil.rmtree(c / "shards")
    assert bit_diff.main([str(a), str(c), "--rows"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {c / 'shards/ucf101/train1/abc'}: no decoded split there (its shards moved or deleted?)"
