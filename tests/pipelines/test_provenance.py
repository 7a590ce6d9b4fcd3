"""The tags that say what a run was made with: software versions and the kernels it computed on."""

from importlib import metadata

import torch

from pipelines.provenance import KERNEL_ENV, PACKAGES, cpu_model, kernels, software


def test_software_names_the_interpreter_and_every_package_with_its_installed_version():
    parts = software().split("; ")
    assert parts[0].startswith("python 3.")
    named = dict(p.split(" ", 1) for p in parts[1:])
    assert list(named) == list(PACKAGES)
    assert named["torch"] == metadata.version("torch") and named["pyarrow"] == metadata.version("pyarrow")


def test_software_says_absent_for_a_package_not_installed(monkeypatch):
    monkeypatch.setattr("pipelines.provenance.PACKAGES", ("torch", "no-such-package-drl"))
    assert software().endswith(f"; torch {metadata.version('torch')}; no-such-package-drl absent")


def test_cpu_kernels_name_the_cpu_the_kernel_set_the_threads_and_a_pinned_kernel_variable(monkeypatch):
    for name in KERNEL_ENV:
        monkeypatch.delenv(name, raising=False)
    threads = torch.get_num_threads()
    capability = torch.backends.cpu.get_cpu_capability()
    assert kernels(torch.device("cpu")) == f"cpu: {cpu_model()}, {capability} kernels, {threads} threads"
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    assert kernels(torch.device("cpu")).endswith(" threads (ONEDNN_MAX_CPU_ISA=AVX2, MKL_CBWR=COMPATIBLE)")
