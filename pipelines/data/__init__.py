"""Decoded splits as video indexes (:mod:`.shards`), clips cut from their rows (:mod:`.cutting`),
in-process loaders of them (:mod:`.clips`) and the Ray Data input of training stages
(:mod:`.ray_ingest`). Import the submodules: :mod:`.shards`, :mod:`.cutting` and
:mod:`.ray_ingest` need no torch."""
