"""The command line's manners: it pays only for what the chosen command uses (`--help` imports no command
module and no numerical library); a mistake is one line and exit 2; --version; help with defaults and an
example; Ctrl-C exits 130."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from trader_host.cli import build_parser, main, subcommands

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
    assert not {entry.module for entry in subcommands().values()} & loaded
    assert not set(HEAVY) & loaded


def test_a_commands_help_imports_that_command_only() -> None:
    loaded = _imported_by(["backtest", "--help"])
    assert "trader_host.commands.backtest" in loaded
    assert not {e.module for name, e in subcommands().items() if name != "backtest"} & loaded
    assert not {"onnxruntime", "numba", "trading_engine.backtest.runner"} & loaded


def test_every_command_is_still_built_for_callers_that_parse_any() -> None:
    parser = build_parser()
    args = parser.parse_args(["backtest", "--regimes", "range"])
    assert args.command == "backtest" and args.regimes == "range"
    with pytest.raises(SystemExit):
        build_parser([]).parse_args(["backtest", "--regimes", "range"])  # not built: no --regimes


GOOD_ROW = "2026-02-10T14:00:00Z,70.00,70.05,69.95,70.01,10\n"
HEADER = "ts_utc,open,high,low,close,volume\n"


def _regime_trader(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trader_host.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_bad_input_to_backtest_is_one_line_and_exit_2(tmp_path: Path) -> None:
    # Each gave a traceback (IsADirectoryError, InvalidProtobuf, OverflowError in the tape) or, for the bar
    # in year 9999, ran on with the sim clock moved there.
    (tmp_path / "MCL_huge.csv").write_text(HEADER + GOOD_ROW + "2026-02-10T14:01:00Z,70,1e300,70,1e300,10\n")
    (tmp_path / "MCL_9999.csv").write_text(HEADER + GOOD_ROW + "9999-02-10T14:01:00Z,70,70,70,70,10\n")
    (tmp_path / "model.onnx").write_text("not a model")
    (tmp_path / "MCL_good.csv").write_text(HEADER + GOOD_ROW)
    cases = {
        "a directory": (["--bars", str(tmp_path)], f"{tmp_path}: not a file"),
        "a non-ONNX model": (
            ["--bars", str(tmp_path / "MCL_good.csv"), "--model", str(tmp_path / "model.onnx")],
            "not an ONNX model",
        ),
        "a 1e300 price": (["--bars", str(tmp_path / "MCL_huge.csv")], "MCL_huge.csv row 3: high 1e+300"),
        "a bar in 9999": (["--bars", str(tmp_path / "MCL_9999.csv")], "MCL_9999.csv row 3: ts 9999-02-10"),
    }
    running = {what: _regime_trader("backtest", *args) for what, (args, _) in cases.items()}  # at once
    for what, process in running.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 2, (what, out, err)
        assert "Traceback" not in err + out, what
        errors = [line for line in err.splitlines() if cases[what][1] in line]
        assert len(errors) == 1, (what, err)


def test_help_imports_no_command_and_shows_every_one() -> None:
    # `--help` imported every command module (numpy, onnxruntime, boto3): seconds, where it should print at
    # once. Run in a fresh interpreter so that nothing this test process imported counts.
    probe = (
        "import sys\nfrom trader_host.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'boto3', 'onnxruntime', 'trader_host.commands.run')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    for name, entry in subcommands().items():
        assert name in out and entry.summary.split()[0] in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("regime-trader ")


@pytest.mark.parametrize("command", list(subcommands()))
def test_each_command_help_shows_its_defaults_and_an_example(command: str) -> None:
    parser = build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices[command].format_help()
    assert f"example:\n  regime-trader {command}" in text
    if command in ("train", "backtest", "demo"):
        assert "(default: " in text
    assert "(default: None)" not in text and "(default: False)" not in text
    # The example parses.
    example = subcommands()[command].example.split()[1:]
    build_parser(example[:1]).parse_args(example)


def test_a_user_error_anywhere_is_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "MCL_header.csv").write_text(HEADER)
    assert main(["demo", "--start", "2026-02-10"]) == 2  # synthetic sessions have no dates
    assert main(["demo", "--bars", str(tmp_path / "MCL_header.csv"), "--start", "2026-02-10"]) == 2
    (tmp_path / "MCL_good.csv").write_text(HEADER + GOOD_ROW)
    assert main(["demo", "--bars", str(tmp_path / "MCL_good.csv"), "--start", "2027-01-01"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "regime-trader demo: --start picks the first day of a --bars file; synthetic sessions have no dates",
        "regime-trader demo: MCL_header.csv: no bars (0 data rows)",
        f"regime-trader demo: {tmp_path / 'MCL_good.csv'}: no bars from --start 2027-01-01 00:00 and before "
        "--end 2027-01-02 00:00; the file holds 2026-02-10 14:00 to 2026-02-10 14:00 UTC",
    ]


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import trader_host.commands.stats as stats

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(stats, "run", interrupted)
    assert main(["stats", "--lake", "."]) == 130
    assert capsys.readouterr().err == "regime-trader stats: interrupted\n"
