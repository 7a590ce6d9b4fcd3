"""Clip sampling and per-clip draws (NumPy only) and the device-side transform.

Import the submodules directly: ``drl_core.data.clip_sampling`` and ``drl_core.data.draws``
need no torch.
"""
