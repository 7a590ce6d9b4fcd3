"""The drl command: one entry point for the study's tools.

``drl study``, ``drl tune``, ``drl decode``, ``drl score``, ``drl report``, ``drl calibrate`` and
``drl diff``; each takes ``--help``. The subcommand's own arguments follow it, as its module
takes them (``drl study --smoke`` is ``python pipelines/full_study.py --smoke``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand → (module whose main(argv) runs it, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "study": ("pipelines.full_study", "run the study: decode, pretrain, DRL, dynamic scores, transfer, report"),
    "tune": ("pipelines.tune_drl", "Ray Tune over the DRL weights (alpha, beta, lambda)"),
    "decode": ("pipelines.decode.__main__", "decode one split of a dataset into shards"),
    "score": ("pipelines.score", "the dynamic score of one model on a decoded split"),
    "report": ("pipelines.report.results", "the seed-averaged results page of one or more study folders"),
    "calibrate": ("pipelines.calibrate", "check the built-in benchmark's bias and the default study's regime"),
    "diff": ("pipelines.report.bit_diff", "whether two study output folders hold the same results, to the bit"),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="drl", description=__doc__.splitlines()[0],
                                epilog="Run `drl COMMAND --help` for a command's own options.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, text) in COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args, rest = parser().parse_known_args(argv[:1])
    module = importlib.import_module(COMMANDS[args.command][0])
    saved = sys.argv[0]
    sys.argv[0] = f"drl {args.command}"  # the subcommand's argparse names itself after argv[0]
    try:
        return int(module.main(rest + argv[1:]) or 0)
    finally:
        sys.argv[0] = saved


if __name__ == "__main__":
    raise SystemExit(main())
