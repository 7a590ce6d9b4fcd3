"""Metric names shared by drl_core and the pipelines (MLflow keys, report columns)."""

TRAIN_LOSS = "train/loss"
TRAIN_ACC = "train/acc1"
TRAIN_PREFIX = "train/"
LR = "train/lr"
RESUMPTIONS = "train/resumptions"  # times a run continued from a checkpoint (lost workers, reruns)
VAL_LOSS = "val/loss"
VAL_ACC = "val/acc1"
DYNAMIC_SCORE = "ds/kl"
AGREEMENT = "ds/agreement"
FREEZE_KL = "probe/freeze_kl"
SHUFFLE_KL = "probe/shuffle_kl"
TIME_PREFIX = "time/"  # how long a run took, and what it got through: the run's, not the result's
MEMORY_PREFIX = "memory/"
EPOCH_SECONDS = f"{TIME_PREFIX}epoch_s"
EPOCH_CLIPS = f"{TIME_PREFIX}epoch_clips"
DATA_WAIT_SECONDS = f"{TIME_PREFIX}data_wait_s"  # of an epoch's seconds, those its steps waited for batches
FIRST_BATCH_SECONDS = f"{TIME_PREFIX}first_batch_s"  # of those, the wait for the epoch's first batch
EPOCH_STEAL = f"{TIME_PREFIX}host_cpu_steal"  # of the epoch's host CPU time, the share given to other guests
PEAK_RSS_MB = f"{MEMORY_PREFIX}worker_peak_rss_mb"
STUDY_SECONDS = "study_seconds"  # a study run's: its stages' span, start to end
STAGES_TRAINED = "stages_trained"  # of its stages, the training stages that ran (not reused)
HOST_CPU_STEAL = "host_cpu_steal"  # over that span, the share of its host's CPU time given to other guests
TRIALS = "trials"  # a Tune search run's trials, and of them those that failed
TRIALS_FAILED = "trials_failed"
BEST_PREFIX = "best/"  # a Tune search run's best trial's metrics

# Per test set (``in_context``, ``out_of_context``, ``test``, a mapped set …): one model's outcome.
EVAL_PREFIX = "eval/"
DS_PREFIX = "ds/"
PROBE_PREFIX = "probe/"
FINETUNE_PREFIX = "finetune/"
LINEAR_PROBE_PREFIX = "linear_probe/"
FEWSHOT_PREFIX = "fewshot/"
OUTCOME_PREFIXES = (EVAL_PREFIX, PROBE_PREFIX, DS_PREFIX, FINETUNE_PREFIX, LINEAR_PROBE_PREFIX, FEWSHOT_PREFIX)
LINEAR_PROBE_ACC = "linear_probe/acc1"  # a linear-probe stage's own test accuracy
LINEAR_PROBE_TRAIN_ACC = "linear_probe/train_acc1"
LINEAR_PROBE_NLL = "linear_probe/nll"  # a Tune trial's per-epoch probe, mean over datasets


def acc(test: str) -> str:
    return f"{EVAL_PREFIX}acc1_{test}"


def ds(test: str) -> str:
    return f"{DYNAMIC_SCORE}_{test}"


def agreement(test: str) -> str:
    return f"{AGREEMENT}_{test}"


def freeze_kl(test: str) -> str:
    return f"{FREEZE_KL}_{test}"


def shuffle_kl(test: str) -> str:
    return f"{SHUFFLE_KL}_{test}"


def finetune_acc(dataset: str) -> str:
    """A model's fine-tuned test accuracy on a downstream dataset (its pretrain run's outcome)."""
    return f"{FINETUNE_PREFIX}{dataset}/acc1"


def linear_probe_acc(dataset: str) -> str:
    return f"{LINEAR_PROBE_PREFIX}{dataset}/acc1"


def linear_probe_nll(dataset: str) -> str:
    return f"{LINEAR_PROBE_PREFIX}{dataset}/nll"


def fewshot_acc(setting: str, dataset: str = "") -> str:
    """A few-shot setting's mean accuracy: ``fewshot/<setting>/acc`` on the few-shot stage's run,
    ``fewshot/<dataset>/<setting>/acc`` among a model's outcomes."""
    return f"{FEWSHOT_PREFIX}{dataset + '/' if dataset else ''}{setting}/acc"


def fewshot_ci95(setting: str, dataset: str = "") -> str:
    return f"{FEWSHOT_PREFIX}{dataset + '/' if dataset else ''}{setting}/ci95"


ACC_IN_CONTEXT, ACC_OUT_OF_CONTEXT = acc("in_context"), acc("out_of_context")
DS_IN_CONTEXT, DS_OUT_OF_CONTEXT = ds("in_context"), ds("out_of_context")
