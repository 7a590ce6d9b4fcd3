"""Cost of one training step of each DRL algorithm relative to the supervised baseline.

``python -m pipelines.benchmarks.step_cost [--model r3d18] [--width 8] [--batch 8] [--steps 5]``

All algorithms are timed in one run on the same inputs (after a warm-up step each), so the
ratios compare like with like. Goals: Alg. 3 ≤ 1.6×; Alg. 1 ≤ 2 + 0.6 × FGSM steps.
"""

from __future__ import annotations

import argparse
import time

import torch

from drl_core.algorithms import build_algorithm
from drl_core.config import AlgorithmConfig, ClipConfig, OptimConfig
from drl_core.engine import Precision, make_optimizer
from drl_core.models import create_model


def time_steps(name: str, args: argparse.Namespace, device: torch.device) -> float:
    torch.manual_seed(0)
    cfg = AlgorithmConfig(name=name, attack_steps=args.attack_steps)
    clip = ClipConfig()
    video = create_model(args.model, 10, width=args.width, stem_pool=False)
    spatial = create_model("r2d18", 10, width=args.width, stem_pool=False)
    algo = build_algorithm(cfg, video, spatial, clip.mean, clip.std).to(device).train()
    opt = make_optimizer(algo.parameters(), OptimConfig(lr=0.01))
    x = torch.randn(args.batch, 3, args.frames, args.size, args.size, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    precision = Precision()
    times = []
    for i in range(args.steps + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with precision.autocast(device):
            out = algo(precision.prepare(x, device), y)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="r3d18")
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--attack-steps", type=int, default=5)
    args = p.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    base = time_steps("supervised", args, device)
    print(f"device {device}, {args.model} width {args.width}, batch {args.batch}×3×{args.frames}×{args.size}²")
    print(f"{'algorithm':<20}{'s/step':>10}{'× baseline':>12}{'goal':>10}")
    goals = {"static_inputs": "≤ 1.6", "adversarial": f"≤ {2 + 0.6 * args.attack_steps:.1f}",
             "spatial_adversary": "-", "supervised": "1"}
    for name in ("supervised", "static_inputs", "adversarial", "spatial_adversary"):
        t = base if name == "supervised" else time_steps(name, args, device)
        print(f"{name:<20}{t:>10.4f}{t / base:>12.2f}{goals[name]:>10}")


if __name__ == "__main__":
    main()
