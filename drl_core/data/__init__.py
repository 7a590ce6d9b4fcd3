"""Clip sampling (adaptive frame rate, NumPy only), clip transforms and an in-memory clip dataset.

Import the submodules directly: ``drl_core.data.clip_sampling`` needs no torch.
"""
