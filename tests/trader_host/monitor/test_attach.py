"""`regime-trader run` serves the monitor and prints its address; 0 disables it; a taken port is reported
and the host trades on; off loopback the printed address carries the token."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from trader_host.cli import main
from trader_host.monitor.access import TOKEN_ENV

RUN = ["run", "--no-cloud", "--regime", "range", "--synthetic-days", "1", "--seed", "3", "--minutes", "30"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main([*RUN, "--state-dir", str(tmp_path), *extra])
    return code, capsys.readouterr().out


def test_run_prints_the_monitor_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    code, out = _run(tmp_path, capsys, "--monitor-port", str(port))
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == f"monitor: http://127.0.0.1:{port}/"  # right after the banner
    assert "session over" in lines[-1]


def test_off_loopback_an_operators_token_is_masked_in_the_address_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The red team (22.7): the operator's token went in full into the `monitor:` line, i.e. the host log.
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment-0123")
    code, out = _run(tmp_path, capsys, "--monitor-port", str(_free_port()), "--monitor-host", "0.0.0.0")
    assert code == 0 and "from-the-environment-0123" not in out
    assert re.search(rf"^monitor: http://\S+:\d+/\?token=\${TOKEN_ENV}$", out, re.M), out


def test_off_loopback_a_generated_token_is_printed_once_in_the_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    code, out = _run(tmp_path, capsys, "--monitor-port", str(_free_port()), "--monitor-host", "0.0.0.0")
    assert code == 0  # nobody else knows it: the address is the only way in
    assert len(re.findall(r"^monitor: http://\S+:\d+/\?token=[A-Za-z0-9_-]{32}$", out, re.M)) == 1, out


def test_port_zero_means_no_monitor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(tmp_path, capsys, "--monitor-port", "0")
    assert code == 0 and "monitor:" not in out


def test_a_taken_port_is_reported_and_the_host_trades_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = _run(tmp_path, capsys, "--monitor-port", str(port))
    assert code == 0
    assert f"monitor: NOT serving (cannot listen on 127.0.0.1:{port}" in out and "session over" in out


def test_bad_monitor_options_are_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        main([*RUN, "--monitor-port", "70000"])
    assert "port must be in 0..65535" in capsys.readouterr().err
    monkeypatch.setenv(TOKEN_ENV, "short")
    code, out = _run(tmp_path, capsys, "--monitor-host", "0.0.0.0")
    assert code == 2 and f"{TOKEN_ENV} must be at least 16 characters" in out
