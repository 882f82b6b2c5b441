"""`regime-trader`: the one command-line entry point. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

# name -> module with `register(subparsers)`; each module adds its parser and sets `func`.
SUBCOMMANDS = {
    "train": "trader_host.commands.train",
    "backtest": "trader_host.commands.backtest",
    "run": "trader_host.commands.run",
    "stats": "trader_host.commands.stats",
    "report": "trader_host.commands.report",
    "sweep": "trader_host.commands.sweep",
    "meta-labels": "trader_host.commands.meta_labels",
}
# `demo` is a dev tool (package devkit, never in the wheel the host deploys): offered where devkit is
# importable, as in the repository's environment (`make venv` puts the repository on the path). The host's
# one arrow to devkit, by name only; the import contracts (pyproject.toml) keep the rest of the host off it.
DEV_SUBCOMMANDS = {"demo": "devkit.demo.command"}


def subcommands() -> dict[str, str]:
    """The subcommands this installation offers: the host's, and the dev tools' where they are installed."""
    dev = {name: module for name, module in DEV_SUBCOMMANDS.items() if _importable(module)}
    return {**SUBCOMMANDS, **dev}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is absent
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regime-trader", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in subcommands().values():
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if not args.verbose:
        logging.getLogger("botocore").setLevel(logging.WARNING)  # a line per client and endpoint otherwise
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
