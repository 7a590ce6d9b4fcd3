"""The report's pieces: the table's numbers come from the stage results, and t-SNE separates
well-separated clusters."""

import numpy as np

from pipelines.report.table import TableLayout, columns, markdown_table, model_metrics
from pipelines.report.tsne import tsne


def test_table_rows_come_from_each_stage():
    results = {
        "evaluate/m": {"metrics": {"eval/acc1_in_context": 0.9, "probe/freeze_kl_in_context": 0.2}},
        "dynamic_score/m": {"metrics": {"ds/kl_in_context": 0.31, "ds/agreement_in_context": 0.7}},
        "finetune/m/d": {"eval": {"test": {"acc1": 0.55}}},
        "linear_probe/m/d": {"acc1": 0.45},
        "fewshot/m/f": {"fewshot": {"5way1shot": {"acc": 0.61, "ci95": 0.012}}},
    }
    layout = TableLayout(("in_context",), ("d",), ("f",), ("5way1shot",), ("mimetics",))
    row = model_metrics("m", results, layout)
    table = markdown_table({"m": row}, columns(layout))
    header, _, line = table.splitlines()
    cells = dict(zip(header.strip("|").split(" | "), line.strip("|").split(" | ")))
    assert cells[" model"].strip() == "m" and cells["acc in context"] == "0.900"
    assert cells["DS in context"] == "0.310" and cells["fine-tune d"] == "0.550"
    assert cells["linear probe d"] == "0.450" and cells["shuffle KL in context"] == "n/a"
    assert cells["5way1shot f "].strip() == "0.610 ± 0.012" and cells["acc mimetics"] == "n/a"


def test_tsne_keeps_clusters_apart():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.1, (30, 10)), rng.normal(5, 0.1, (30, 10))])
    y = tsne(x, perplexity=10, iterations=300)
    labels = np.repeat([0, 1], 30)
    dist = np.linalg.norm(y[:, None] - y[None], axis=2) + np.eye(60) * 1e9
    for k in range(5):  # each point's 5 nearest neighbours in the embedding share its cluster
        nearest = dist.argsort(1)[:, k]
        assert (labels[nearest] == labels).all()
    assert y.shape == (60, 2) and np.isfinite(y).all()
