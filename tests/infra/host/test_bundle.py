"""`python -m infra.host.bundle DIR`: the bundle holds what the units and the boot script use, and the
SHA256SUMS it writes is what the instance checks with `sha256sum --check --strict`."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from infra.host.bundle import BUNDLE, CONTENTS, REQUIRED, main
from infra.template_yaml import REPO


def artifacts(directory: Path) -> None:
    for name in (*REQUIRED, "regime_trader-0.1.0-py3-none-any.whl"):
        (directory / name).write_bytes(f"stand-in for {name}".encode())


def test_the_bundle_and_its_sums_check_as_the_instance_checks_them(tmp_path: Path) -> None:
    artifacts(tmp_path)
    assert main([str(tmp_path)]) == 0
    proc = subprocess.run(
        ["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": OK") == len(REQUIRED) + 2  # + the wheel and the bundle
    with tarfile.open(tmp_path / BUNDLE) as tar:
        names = tar.getnames()
        assert sorted(names) == sorted(CONTENTS)
        start = tar.getmember("bin/ibgateway-start")
        assert start.mode & 0o111 and start.uid == 0
    (tmp_path / "IBCLinux.zip").write_bytes(b"tampered")
    check = ["sha256sum", "--check", "--strict", "SHA256SUMS"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode != 0  # the boot stops


def test_every_file_the_boot_script_and_units_read_from_the_bundle_is_in_it() -> None:
    host = REPO / "infra" / "host"
    text = (host / "bootstrap.sh").read_text() + "".join(p.read_text() for p in (host / "systemd").glob("*"))
    for name in CONTENTS:
        assert CONTENTS[name].is_file(), name
    for used in (
        "config/strategy.toml",
        "cloudwatch-agent.json",
        "systemd/",
        "ibc/config.ini",
        "bin/ibgateway-start",
    ):
        assert used in text and any(n.startswith(used) for n in CONTENTS), used
    for name in REQUIRED:
        assert f"$ART/{name}" in text, name  # the names the boot script installs from


def test_missing_artifacts_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "IBCLinux.zip").write_bytes(b"x")
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "jre-arm64.tar.gz" in err and "ibgateway-standalone-linux-x64.sh" in err and ".whl" in err
    assert not (tmp_path / "SHA256SUMS").exists()
