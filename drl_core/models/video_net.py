"""The classifier wrapper every backbone shares: multi-clip consensus and exposed features."""

from __future__ import annotations

import torch
from torch import nn


class VideoClassifier(nn.Module):
    """A backbone that pools clips to features, followed by a linear head.

    Args:
        backbone: maps clips B×C×T×H×W to pooled features B×D; must expose ``out_dim``.
        num_classes: width of the linear head.
        dropout: dropout probability on the pooled features before the head (training only;
            the reference's video models use 0.5). It holds no weights, so state dicts match.
    """

    def __init__(self, backbone: nn.Module, num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(backbone.out_dim, num_classes)

    @property
    def feature_dim(self) -> int:
        return self.fc.in_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features: B×C×T×H×W → B×D, or B×N×C×T×H×W → B×D averaged over N clips."""
        if x.dim() == 6:
            b, n = x.shape[:2]
            return self.backbone(x.flatten(0, 1)).view(b, n, -1).mean(1)
        if x.dim() != 5:
            raise ValueError(f"expected clips B×C×T×H×W or B×N×C×T×H×W, got shape {tuple(x.shape)}")
        return self.backbone(x)

    def forward(self, x: torch.Tensor, return_features: bool = False, per_clip: bool = False):
        """Logits B×K. With N clips (B×N×C×T×H×W), the logits of the clips are averaged.

        With ``return_features``, returns ``(logits, features)`` with features B×D, or with
        ``per_clip`` B×N×D, each clip's own (N = 1 for B×C×T×H×W); their mean over N is the B×D.
        """
        if x.dim() == 6:
            b, n = x.shape[:2]
            clips = self.backbone(x.flatten(0, 1))
            logits = self.fc(self.dropout(clips)).view(b, n, -1).mean(1)
            feats = clips.view(b, n, -1)
            feats = feats if per_clip else feats.mean(1)
        else:
            feats = self.forward_features(x)
            logits = self.fc(self.dropout(feats))
            feats = feats.unsqueeze(1) if per_clip else feats
        return (logits, feats) if return_features else logits
