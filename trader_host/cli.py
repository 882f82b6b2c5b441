"""`regime-trader`: the one command-line entry point. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Iterable, Sequence

# name -> (module with `register(parser)` adding its arguments and setting `func`, one-line help). A module is
# imported only when its command is the one run (or built for a test): `--help` and each command pay only
# for their own imports.
SUBCOMMANDS = {
    "train": (
        "trader_host.commands.train",
        "train the six-model ONNX ensemble and print its walk-forward evaluation",
    ),
    "backtest": (
        "trader_host.commands.backtest",
        "backtest the strategy with each regime source, side by side",
    ),
    "run": ("trader_host.commands.run", "run the live trading host (simulated or IB broker)"),
    "stats": (
        "trader_host.commands.stats",
        "run the Athena queries locally over the lake (folder or bucket)",
    ),
    "report": (
        "trader_host.commands.report",
        "write the HTML analytics report (lake, Athena CSVs or a backtest)",
    ),
    "sweep": ("trader_host.commands.sweep", "walk-forward parameter sweep with PBO and deflated Sharpe"),
    "meta-labels": ("trader_host.commands.meta_labels", "price-shape vs P&L-aligned labels, out of sample"),
    "evaluate": (
        "trader_host.commands.evaluate",
        "score a trained model on data after its training (AUC, log loss, base rates, backtest columns)",
    ),
}
# `demo` is a dev tool (package devkit, never in the wheel the host deploys): offered where devkit is
# importable, as in the repository's environment (`make venv` puts the repository on the path). The host's
# one arrow to devkit, by name only; the import contracts (pyproject.toml) keep the rest of the host off it.
DEV_SUBCOMMANDS = {
    "demo": ("devkit.demo.command", "a simulated trading day through the local cloud (no AWS, no broker)"),
}


def subcommands() -> dict[str, tuple[str, str]]:
    """The subcommands this installation offers: the host's, and the dev tools' where they are installed."""
    dev = {name: entry for name, entry in DEV_SUBCOMMANDS.items() if _importable(entry[0])}
    return {**SUBCOMMANDS, **dev}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is absent
        return False


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The command line; only the subcommands in `commands` (all when None) get their full arguments, the
    others a one-line entry for `--help`."""
    offered = subcommands()
    wanted = set(offered if commands is None else commands)
    parser = argparse.ArgumentParser(prog="regime-trader", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_) in offered.items():
        p = sub.add_parser(name, help=help_)
        if name in wanted:
            importlib.import_module(module).register(p)
    return parser


def _command(argv: Sequence[str]) -> list[str]:
    """The subcommand named on the command line (the first word that is not an option), if any."""
    return [word for word in argv if not word.startswith("-")][:1]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the process exit code."""
    words = sys.argv[1:] if argv is None else argv
    args = build_parser(_command(words)).parse_args(words)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if not args.verbose:
        logging.getLogger("botocore").setLevel(logging.WARNING)  # a line per client and endpoint otherwise
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
