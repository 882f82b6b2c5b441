"""The command line pays only for what the chosen command uses: `--help` imports no command module and no
numerical library, and a backtest on fixed regimes does not load the ONNX runtime or the reference engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from trader_host.cli import build_parser, subcommands

HEAVY = ("numpy", "pandas", "numba", "onnxruntime", "sklearn", "boto3")


def _imported_by(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded once `regime-trader argv` has parsed its command line."""
    code = (
        "import sys\n"
        "from trader_host.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_help_imports_no_command_and_no_numerical_library() -> None:
    loaded = _imported_by(["--help"])
    assert not {module for module, _ in subcommands().values()} & loaded
    assert not set(HEAVY) & loaded


def test_a_commands_help_imports_that_command_only() -> None:
    loaded = _imported_by(["backtest", "--help"])
    assert "trader_host.commands.backtest" in loaded
    assert not {m for name, (m, _) in subcommands().items() if name != "backtest"} & loaded
    assert not {"onnxruntime", "numba", "trading_engine.backtest.runner"} & loaded


def test_every_command_is_still_built_for_callers_that_parse_any() -> None:
    parser = build_parser()
    args = parser.parse_args(["backtest", "--regimes", "range"])
    assert args.command == "backtest" and args.regimes == "range"
    with pytest.raises(SystemExit):
        build_parser([]).parse_args(["backtest", "--regimes", "range"])  # not built: no --regimes
