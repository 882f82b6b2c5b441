"""`regime-trader`: the one command-line entry point. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence
from typing import Any

# name -> module with `register(subparsers)`; each module adds its parser and sets `func`.
SUBCOMMANDS = {
    "train": "trader_host.commands.train",
    "backtest": "trader_host.commands.backtest",
    "run": "trader_host.commands.run",
    "stats": "trader_host.commands.stats",
    "report": "trader_host.commands.report",
    "sweep": "trader_host.commands.sweep",
    "meta-labels": "trader_host.commands.meta_labels",
    "publish-model": "trader_host.commands.publish_model",
}

# name -> (the one-line summary of `regime-trader --help`, an example for the command's own --help). The
# top-level help then imports no command module: those pull in numpy, onnxruntime, boto3.
SUMMARIES = {
    "train": (
        "train the six-model ONNX ensemble and print its walk-forward evaluation",
        "regime-trader train --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --end 2026-02-10 "
        "--out artifacts/mcl",
    ),
    "demo": (
        "a simulated trading day through the local cloud (no AWS, no broker)",
        "regime-trader demo --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --start 2026-02-10",
    ),
    "backtest": (
        "backtest the strategy with each regime source, side by side",
        "regime-trader backtest --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --start 2026-02-10 "
        "--model artifacts/mcl/ensemble.onnx --fees retail",
    ),
    "run": (
        "run the live trading host (simulated or IB broker)",
        "regime-trader run --stack-outputs build/local-cloud/state.json --regime trend --pace 60",
    ),
    "stats": (
        "run the Athena queries locally over the lake (folder or bucket)",
        "regime-trader stats --lake ./lake --query pnl_by_regime",
    ),
    "report": (
        "write the HTML analytics report (lake, Athena CSVs or a backtest)",
        "regime-trader report --backtest --synthetic-days 5 --out report.html",
    ),
    "sweep": (
        "walk-forward parameter sweep with PBO and deflated Sharpe",
        "regime-trader sweep --synthetic-days 20 --folds 2 --grid z_thresh=1.5,2,2.5 --out state/sweep",
    ),
    "meta-labels": (
        "price-shape vs P&L-aligned labels, out of sample",
        "regime-trader meta-labels --bars ../shared/data/MES_1m_2023.csv --split 2023-10-01",
    ),
    "publish-model": (
        "upload a trained ensemble to a stack and point its regime function at it",
        "regime-trader publish-model --stack build/local-cloud/state.json --model artifacts/model",
    ),
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


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown where there is one to show (not None, not a flag's False, not already in the text)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


class _Subcommands:
    """The subparsers as a command's `register` sees them: each parser shows its defaults and an example."""

    def __init__(self, action: Any) -> None:
        self._action = action

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("formatter_class", HelpFormatter)
        if name in SUMMARIES:
            kwargs.setdefault("help", SUMMARIES[name][0])
            kwargs.setdefault("epilog", f"example:\n  {SUMMARIES[name][1]}")
        parser: argparse.ArgumentParser = self._action.add_parser(name, **kwargs)
        return parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given `argv`, only the chosen command's module is imported (the others' help
    lines come from SUMMARIES), so that `--help` and a command's start do not import every command."""
    parser = argparse.ArgumentParser(
        prog="regime-trader",
        description="An ML regime ensemble and a z-score trigger for crude-oil futures: train, backtest, "
        "run the host, query the lake. A mistake in the input is one line and exit 2; Ctrl-C exits 130.",
        formatter_class=HelpFormatter,
        epilog="`regime-trader COMMAND --help` shows a command's options, their defaults and an example.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = _Subcommands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    offered = subcommands()
    chosen = None if argv is None else next((a for a in argv if a in offered), None)
    for name, module in offered.items():
        if argv is not None and name != chosen and name in SUMMARIES:
            sub.add_parser(name)
        else:
            importlib.import_module(module).register(sub)
    return parser


class _Version(argparse.Action):
    """--version, the package metadata read only when asked (importlib.metadata would cost every --help)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("regime-trader")
    except PackageNotFoundError:  # run from a checkout without installing
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if not args.verbose:
        logging.getLogger("botocore").setLevel(logging.WARNING)  # a line per client and endpoint otherwise
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"regime-trader {args.command}: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as exc:
        from trader_host.commands.user_error import input_errors

        if not isinstance(exc, input_errors()):
            raise
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"regime-trader {args.command}: {text}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
