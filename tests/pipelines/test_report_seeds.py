"""The seed-averaged table, computed from an MLflow store built here with known numbers."""

import statistics

import pytest

from pipelines import run_tags
from pipelines.report.seeds import main, tables

METRICS = {
    "evaluate/{m}": {"eval/acc1_in_context": 0.9, "eval/acc1_out_of_context": 0.4, "probe/freeze_kl_in_context": 0.2,
                     "probe/freeze_kl_out_of_context": 0.3, "probe/shuffle_kl_in_context": 0.1,
                     "probe/shuffle_kl_out_of_context": 0.15},
    "dynamic_score/{m}": {"ds/kl_in_context": 0.5, "ds/kl_out_of_context": 0.6, "ds/agreement_in_context": 0.7,
                          "ds/agreement_out_of_context": 0.55, "train/loss": 1.0},
    "finetune/{m}/paths": {"acc1_test": 0.8},
    "linear_probe/{m}/paths": {"linear_probe/acc1": 0.75},
}


def make_store(folder, studies, figures=None):
    """``studies``: (seed, bias, {model: offset}, drop[, variant]) → a parent run per study with
    stage runs whose metrics are METRICS + offset; ``drop`` names a (stage, metric) to leave out. With a
    ``figures`` folder, each study logs stand-in report figures (their text names the seed)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{folder}/mlflow.db")
    exp = client.create_experiment("drl-study", artifact_location=(folder / "mlartifacts").as_uri())
    for seed, bias, offsets, drop, *variant in studies:
        parent = client.create_run(exp, run_name="study")
        client.log_param(parent.info.run_id, "seed", seed)
        if variant:
            client.log_param(parent.info.run_id, "variant", variant[0])
        client.log_param(parent.info.run_id, "benchmark.bias", bias)
        client.set_tag(parent.info.run_id, run_tags.COMMAND, f"python pipelines/full_study.py --set seed={seed}")
        client.set_tag(parent.info.run_id, run_tags.MACHINE, "test machine")
        client.set_tag(parent.info.run_id, run_tags.SOFTWARE, f"torch 2.{seed}")
        if figures:
            for name in ("tsne.png", "ds_per_class.png"):
                (figures / name).write_bytes(f"{name} of seed {seed}".encode())
            client.log_artifacts(parent.info.run_id, str(figures), "report")
        for model, offset in offsets.items():
            trained = client.create_run(exp, run_name=f"pretrain/{model}", tags={
                "mlflow.parentRunId": parent.info.run_id, run_tags.KEY: f"{model}-{seed}-{variant}",
                run_tags.KERNELS: f"cpu: test CPU, {2 + seed % 2} threads"})
            for epoch, value in enumerate((2.0, 1.0)):  # a training term's per-epoch history
                client.log_metric(trained.info.run_id, "train/ce", value + offset, step=epoch)
            client.set_terminated(trained.info.run_id)
            for stage, metrics in METRICS.items():
                name = stage.format(m=model)
                run = client.create_run(exp, run_name=name, tags={"mlflow.parentRunId": parent.info.run_id})
                for k, v in metrics.items():
                    if (name, k) != drop:
                        client.log_metric(run.info.run_id, k, v + offset)
                client.set_terminated(run.info.run_id)
        client.set_terminated(parent.info.run_id)


def cell(text, model_label, title):
    header, _, *rows = [line for line in text.splitlines() if line.startswith("|")]
    titles = [t.strip() for t in header.strip("|").split("|")]
    row = next(r for r in rows if r.strip("|").split("|")[0].strip() == model_label)
    return row.strip("|").split("|")[titles.index(title)].strip()


def test_mean_and_std_over_seeds(tmp_path):
    offsets = [0.0, 0.02, 0.07]
    make_store(tmp_path, [(s, 0.85, {"baseline": o, "static_inputs": 2 * o}, None) for s, o in enumerate(offsets)])
    text = tables([tmp_path])
    assert "bias 0.85: mean ± std over seeds 0, 1, 2" in text
    values = [0.4 + 2 * o for o in offsets]
    expect = f"{statistics.fmean(values):.3f} ± {statistics.stdev(values):.3f}"
    assert cell(text, "Alg. 3: static inputs", "acc out of context") == expect
    base = [0.75 + o for o in offsets]
    assert cell(text, "Baseline (supervised)", "linear probe paths") == \
        f"{statistics.fmean(base):.3f} ± {statistics.stdev(base):.3f}"


def test_newest_study_per_seed_and_one_table_per_bias(tmp_path):
    make_store(tmp_path, [(0, 0.5, {"baseline": 0.0}, None), (0, 0.5, {"baseline": 0.1}, None),
                          (1, 0.5, {"baseline": 0.3}, None), (0, 0.9, {"baseline": 0.0}, None)])
    text = tables([tmp_path])
    assert "bias 0.5: mean ± std over seeds 0, 1" in text and "bias 0.9: mean ± std over seeds 0" in text
    first = text.split("### Benchmark bias 0.9")[0]
    assert cell(first, "Baseline (supervised)", "acc in context") == f"{(1.0 + 1.2) / 2:.3f} ± {statistics.stdev([1.0, 1.2]):.3f}"


def test_a_missing_metric_fails_loudly(tmp_path, capsys):
    make_store(tmp_path, [(0, 0.85, {"baseline": 0.0}, None),
                          (1, 0.85, {"baseline": 0.0}, ("dynamic_score/baseline", "ds/kl_out_of_context"))])
    with pytest.raises(ValueError, match="seed 1.*model 'baseline' has no metric 'ds/kl_out_of_context'"):
        tables([tmp_path])
    assert main(["--store", str(tmp_path)]) == 2
    assert "ds/kl_out_of_context" in capsys.readouterr().err
    assert main(["--store", str(tmp_path / "nowhere")]) == 2


def test_a_studys_time_counts_every_run_of_its_seed():
    from types import SimpleNamespace

    from pipelines.report.seeds import study_time

    def run(seed, start, end, status="FINISHED", bias="0.85"):
        return SimpleNamespace(data=SimpleNamespace(params={"seed": str(seed), "benchmark.bias": bias}),
                               info=SimpleNamespace(start_time=start, end_time=end, status=status))

    spent = study_time([run(0, 0, 60_000, "KILLED"), run(0, 100_000, 106_000), run(1, 0, 30_000),
                        run(1, 40_000, None, "RUNNING"), run(0, 0, 10_000, bias="0.5")])
    assert spent[(0.85, "", 0)] == (66.0, 2)  # interrupted, then run again: both counted
    assert spent[(0.85, "", 1)] == (30.0, 1)  # a run still going has no end yet
    assert spent[(0.5, "", 0)] == (10.0, 1) and spent[(0.85, "", 2)] == (0.0, 0)
