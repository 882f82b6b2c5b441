"""The host's systemd units parse (systemd-analyze verify on a root laid out as the boot script lays the
instance out, plus a structured check), restart as the runbook says, and run commands that exist:
`regime-trader run` options of trader_host/commands/run.py, `python -m infra.host.ibc_credentials`
options, and the bundle's own scripts."""

from __future__ import annotations

import argparse
import configparser
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from infra.host import ibc_credentials
from infra.host.bundle import CONTENTS
from infra.template_yaml import REPO
from trader_host.cli import build_parser

HOST = REPO / "infra" / "host"
UNITS = sorted((HOST / "systemd").glob("*.service"))
INSTALLED = Path("/opt/regime-trader/host")  # where the user data unpacks the bundle
VENV_BIN = Path("/opt/regime-trader/venv/bin")
# Values the user data writes to host.env (paper, client 1), to expand the command lines.
ENV = {
    "IB_SECRET_ID": "arn:aws:secretsmanager:us-east-1:123456789012:secret:login",
    "IB_PORT": "4002",
    "IB_CLIENT_ID": "1",
    "IB_LIVE_FLAG": "",
    "CLOUD_STACK": "regime-trader-dev",
}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def command(line: str) -> list[str]:
    """A unit's command line as systemd runs it with ENV: ${X} one word, $X split into zero or more."""
    words: list[str] = []
    for word in shlex.split(line):
        if word.startswith("$") and not word.startswith("${"):
            words += ENV[word[1:]].split()
        else:
            for key, value in ENV.items():
                word = word.replace("${" + key + "}", value)
            words.append(word)
    return words


def console_scripts() -> set[str]:
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"])


def test_the_units_are_the_two_the_bundle_installs() -> None:
    assert [u.name for u in UNITS] == ["ibgateway.service", "regime-trader.service"]
    assert {f"systemd/{u.name}" for u in UNITS} <= set(CONTENTS)


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_structure_restart_policy_and_hardening(path: Path) -> None:
    u = unit(path)
    assert u.sections() == ["Unit", "Service", "Install"]
    service = u["Service"]
    assert service["EnvironmentFile"] == "/etc/regime-trader/host.env"
    assert service["User"] not in ("", "root")
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "full"
    assert int(service["RestartSec"]) >= 30  # never a tight restart loop against IB or the cloud
    assert u["Install"]["WantedBy"] == "multi-user.target"
    log = service["StandardOutput"]
    assert log.startswith("append:/var/log/regime-trader/")
    agent = (HOST / "cloudwatch-agent.json").read_text()
    assert log.removeprefix("append:") in agent  # the agent ships what the unit writes


def test_the_gateway_always_restarts_and_the_login_never_outlives_the_start() -> None:
    u = unit(HOST / "systemd" / "ibgateway.service")
    service = u["Service"]
    assert service["Restart"] == "always" and u["Unit"]["StartLimitIntervalSec"] == "0"
    assert service["RuntimeDirectory"] == "ibgateway" and service["RuntimeDirectoryMode"] == "0700"
    written = command(service["ExecStartPre"])
    forgotten = command(service["ExecStartPost"])
    out = written[written.index("--out") + 1]
    assert out.startswith("/run/ibgateway/")  # RAM-backed, removed with the unit
    assert forgotten[forgotten.index("--config") + 1] == out
    assert command(service["ExecStopPost"]) == ["/bin/rm", "-f", out]
    # the login waits for the approval on the phone: the start may last the forget's whole timeout
    assert int(service["TimeoutStartSec"]) > float(forgotten[forgotten.index("--timeout-s") + 1])


def test_the_host_restarts_on_failure_only_and_stops_flat() -> None:
    u = unit(HOST / "systemd" / "regime-trader.service")
    service = u["Service"]
    # exit 1 = a failure (flattened): start again and reconcile; exit 0 = the kill switch: stay stopped
    assert service["Restart"] == "on-failure"
    assert int(u["Unit"]["StartLimitBurst"]) >= 3
    assert service["KillSignal"] == "SIGTERM"  # run's handler flattens, then the final flush (30 s)
    assert int(service["TimeoutStopSec"]) >= 30 + 30 + 60
    assert "ibgateway.service" in u["Unit"]["After"] and "ibgateway.service" in u["Unit"]["Wants"]


def test_the_host_command_is_regime_trader_run_with_options_that_exist() -> None:
    argv = command(unit(HOST / "systemd" / "regime-trader.service")["Service"]["ExecStart"])
    assert argv[0] == str(VENV_BIN / "regime-trader") and "regime-trader" in console_scripts()
    assert argv[1] == "run" and argv[argv.index("--broker") + 1] == "ib"
    parser = build_parser()
    run = next(
        a
        for a in parser._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
        if a.prog.endswith(" run")
    )
    broker = next(a for a in run._actions if "--broker" in a.option_strings)
    assert broker.choices is not None
    if "ib" in broker.choices:
        args = parser.parse_args(argv[1:])  # the whole line, as systemd runs it
        assert (args.host, args.port, args.client_id) == ("127.0.0.1", 4002, 1)
    else:
        # Before the IB adapter (issue 8) lands: its connection options are the ones it adds; every other
        # option must already parse exactly as written.
        ib_only = {"--host": 1, "--port": 1, "--client-id": 1, "--live": 0}
        rest: list[str] = []
        words = iter(argv[1:])
        for word in words:
            if word in ib_only:
                for _ in range(ib_only[word]):
                    next(words)
            else:
                rest.append("sim" if word == "ib" else word)
        args = parser.parse_args(rest)
        assert args.stack_outputs == ENV["CLOUD_STACK"] and str(args.state_dir).startswith("/var/lib/")
    assert str(args.config) == "/etc/regime-trader/strategy.toml"  # the boot script installs it there
    assert (
        'install -m 0644 "$HOST/config/strategy.toml" /etc/regime-trader/strategy.toml'
        in (HOST / "bootstrap.sh").read_text()
    )


def test_the_credentials_commands_parse_with_their_module() -> None:
    service = unit(HOST / "systemd" / "ibgateway.service")["Service"]
    for key in ("ExecStartPre", "ExecStartPost"):
        argv = command(service[key])
        assert argv[:3] == [str(VENV_BIN / "python"), "-m", "infra.host.ibc_credentials"]
        settings = argv[argv.index("--settings") + 1] if "--settings" in argv else None
        if settings is not None:
            assert settings == str(INSTALLED / "ibc" / "config.ini") and "ibc/config.ini" in CONTENTS
        parsed = _parse(argv[3:])
        assert parsed.command in ("write", "forget")


def _parse(argv: list[str]) -> argparse.Namespace:
    return ibc_credentials.build_parser().parse_args(argv)


def fake_root(tmp_path: Path) -> Path:
    """The instance's layout as the boot script leaves it: the bundle's real files at their installed
    paths, the virtualenv's console scripts and python, systemd's own units."""
    root = tmp_path / "root"
    for name, source in CONTENTS.items():
        target = root / INSTALLED.relative_to("/") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    venv = root / VENV_BIN.relative_to("/")
    venv.mkdir(parents=True)
    for script in [*console_scripts(), "python"]:
        (venv / script).write_text("#!/bin/sh\n")
        (venv / script).chmod(0o755)
    (root / "bin").mkdir()
    shutil.copy2("/bin/rm", root / "bin" / "rm")
    systemd = root / "usr" / "lib" / "systemd"
    systemd.mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", systemd / "system", symlinks=True)
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    for path in UNITS:
        shutil.copy2(path, units / path.name)
    return root


def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    root = fake_root(tmp_path)
    # Every executable a unit names is one the boot script installs (checked here even without systemd).
    for path in UNITS:
        service = unit(path)["Service"]
        for key in ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecStopPost"):
            if key in service:
                exe = root / command(service[key])[0].lstrip("/")
                assert exe.is_file() and exe.stat().st_mode & 0o111, f"{path.name} {key}: {exe}"
    if tool is None or not (Path("/usr/lib/systemd/system") / "sysinit.target").exists():
        return  # the structured checks above and in this module stand in for it
    proc = subprocess.run(
        [tool, "verify", "--man=no", f"--root={root}", *(f"/etc/systemd/system/{u.name}" for u in UNITS)],
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 on warnings it "ignores" (unknown keys, bad values): any output is a finding.
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), proc.stderr


def test_verify_does_catch_a_broken_unit(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return
    root = fake_root(tmp_path)
    broken = root / "etc" / "systemd" / "system" / "regime-trader.service"
    broken.write_text(broken.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    (root / VENV_BIN.relative_to("/") / "regime-trader").unlink()
    proc = subprocess.run(
        [tool, "verify", "--man=no", f"--root={root}", "/etc/systemd/system/regime-trader.service"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "sometimes" in proc.stderr and "not executable" in proc.stderr


def test_the_scripts_are_valid_bash() -> None:
    for path in (HOST / "bootstrap.sh", HOST / "bin" / "ibgateway-start"):
        proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert path.stat().st_mode & 0o111 and path.read_text().startswith("#!/bin/bash\n")
        assert "set -euo pipefail" in path.read_text()
