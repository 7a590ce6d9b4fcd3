"""The results page, computed from an MLflow store built here with known numbers."""

import statistics

from pipelines.report.results import main
from tests.pipelines.test_report_seeds import cell, make_store

# Per seed, each model's offset on every metric: Alg. 3 gains 0.1 (10 std, paired too: differences
# 0.1, 0.11, 0.09), Alg. 1 gains 0.01 (1 std; paired: the same 0.01 every seed, so "infinitely" many).
OFFSETS = {"baseline": [0.0, 0.01, 0.02], "continued": [0.005, 0.015, 0.025], "static_inputs": [0.1, 0.12, 0.11],
           "adversarial": [0.01, 0.02, 0.03]}


def studies(bias, shift=0.0):
    return [(seed, bias, {m: o[seed] + shift for m, o in OFFSETS.items()}, None) for seed in range(3)]


def table_after(text, heading):
    return text.split(heading, 1)[1]


def test_results_page_tables_goal_figures_and_sweep(tmp_path):
    figures = tmp_path / "figs"
    figures.mkdir()
    sweep_points = [(0, 0.95, {"baseline": 0.2, "static_inputs": 0.3}, None),  # one seed, baseline and Alg. 3
                    (0, 0.5, {"baseline": 0.1, "adversarial": 0.1}, None)]  # no Alg. 3: not in the sweep
    make_store(tmp_path, studies(0.85) + studies(0.0, 0.3) + sweep_points, figures)
    out = tmp_path / "docs" / "RESULTS.md"
    out.parent.mkdir()
    assert main(["--store", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert f"`python -m pipelines.report.results --store {tmp_path} --out {out}`" in text
    assert "| 0.85 | 2 | - | `python pipelines/full_study.py --set seed=2` |" in text and "test machine" in text
    assert "Software: torch 2.0 | torch 2.1 | torch 2.2." in text  # each study's versions, each once
    assert "Training stages computed on: cpu: test CPU, 2 threads | cpu: test CPU, 3 threads." in text

    section = table_after(text, "## Benchmark bias 0.85: mean ± std over seeds 0, 1, 2")
    values = [0.4 + o for o in OFFSETS["static_inputs"]]
    assert cell(section, "Alg. 3: static inputs", "acc out of context") == \
        f"{statistics.fmean(values):.3f} ± {statistics.stdev(values):.3f}"
    goal, goal_paired = table_after(section, "### Goal check").split("### Training terms")[0].split("Paired by seed")
    rows = [line for line in goal.splitlines() if line.startswith("| Alg. 3")]
    assert len(rows) == 2 and all(line.endswith("| yes |") for line in rows)
    assert "+0.100 (+10.0 std)" in rows[0]  # vs the baseline: gain 0.1, both stds 0.01
    assert all(line.endswith("| no |") for line in goal.splitlines() if line.startswith("| Alg. 1"))
    assert "Goal met by: Alg. 3: static inputs." in goal
    paired_rows = [line for line in goal_paired.splitlines() if line.startswith("| Alg. 3")]
    assert "+0.100 (+10.0 std)" in paired_rows[0] and paired_rows[0].endswith("| yes |")
    alg1 = next(line for line in goal_paired.splitlines() if line.startswith("| Alg. 1"))
    assert "+0.010 (+inf std)" in alg1 and "Goal met by: Alg. 1: adversarial augmentation, Alg. 3" in goal_paired

    terms = table_after(section, "### Training terms")
    assert "| Alg. 3: static inputs | ce | 2.1100 ± 0.0100 | 1.1100 ± 0.0100 |" in terms  # epochs 1 and last

    for name in ("seed0_tsne.png", "seed0_ds_per_class.png"):
        assert f"(results/{name})" in text
        assert (out.parent / "results" / name).read_bytes().endswith(b"of seed 0")
    sweep = table_after(text, "## Bias sweep: baseline and Alg. 3: static inputs")
    assert "| 0 | Alg. 3: static inputs | 0.810 ± 0.010 (n=3) |" in sweep  # 0.4 + 0.3 + 0.11
    assert "| 0.95 | Alg. 3: static inputs | 0.700 ± nan (n=1) |" in sweep
    assert "| 0.5 |" not in sweep and "Not in the sweep (no Alg. 3: static inputs run): bias 0.5." in sweep
    order = [text.index(f"## Benchmark bias {b}:") for b in ("0.85", "0", "0.5", "0.95")]
    assert order == sorted(order)  # the main study (most seeds) first, then the sweep points by bias
    assert sweep.index("| 0 | Baseline") < sweep.index("| 0.85 | Baseline") < sweep.index("| 0.95 | Baseline")
    assert (out.parent / "results" / "bias_sweep.png").stat().st_size > 1000

    assert main(["--store", str(tmp_path), "--out", str(out)]) == 0
    assert out.read_text() == text  # the store reproduces the page


def test_a_study_variant_is_a_row_of_its_own_against_the_shared_baseline(tmp_path, capsys):
    figures = tmp_path / "figs"
    figures.mkdir()
    remedy = [(seed, 0.85, {"baseline": 0.0, "adversarial": 0.2 + 0.01 * seed}, None, "longer") for seed in range(3)]
    make_store(tmp_path, studies(0.85) + remedy, figures)
    out = tmp_path / "RESULTS.md"
    assert main(["--store", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "| 0.85 | 1 | longer | `python pipelines/full_study.py --set seed=1` |" in text
    assert cell(table_after(text, "### Source"), "Alg. 1: adversarial augmentation [longer]", "acc out of context") == \
        "0.610 ± 0.010"
    goal = [line for line in table_after(text, "### Goal check").split("Paired by seed")[0].splitlines()
            if line.startswith("| Alg. 1: adversarial augmentation [longer]")]
    assert len(goal) == 2 and "+0.200 (+20.0 std)" in goal[0] and goal[0].endswith("| yes |")
    assert "Baseline (supervised) [longer]" not in text  # the variant shares the baseline

    partial = tmp_path / "partial"
    partial.mkdir()
    make_store(partial, studies(0.85) + remedy[:2], figures)
    assert main(["--store", str(partial), "--out", str(tmp_path / "p.md")]) == 2
    assert "variant 'longer' at bias 0.85 finished seeds [0, 1], the study [0, 1, 2]" in capsys.readouterr().err

    lonely = tmp_path / "lonely"
    lonely.mkdir()
    make_store(lonely, [(5, 0.85, {"baseline": 0.0}, None, "longer")], figures)
    assert main(["--store", str(lonely), "--out", str(tmp_path / "x.md")]) == 2


def test_no_goal_and_a_missing_metric(tmp_path, capsys):
    figures = tmp_path / "figs"
    figures.mkdir()
    flat = [(seed, 0.85, {"baseline": 0.01 * seed, "continued": 0.01 * seed, "static_inputs": 0.01 * seed}, None)
            for seed in range(3)]
    (tmp_path / "a").mkdir()
    make_store(tmp_path / "a", flat, figures)
    out = tmp_path / "RESULTS.md"
    assert main(["--store", str(tmp_path / "a"), "--out", str(out)]) == 0
    assert "Goal not met" in out.read_text() and "## Bias sweep" not in out.read_text()

    (tmp_path / "b").mkdir()
    make_store(tmp_path / "b", [(0, 0.85, {"baseline": 0.0}, None),
                                (1, 0.85, {"baseline": 0.0}, ("linear_probe/baseline/paths", "linear_probe/acc1"))],
               figures)
    assert main(["--store", str(tmp_path / "b"), "--out", str(tmp_path / "b.md")]) == 2
    assert "seed 1" in capsys.readouterr().err and not (tmp_path / "b.md").exists()


def test_one_seed_meets_no_goal(tmp_path):
    figures = tmp_path / "figs"
    figures.mkdir()
    make_store(tmp_path, studies(0.85)[:1], figures)
    out = tmp_path / "RESULTS.md"
    assert main(["--store", str(tmp_path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "+0.100 (1 seed)" in text and "the goal cannot be assessed" in text


def test_the_goal_measures_what_the_studies_measured():
    from drl_core.metrics import keys
    from pipelines.report.results import goal_columns, verdict
    from pipelines.report.table import TableLayout

    benchmark = goal_columns(TableLayout(("in_context", "out_of_context"), downstream=("paths",)))
    assert [c.metric for c in benchmark] == [keys.DS_IN_CONTEXT, keys.ACC_OUT_OF_CONTEXT, "transfer/mean_linear_probe_acc1"]
    kinetics = goal_columns(TableLayout(("in_context",), downstream=("ucf101",), evaluation=("mimetics",)))
    assert [c.title for c in kinetics] == ["DS in context", "acc mimetics", "mean linear probe"]
    alone = goal_columns(TableLayout(("in_context",)))  # no out-of-context set, no downstream dataset
    assert [c.metric for c in alone] == [keys.DS_IN_CONTEXT]
    assert verdict([], 3, benchmark).endswith("on all three measures.")  # the wording of docs/RESULTS.md
    assert verdict([], 3, alone).endswith("on every measure (DS in context).")


def test_evaluation_sets_are_columns_of_their_own():
    from drl_core.metrics import keys
    from pipelines.report.seeds import layout_of

    models = {"baseline": {keys.acc("in_context"): 0.5, keys.ds("in_context"): 0.1, keys.acc("mimetics"): 0.2,
                           keys.acc("mimetics_subset"): 0.4}}
    layout = layout_of([{"models": models}])
    assert layout.tests == ("in_context",) and layout.evaluation == ("mimetics",)
