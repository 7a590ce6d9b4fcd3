"""Stage names, spelled once: every module that builds or reads a stage name imports it from here.

A stage name is ``<kind>/<what>``: ``pretrain/<model>``, ``finetune/<model>/<dataset>`` and so
on. The two reference models of a study are :data:`BASELINE` and :data:`CONTINUED`.
"""

BASELINE = "baseline"  # the supervised baseline (pretrain/baseline)
CONTINUED = "continued"  # the control: the baseline trained on with cross-entropy for the DRL phase's epochs

GENERATE = "generate"
REPORT = "report"
DECODE = "decode"
STATIC_PRETRAIN = "static_pretrain"
PRETRAIN = "pretrain"
EVALUATE = "evaluate"
DYNAMIC_SCORE = "dynamic_score"
FINETUNE = "finetune"
LINEAR_PROBE = "linear_probe"
FEWSHOT = "fewshot"
TRAINING_KINDS = (STATIC_PRETRAIN, PRETRAIN, DYNAMIC_SCORE, FINETUNE)  # the stages Ray Train runs


def decode_stage(dataset: str, split: str) -> str:
    return f"{DECODE}/{dataset}/{split}"


def static_stage(tag: str) -> str:
    """The static-task pretraining of one spatial architecture (``tag``: e.g. ``r2d10-w8``)."""
    return f"{STATIC_PRETRAIN}/{tag}"


def pretrain_stage(model: str) -> str:
    return f"{PRETRAIN}/{model}"


def evaluate_stage(model: str) -> str:
    return f"{EVALUATE}/{model}"


def ds_stage(model: str) -> str:
    return f"{DYNAMIC_SCORE}/{model}"


def finetune_stage(model: str, dataset: str) -> str:
    return f"{FINETUNE}/{model}/{dataset}"


def linear_probe_stage(model: str, dataset: str) -> str:
    return f"{LINEAR_PROBE}/{model}/{dataset}"


def fewshot_stage(model: str, dataset: str) -> str:
    return f"{FEWSHOT}/{model}/{dataset}"


def kind(stage: str) -> str:
    """The kind of a stage name (``pretrain`` for ``pretrain/baseline``)."""
    return stage.split("/", 1)[0]
