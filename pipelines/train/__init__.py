"""Every training stage's one code path: a :class:`TrainJob` run by Ray Train's TorchTrainer."""

from pipelines.train.job import TrainJob

__all__ = ["TrainJob"]
