"""Shards → torch datasets and loaders for the training stages."""

from pipelines.data.loaders import ShardData, clip_loader, load_split

__all__ = ["ShardData", "clip_loader", "load_split"]
