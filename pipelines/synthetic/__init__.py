"""The built-in synthetic benchmark: real H.264 videos whose classes differ only in motion."""

from pipelines.synthetic.generate import GeneratedBenchmark, generate_benchmark

__all__ = ["GeneratedBenchmark", "generate_benchmark"]
