"""The study's DAG, built from its config: which stages exist and what each reads.

generate → decode (every split) → pretrain baseline → DRL phase per algorithm (+ continued
control) → per model: evaluate (source tests and ``data.evaluation`` sets), dynamic score,
fine-tune and linear probe per downstream dataset, few-shot per ``data.fewshot`` dataset → report.
"""

from __future__ import annotations

import dataclasses

from drl_core.config import AlgorithmConfig, ModelConfig
from pipelines.config.resources import ResourcesConfig
from pipelines.config.schema import SYNTHETIC, DatasetConfig, StudyConfig
from pipelines import names
from pipelines.names import BASELINE, CONTINUED
from pipelines.stages.base import StageSpec
from pipelines.stages.decode import DecodeStage
from pipelines.stages.evaluate import EvaluateStage
from pipelines.stages.fewshot import FewShotStage, setting
from pipelines.stages.linear_probe import LinearProbeStage
from pipelines.stages.report import ReportStage
from pipelines.train.job import TrainJob

STATIC = DatasetConfig(name="synth_static", reader=SYNTHETIC, test_split="test", ooc_split="")  # the static task
NO_CPU = {"num_cpus": 0}  # coordinating tasks: Ray Train and Ray Data reserve the real resources
TRAIN = {"resources": NO_CPU, "pool": "train"}
SPATIAL_ALGORITHMS = ("adversarial", "spatial_adversary")  # the DRL algorithms with a spatial model


def decode_name(ds: DatasetConfig, split: str) -> str:
    return names.decode_stage(ds.name, split)


def source_tests(cfg: StudyConfig) -> tuple[tuple[str, str], ...]:
    """(name, split) of the source's test sets: in context, and out of context if it has one."""
    src = cfg.data.source
    return (("in_context", src.test_split),) + ((("out_of_context", src.ooc_split),) if src.ooc_split else ())


def decoded_splits(cfg: StudyConfig) -> dict[str, tuple[DatasetConfig, str]]:
    """Every split the study reads, once, by decode-stage name."""
    src, data = cfg.data.source, cfg.data
    pairs = [(src, s) for s in (src.train_split, *(s for _, s in source_tests(cfg)))]
    pairs += [(d, s) for d in data.downstream for s in (d.train_split, d.test_split)]
    pairs += [(d, d.test_split) for d in (*data.fewshot, *data.evaluation)]
    if static_models(cfg):
        pairs += [(STATIC, STATIC.train_split), (STATIC, STATIC.test_split)]
    return {decode_name(d, s): (d, s) for d, s in pairs}


def static_name(model: ModelConfig) -> str:
    """The stage that pretrains the spatial architecture ``model`` on the static task."""
    return names.static_stage(f"{model.name}-w{model.width}" + ("-pool" if model.stem_pool else ""))


def static_models(cfg: StudyConfig) -> dict[str, ModelConfig]:
    """Stage name → spatial architecture, for each spatial model that starts from the static
    task (``spatial_init.mode: static`` on the built-in benchmark, and no ``checkpoint`` file)."""
    if cfg.spatial_init.mode != "static" or cfg.data.source.reader != SYNTHETIC:
        return {}
    models = [cfg.dynamic_score.spatial]
    if any(a in SPATIAL_ALGORITHMS for a in cfg.drl.algorithms):
        models.append(cfg.algorithm.spatial)
    return {static_name(m): dataclasses.replace(m, dropout=0.0) for m in models if not m.checkpoint}


def static_stages(cfg: StudyConfig) -> list[StageSpec]:
    """One cached stage per spatial architecture: supervised training on the static task."""
    deps = (("train", decode_name(STATIC, STATIC.train_split)), ("test", decode_name(STATIC, STATIC.test_split)))
    return [StageSpec(name, "train", TrainJob("classify", "train", model, cfg.spatial_init.optim, cfg.pretrain.clip,
                                              AlgorithmConfig(name="supervised"), (("test", "test"),), seed=cfg.seed,
                                              **job_resources(cfg.resources)), deps, **TRAIN)
            for name, model in static_models(cfg).items()]


def spatial_start(cfg: StudyConfig, job: TrainJob, model: ModelConfig) -> tuple[TrainJob, tuple]:
    """``job`` and its extra inputs: its spatial ``model`` starts from the static stage, if any."""
    name = static_name(model)
    if name not in static_models(cfg) or model.checkpoint:
        return job, ()
    return dataclasses.replace(job, spatial_init="spatial_init"), (("spatial_init", name),)


def data_stages(cfg: StudyConfig) -> list[StageSpec]:
    specs = []
    deps: tuple = ()
    if cfg.data.synthetic:
        specs.append(StageSpec(names.GENERATE, "generate", cfg.benchmark, resources={"num_cpus": 1}))
        deps = (("benchmark", names.GENERATE),)
    for name, (ds, split) in decoded_splits(cfg).items():
        specs.append(StageSpec(name, "decode", DecodeStage(cfg.decode_of(ds), ds, split),
                               deps if ds.reader == "synthetic" else (), always_run=True, resources=NO_CPU))
    return specs


def job_resources(res: ResourcesConfig) -> dict:
    """The TrainJob fields that come from the ``resources`` block."""
    return {"inference_stream": res.worker_inference_stream(), "data_cpus": res.data_cpus,
            "videos_per_task": res.videos_per_task, "data_tasks": res.data_tasks,
            "deterministic": res.deterministic, "workers": res.num_workers, "ingest": res.ingest_mode()}


def pretrain_stages(cfg: StudyConfig) -> list[StageSpec]:
    """The baseline, then each DRL algorithm (and the continued control) as the config says."""
    train = (("train", decode_name(cfg.data.source, cfg.data.source.train_split)),)
    p = cfg.pretrain
    base = TrainJob("classify", "train", p.model, p.optim, p.clip, AlgorithmConfig(name="supervised"), seed=cfg.seed,
                    **job_resources(cfg.resources))
    # In a second-phase study every other training stage waits for the baseline: it runs alone,
    # but for the static-task pretraining, which may run beside it.
    beside = len(static_models(cfg)) * cfg.resources.cpus_per_worker * cfg.resources.num_workers
    specs = [StageSpec(names.pretrain_stage(BASELINE), "train",
                       dataclasses.replace(base, alone=cfg.drl.mode == "second_phase", beside=beside), train, **TRAIN)]
    if cfg.drl.mode == "from_scratch":
        for name in cfg.drl.algorithms:
            job = dataclasses.replace(base, algorithm=dataclasses.replace(cfg.algorithm, name=name))
            job, extra = spatial_start(cfg, job, cfg.algorithm.spatial) if name in SPATIAL_ALGORITHMS else (job, ())
            specs.append(StageSpec(names.pretrain_stage(name), "train", job, train + extra, **TRAIN))
        return specs
    phase = dataclasses.replace(base, optim=cfg.drl.optim, init="baseline")
    deps = train + (("baseline", names.pretrain_stage(BASELINE)),)
    if cfg.drl.control:
        specs.append(StageSpec(names.pretrain_stage(CONTINUED), "train", phase, deps, **TRAIN))
    for name in cfg.drl.algorithms:
        job = dataclasses.replace(phase, algorithm=dataclasses.replace(cfg.algorithm, name=name))
        job, extra = spatial_start(cfg, job, cfg.algorithm.spatial) if name in SPATIAL_ALGORITHMS else (job, ())
        specs.append(StageSpec(names.pretrain_stage(name), "train", job, deps + extra, **TRAIN))
    return specs


def model_stages(cfg: StudyConfig, model: str) -> list[StageSpec]:
    """Evaluate, dynamic score, and per downstream dataset fine-tune and linear probe."""
    src, res = cfg.data.source, cfg.resources
    eval_res = {"num_cpus": res.eval_cpus, "num_gpus": 1 if res.use_gpu else 0}
    tests = tuple((name, name) for name, _ in source_tests(cfg))
    test_deps = tuple((name, decode_name(src, split)) for name, split in source_tests(cfg))
    mapped = tuple((d.name, d.name) for d in cfg.data.evaluation)
    mapped_deps = tuple((d.name, decode_name(d, d.test_split)) for d in cfg.data.evaluation)
    weights = (("model", names.pretrain_stage(model)),)
    mapped_clips = tuple((d.name, d.test_clip) for d in cfg.data.evaluation if d.test_clip)
    evaluate = EvaluateStage(cfg.pretrain.clip, res.inference_stream(), tests, mapped, mapped_clips)
    specs = [StageSpec(names.evaluate_stage(model), "evaluate", evaluate, weights + test_deps + mapped_deps,
                       resources=eval_res, data_cpus=res.inference_cpus())]
    ds = cfg.dynamic_score
    distill = TrainJob("distill", "train", ds.spatial, ds.optim, cfg.pretrain.clip,
                       AlgorithmConfig(temperature=ds.temperature), eval_splits=tests,
                       teacher="model", seed=cfg.seed, **job_resources(res))
    distill, extra = spatial_start(cfg, distill, ds.spatial)
    specs.append(StageSpec(names.ds_stage(model), "train", distill,
                           weights + (("train", decode_name(src, src.train_split)),) + test_deps + extra, **TRAIN))
    for d in cfg.data.downstream:
        splits = (("train", decode_name(d, d.train_split)), ("test", decode_name(d, d.test_split)))
        tune = TrainJob("classify", "train", cfg.pretrain.model, d.finetune or cfg.finetune.optim, cfg.finetune_clip,
                        AlgorithmConfig(name="supervised"), (("test", "test"),), init="model", reset_head=True,
                        seed=cfg.seed, test_clip=d.test_clip, **job_resources(res))
        specs.append(StageSpec(names.finetune_stage(model, d.name), "train", tune, weights + splits, **TRAIN))
        probe = LinearProbeStage(cfg.linear_probe, cfg.test_clip_of(d), res.inference_stream())
        specs.append(StageSpec(names.linear_probe_stage(model, d.name), "linear_probe", probe, weights + splits,
                               resources=eval_res, data_cpus=res.inference_cpus()))
    for d in cfg.data.fewshot:
        fewshot = FewShotStage(cfg.fewshot, cfg.test_clip_of(d), res.inference_stream())
        specs.append(StageSpec(names.fewshot_stage(model, d.name), "fewshot", fewshot,
                               weights + (("test", decode_name(d, d.test_split)),), resources=eval_res, data_cpus=res.inference_cpus()))
    return specs


def model_names(cfg: StudyConfig) -> list[str]:
    control = [CONTINUED] if cfg.drl.mode == "second_phase" and cfg.drl.control else []
    return [BASELINE, *control, *cfg.drl.algorithms]


def build_study(cfg: StudyConfig) -> list[StageSpec]:
    """Every stage of the study, each after the stages it reads."""
    specs = data_stages(cfg) + static_stages(cfg) + pretrain_stages(cfg)
    models = model_names(cfg)
    per_model = [spec for model in models for spec in model_stages(cfg, model)]
    # The runner launches ready stages in this order, so within the training pool it is their
    # priority: every model's dynamic score (the longer stage) before the fine-tunings, so that
    # the last DRL model's distillation does not start behind every other model's fine-tuning.
    early = (names.EVALUATE, names.DYNAMIC_SCORE)
    specs += [s for s in per_model if names.kind(s.name) in early]
    specs += [s for s in per_model if names.kind(s.name) not in early]
    data = cfg.data
    report = ReportStage(cfg.report, tuple(models), tuple(d.name for d in data.downstream),
                         tuple(name for name, _ in source_tests(cfg)), tuple(d.name for d in data.fewshot),
                         tuple(setting(cfg.fewshot.ways, k) for k in cfg.fewshot.shots),
                         tuple(d.name for d in data.evaluation), cfg.drl.mode == "second_phase")
    deps = tuple((s.name, s.name) for s in specs if s.kind in ("train", "evaluate", "linear_probe", "fewshot"))
    specs.append(StageSpec(names.REPORT, "report", report, deps, resources={"num_cpus": 1}))
    return specs
