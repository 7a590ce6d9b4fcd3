"""Decoded splits as video indexes (:mod:`.shards`), clips cut from their rows (:mod:`.clips`)
and the Ray Data input of training stages (:mod:`.ray_ingest`)."""

from pipelines.data.clips import test_loader, train_loader
from pipelines.data.shards import SplitIndex, open_split

__all__ = ["SplitIndex", "open_split", "test_loader", "train_loader"]
