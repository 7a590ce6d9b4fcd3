"""MLflow tag names, spelled once: every module that writes or reads a run's tag imports it from here.

The study's runs carry these tags; the report, the seed tables, the MLflow compare view and the
Tune callbacks select and group runs by them.
"""

# Which study a run belongs to (every run of an output folder).
OUTPUT_DIR = "drl.output_dir"
# Searches select a folder's runs by this hash of its path: an MLflow filter string cannot quote
# every path (an apostrophe in it breaks the filter, whatever the escaping).
OUTPUT_KEY = "drl.output_key"

# A stage's run.
STAGE = "drl.stage"  # its stage name (pipelines.names)
KIND = "drl.kind"  # the stage's kind; "tune" and "tune_trial" for a search and its trials
KEY = "drl.key"  # its content key: the stage folder's name
CACHED = "drl.cached"  # "true": the stage was reused, not run
STAGE_DIR = "drl.stage_dir"  # a reused stage's folder
MODEL = "drl.model"  # a trained model's name (baseline, continued, adversarial, ...)
ROLE = "drl.role"  # that model's role in the study
KERNELS = "drl.kernels"  # what a training stage computed on: device, CPU kernels, threads
NOTE = "drl.note"  # why a run ended as it did, where the study had to close it

# A study's (driver's) run.
SMOKE = "drl.smoke"
COMMAND = "drl.command"  # the driver's command line
MACHINE = "drl.machine"  # the Ray cluster's CPUs and GPUs, the driver host's CPU
SOFTWARE = "drl.software"  # the versions and CPU kernels that decide a CPU run's bits

# Tune.
SEARCH = "drl.search"  # a search's name
TRIAL_ID = "drl.trial_id"
TRIAL_STATE = "drl.trial_state"
ALGORITHM = "drl.algorithm"  # the algorithm a search tunes
KIND_SEARCH, KIND_TRIAL = "tune", "tune_trial"  # the KIND of a search's run and of its trials' runs
