"""The study report's verdict, its phase-aware learning curves and the DS-against-accuracy figure."""

from pathlib import Path

from pipelines.report import plots
from pipelines.report.verdict import verdict
from pipelines.stages.report import ReportStage, phase_start
from pipelines.config.schema import ReportConfig

TESTS = ("in_context", "out_of_context")


def row(ic: float, ooc: float, ds: float, probe: float, tune: float) -> dict[str, float]:
    return {"eval/acc1_in_context": ic, "eval/acc1_out_of_context": ooc, "ds/kl_out_of_context": ds,
            "linear_probe/a/acc1": probe, "linear_probe/b/acc1": probe + 0.1, "finetune/a/acc1": tune,
            "finetune/b/acc1": tune, "train/loss": 9.0}


def test_the_verdict_says_what_moved_against_the_control_and_how_much():
    rows = {"baseline": row(0.9, 0.40, 0.20, 0.5, 0.6), "continued": row(0.9, 0.42, 0.21, 0.5, 0.6),
            "static_inputs": row(0.895, 0.52, 0.30, 0.48, 0.6)}
    text = verdict(rows, TESTS, ("a", "b"), chance=0.1)
    line = next(s for s in text.splitlines() if s.startswith("- **Alg. 3"))
    assert "DS out of context up 0.090 nats (0.210 → 0.300)" in line
    assert "accuracy out of context up 0.100 (0.420 → 0.520)" in line
    assert "accuracy in context about the same (0.900 → 0.895)" in line
    assert "mean linear probe down 0.020 (0.550 → 0.530)" in line and "mean fine-tune about the same" in line
    assert "one seed" in text and "docs/RESULTS.md" in text
    assert "the regime where DRL can act" in text and "outside" not in text  # gap 0.5, 0.4 ≥ 2 × 0.1


def test_the_verdict_flags_a_baseline_outside_the_regime_and_uses_the_baseline_without_a_control():
    rows = {"baseline": row(0.88, 0.0, 0.2, 0.5, 0.6), "adversarial": row(0.88, 0.0, 0.2, 0.5, 0.6)}
    text = verdict(rows, TESTS, ("a",), chance=0.1)
    assert "outside the regime" in text and "Against the baseline (this study has no control)" in text
    assert "DS out of context about the same" in text


def test_the_verdict_counts_each_evaluation_set_on_a_real_source():
    base = {"eval/acc1_in_context": 0.6, "ds/kl_in_context": 0.3, "eval/acc1_mimetics": 0.10}
    rows = {"baseline": base, "static_inputs": {**base, "eval/acc1_mimetics": 0.15}}
    text = verdict(rows, ("in_context",), (), evaluation=("mimetics",))
    assert "accuracy on mimetics up 0.050 (0.100 → 0.150)" in text and "DS in context about the same" in text


def test_second_phases_continue_from_the_baselines_last_epoch(tmp_path: Path):
    hist = lambda n: [{"epoch": e, "train/loss": 1.0 / (e + 1), "train/acc1": 0.1 * e} for e in range(n)]  # noqa: E731
    results = {"pretrain/baseline": {"history": hist(4)}, "pretrain/continued": {"history": hist(2)},
               "pretrain/static_inputs": {"history": hist(2)}}
    stage = ReportStage(ReportConfig(), ("baseline", "continued", "static_inputs"), (), TESTS)
    starts = phase_start(stage, results)
    assert starts == {"continued": 4, "static_inputs": 4}
    xs = plots.phase_epochs({m: r["history"] for m, r in results.items()}, {f"pretrain/{m}": s for m, s in
                                                                          starts.items()})
    assert xs["pretrain/baseline"] == [1, 2, 3, 4] and xs["pretrain/static_inputs"] == [5, 6]
    scratch = ReportStage(ReportConfig(), stage.models, (), TESTS, second_phase=False)
    assert phase_start(scratch, results) == {}
    path = plots.learning_curves({m: results[f"pretrain/{m}"]["history"] for m in stage.models},
                                 tmp_path / "curves.png", starts)
    assert path.stat().st_size > 1000


def test_the_scatter_has_one_point_per_model_and_labelled_axes(tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = {"baseline": (0.3, 0.2), "continued": (0.32, 0.21), "static_inputs": (0.4, 0.3)}
    fig, ax = plt.subplots()
    plots.draw_ds_against_accuracy(ax, points, "out of context")
    offsets = [tuple(c.get_offsets()[0]) for c in ax.collections]
    assert offsets == list(points.values())
    assert ax.get_xlabel() == "top-1 accuracy, out of context (fraction)"
    assert ax.get_ylabel() == "DS, out of context (KL, nats)"
    plt.close(fig)
    assert plots.ds_against_accuracy(points, "out of context", tmp_path / "s.png").stat().st_size > 1000
