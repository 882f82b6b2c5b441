"""The IB login on the instance: read from Secrets Manager (the local endpoint), written for IBC readable by
its owner only, and deleted once the gateway's API port answers, or when the login times out."""

from __future__ import annotations

import json
import socket
import stat
import threading
from pathlib import Path

import boto3
import pytest

from infra.host import ibc_credentials
from infra.host.ibc_credentials import CredentialsError, forget, login_lines, write
from infra.template_yaml import REPO
from trader_host.cloud.aws import client

SETTINGS = REPO / "infra" / "host" / "ibc" / "config.ini"
LOGIN = {"username": "du123456", "password": "pa ss=word;#", "trading_mode": "paper"}


@pytest.fixture
def secret(moto_endpoint: str) -> str:
    sm = boto3.client("secretsmanager")  # set-up: boto3's patient defaults, not the host's 3-s timeout
    name = f"/regime-trader/test/host/login-{id(object())}"
    return str(sm.create_secret(Name=name, SecretString=json.dumps(LOGIN))["ARN"])


def test_write_puts_settings_and_login_in_a_file_only_its_owner_reads(secret: str, tmp_path: Path) -> None:
    out = tmp_path / "config.ini"
    out.write_text("stale from a crash")
    write(client("secretsmanager"), secret, SETTINGS, out, 4002)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().splitlines()
    assert lines[: len(SETTINGS.read_text().splitlines())] == SETTINGS.read_text().splitlines()
    assert lines[-4:] == [
        "IbLoginId=du123456",
        "IbPassword=pa ss=word;#",  # IBC takes the rest of the line as is
        "TradingMode=paper",
        "OverrideTwsApiPort=4002",
    ]
    assert "stale" not in out.read_text()


def test_write_refuses_to_follow_a_planted_link(secret: str, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    out = tmp_path / "config.ini"
    out.symlink_to(target)
    write(client("secretsmanager"), secret, SETTINGS, out, 4002)  # the link is removed, not followed
    assert not target.exists() and not out.is_symlink()


@pytest.mark.parametrize(
    ("secret_text", "says"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"username": "u", "trading_mode": "paper"}', "lacks password"),
        ('{"username": "u", "password": "p", "trading_mode": "cash"}', "not paper or live"),
        ('{"username": "u", "password": "p\\nIbLoginId=x", "trading_mode": "live"}', "line break"),
    ],
)
def test_a_bad_secret_is_named_never_shown(secret_text: str, says: str) -> None:
    with pytest.raises(CredentialsError, match=says) as err:
        login_lines(secret_text, 4002)
    assert '"p' not in str(err.value) and "IbLoginId" not in str(err.value)


def test_a_missing_secret_fails_the_start_with_its_name(moto_endpoint: str, tmp_path: Path) -> None:
    out = tmp_path / "config.ini"
    code = ibc_credentials.main(
        [
            "write",
            "--secret-id",
            "/no/such/secret",
            "--settings",
            str(SETTINGS),
            "--out",
            str(out),
            "--port",
            "1",
        ]
    )
    assert code == 1 and not out.exists()


def test_forget_waits_for_the_api_port_then_deletes(tmp_path: Path) -> None:
    config = tmp_path / "config.ini"
    config.write_text("IbPassword=x\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # the gateway opens its port a moment later (its login done)
    timer = threading.Timer(0.3, listener.listen)
    timer.start()
    try:
        assert forget(config, port, timeout_s=10, poll_s=0.05)
    finally:
        timer.join()
        listener.close()
    assert not config.exists()


def test_forget_deletes_on_timeout_too_and_fails_the_unit(tmp_path: Path) -> None:
    config = tmp_path / "config.ini"
    config.write_text("IbPassword=x\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed: nothing ever answers
    assert (
        ibc_credentials.main(["forget", "--config", str(config), "--port", str(port), "--timeout-s", "0.2"])
        == 1
    )
    assert not config.exists()
