"""`regime-trader`: the one command-line entry point. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple


class Subcommand(NamedTuple):
    """A subcommand: its module (with `register(parser)` adding its arguments and setting `func`), the
    one-line summary of `regime-trader --help`, and an example for the command's own `--help`."""

    module: str
    summary: str
    example: str


# A module is imported only when its command is the one run (or built for a test): `--help` and each
# command pay only for their own imports (numpy, onnxruntime, boto3 ...).
SUBCOMMANDS = {
    "train": Subcommand(
        "trader_host.commands.train",
        "train the six-model ONNX ensemble and print its walk-forward evaluation",
        "regime-trader train --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --end 2026-02-10 "
        "--out artifacts/mcl",
    ),
    "evaluate": Subcommand(
        "trader_host.commands.evaluate",
        "score a trained model on data after its training (AUC, log loss, base rates, backtest columns)",
        "regime-trader evaluate --model artifacts/mcl/ensemble.onnx "
        "--bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --start 2026-02-10",
    ),
    "backtest": Subcommand(
        "trader_host.commands.backtest",
        "backtest the strategy with each regime source, side by side",
        "regime-trader backtest --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --start 2026-02-10 "
        "--model artifacts/mcl/ensemble.onnx --fees retail",
    ),
    "sweep": Subcommand(
        "trader_host.commands.sweep",
        "walk-forward parameter sweep with PBO and deflated Sharpe, and a held-out test set",
        "regime-trader sweep --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --test-start 2026-02-10 "
        "--grid z_thresh=1.5,2,2.5 --regime range --out state/sweep",
    ),
    "meta-labels": Subcommand(
        "trader_host.commands.meta_labels",
        "price-shape vs P&L-aligned labels, out of sample",
        "regime-trader meta-labels --bars ../shared/data/MES_1m_2023.csv --split 2023-10-01",
    ),
    "run": Subcommand(
        "trader_host.commands.run",
        "run the live trading host (simulated or IB broker)",
        "regime-trader run --stack-outputs build/local-cloud/state.json --regime trend --pace 60",
    ),
    "stats": Subcommand(
        "trader_host.commands.stats",
        "run the Athena queries locally over the lake (folder or bucket)",
        "regime-trader stats --lake ./lake --query pnl_by_regime",
    ),
    "report": Subcommand(
        "trader_host.commands.report",
        "write the HTML analytics report (lake, Athena CSVs or a backtest)",
        "regime-trader report --backtest --synthetic-days 5 --out report.html",
    ),
    "publish-model": Subcommand(
        "trader_host.commands.publish_model",
        "upload a trained ensemble to a stack and point its regime function at it",
        "regime-trader publish-model --stack build/local-cloud/state.json --model artifacts/model",
    ),
}
# `demo` is a dev tool (package devkit, never in the wheel the host deploys): offered where devkit is
# importable, as in the repository's environment (`make venv` puts the repository on the path). The host's
# one arrow to devkit, by name only; the import contracts (pyproject.toml) keep the rest of the host off it.
DEV_SUBCOMMANDS = {
    "demo": Subcommand(
        "devkit.demo.command",
        "a simulated trading day through the local cloud (no AWS, no broker)",
        "regime-trader demo --bars ../shared/data/MCL_1m_2026-01-15_2026-02-27.csv --start 2026-02-10",
    ),
}


def subcommands() -> dict[str, Subcommand]:
    """The subcommands this installation offers: the host's, and the dev tools' where they are installed."""
    dev = {name: entry for name, entry in DEV_SUBCOMMANDS.items() if _importable(entry.module)}
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


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The command line; only the subcommands in `commands` (all when None) get their full arguments, the
    others a one-line entry for `--help`."""
    offered = subcommands()
    wanted = set(offered if commands is None else commands)
    parser = argparse.ArgumentParser(
        prog="regime-trader",
        description="An ML regime ensemble and a z-score trigger for crude-oil futures: train, backtest, "
        "run the host, query the lake. A mistake in the input is one line and exit 2; Ctrl-C exits 130.",
        formatter_class=HelpFormatter,
        epilog="`regime-trader COMMAND --help` shows a command's options, their defaults and an example.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, entry in offered.items():
        p = sub.add_parser(
            name, help=entry.summary, formatter_class=HelpFormatter, epilog=f"example:\n  {entry.example}"
        )
        if name in wanted:
            importlib.import_module(entry.module).register(p)
    return parser


def _command(argv: Sequence[str]) -> list[str]:
    """The subcommand named on the command line (the first word that is not an option), if any."""
    return [word for word in argv if not word.startswith("-")][:1]


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
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command(words)).parse_args(words)
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
