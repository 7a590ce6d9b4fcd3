"""The study report's opening: a plain-language verdict on what each DRL model changed."""

from __future__ import annotations

import statistics

from drl_core.metrics import keys
from pipelines.names import BASELINE, CONTINUED as CONTROL
from pipelines.report.table import model_label

SAME = 0.01  # differences below this are called "about the same"


def measures(tests: tuple[str, ...], downstream: tuple[str, ...],
             evaluation: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(label, metric key, unit) of what the verdict compares: DS and accuracy on the last source
    test (out of context where there is one), in-context accuracy, accuracy on each evaluation
    set (e.g. Mimetics, out of context for Kinetics), and mean transfer."""
    last = tests[-1]
    out = [(f"DS {last.replace('_', ' ')}", keys.ds(last), "nats"),
           (f"accuracy {last.replace('_', ' ')}", keys.acc(last), "")]
    if last != tests[0]:
        out.append((f"accuracy {tests[0].replace('_', ' ')}", keys.acc(tests[0]), ""))
    out += [(f"accuracy on {e}", keys.acc(e), "") for e in evaluation]
    if downstream:
        out += [("mean linear probe", "mean_linear_probe", ""), ("mean fine-tune", "mean_finetune", "")]
    return out


def with_means(row: dict[str, float], downstream: tuple[str, ...]) -> dict[str, float]:
    """``row`` plus its mean linear-probe and fine-tune accuracy over the downstream datasets."""
    out = dict(row)
    for name, key in (("mean_linear_probe", keys.linear_probe_acc), ("mean_finetune", keys.finetune_acc)):
        values = [row[key(d)] for d in downstream if key(d) in row]
        if values:
            out[name] = statistics.fmean(values)
    return out


def change(label: str, unit: str, new: float, old: float) -> str:
    delta = new - old
    unit = f" {unit}" if unit else ""
    if abs(delta) < SAME:
        return f"{label} about the same ({old:.3f} → {new:.3f}{unit})"
    return f"{label} {'up' if delta > 0 else 'down'} {abs(delta):.3f}{unit} ({old:.3f} → {new:.3f})"


def regime(row: dict[str, float], tests: tuple[str, ...], chance: float | None) -> str:
    """Whether the baseline sits where DRL can act: it must use some motion out of context."""
    if len(tests) < 2 or chance is None:
        return ""
    ic, ooc = row.get(keys.acc(tests[0])), row.get(keys.acc(tests[-1]))
    if ic is None or ooc is None:
        return ""
    inside = ic - ooc >= 0.25 and ooc >= 2 * chance
    return (f"The baseline scores {ic:.3f} in context and {ooc:.3f} out of context (chance {chance:.3f}): "
            + ("it leans on the scene but has learnt part of the motion, the regime where DRL can act."
               if inside else "it is outside the regime where DRL can act (a gap of 25 points and out-of-context "
               "accuracy of at least 2 × chance; `drl calibrate` checks it), so expect little."))


def verdict(rows: dict[str, dict[str, float]], tests: tuple[str, ...], downstream: tuple[str, ...],
            chance: float | None = None, evaluation: tuple[str, ...] = ()) -> str:
    """Markdown: each DRL model against the control (the baseline trained on for the same epochs
    with cross-entropy alone), or against the baseline when the study has no control."""
    reference = CONTROL if CONTROL in rows else BASELINE
    drl = [m for m in rows if m not in (BASELINE, CONTROL)]
    lines = ["## Verdict", ""]
    if BASELINE in rows:
        text = regime(rows[BASELINE], tests, chance)
        if text:
            lines += [text, ""]
    if not drl or reference not in rows:
        return "\n".join(lines + ["No DRL model to compare.", ""])
    ref = with_means(rows[reference], downstream)
    lines.append("Against the control (the baseline trained on for the same epochs with cross-entropy alone):"
                 if reference == CONTROL else "Against the baseline (this study has no control):")
    lines.append("")
    for model in drl:
        row = with_means(rows[model], downstream)
        parts = [change(label, unit, row[key], ref[key]) for label, key, unit in measures(tests, downstream, evaluation)
                 if key in row and key in ref]
        lines.append(f"- **{model_label(model)}**: " + "; ".join(parts) + ".")
    lines += ["", "This is one seed: differences of a few points can be noise. The controlled study "
              "(`docs/RESULTS.md`, made with `drl report`) gives the seed-averaged answer, with the spread "
              "over seeds.", ""]
    return "\n".join(lines)
