"""Names the stages and the report share, spelled once: the two reference models of a study."""

BASELINE = "baseline"  # the supervised baseline (pretrain/baseline)
CONTINUED = "continued"  # the control: the baseline trained on with cross-entropy for the DRL phase's epochs
