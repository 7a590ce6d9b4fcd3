"""Video backbones: R2D (per-frame 2D ResNet), R3D (Hara et al.) and TSM, at any width."""

from drl_core.models.registry import MODELS, build_model, create_model, list_models
from drl_core.models.video_net import VideoClassifier

__all__ = ["MODELS", "VideoClassifier", "build_model", "create_model", "list_models"]
