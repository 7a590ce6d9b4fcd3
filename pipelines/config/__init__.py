"""Typed study configuration: YAML into frozen dataclasses, strictly checked."""

from pipelines.config.loader import ConfigError, from_dict, load_config, to_dict
from pipelines.config.schema import (
    BenchmarkConfig,
    CalibrationConfig,
    DecodeConfig,
    StudyConfig,
)

__all__ = [
    "BenchmarkConfig",
    "CalibrationConfig",
    "ConfigError",
    "DecodeConfig",
    "StudyConfig",
    "from_dict",
    "load_config",
    "to_dict",
]
