"""The decode stage: video files → Arrow/Parquet clip shards (``python -m pipelines.decode``)."""
