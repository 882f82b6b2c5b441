"""IB Gateway's login for IBC, from Secrets Manager, on disk only while the gateway logs in.

`write` (ibgateway.service's ExecStartPre) reads the secret - a JSON object with `username`, `password`
and `trading_mode` (paper|live) - and writes IBC's config: the static settings plus the login, into the
unit's RAM-backed runtime directory, readable by the gateway's user only. `forget` (its ExecStartPost)
waits until the gateway's API port answers, which it does only once the login (and its second factor)
is done, then deletes the file; on a timeout it deletes it too and fails, so systemd starts again.

    python -m infra.host.ibc_credentials write --secret-id ID --settings ibc/config.ini --out FILE --port N
    python -m infra.host.ibc_credentials forget --config FILE --port N [--timeout-s 600]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("ibc_credentials")
TRADING_MODES = ("paper", "live")


class CredentialsError(ValueError):
    """The secret is missing, unreadable or not the expected JSON (the message never holds its value)."""


def login_lines(secret: str, port: int) -> list[str]:
    """IBC's login settings from the secret's JSON text."""
    try:
        doc = json.loads(secret)
    except ValueError:
        raise CredentialsError("the secret is not JSON (expected username, password, trading_mode)") from None
    if not isinstance(doc, dict):
        raise CredentialsError("the secret is not a JSON object (expected username, password, trading_mode)")
    missing = [k for k in ("username", "password", "trading_mode") if not str(doc.get(k, "")).strip()]
    if missing:
        raise CredentialsError(f"the secret lacks {', '.join(missing)}")
    for key in ("username", "password"):
        if any(c in str(doc[key]) for c in "\r\n"):
            raise CredentialsError(f"the secret's {key} holds a line break")
    mode = str(doc["trading_mode"]).strip().lower()
    if mode not in TRADING_MODES:
        raise CredentialsError(f"the secret's trading_mode is {mode!r}, not paper or live")
    return [
        f"IbLoginId={doc['username']}",
        f"IbPassword={doc['password']}",
        f"TradingMode={mode}",
        f"OverrideTwsApiPort={port}",
    ]


def write(secretsmanager: Any, secret_id: str, settings: Path, out: Path, port: int) -> None:
    """Write IBC's config (settings + login) to `out`, mode 0600, created afresh."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        secret = secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]
    except (BotoCoreError, ClientError, KeyError) as exc:
        raise CredentialsError(f"secret {secret_id}: unreadable ({exc})") from None
    text = settings.read_text().rstrip("\n") + "\n" + "\n".join(login_lines(secret, port)) + "\n"
    out.unlink(missing_ok=True)  # a stale file from a crash: never reuse it, never follow a link
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    log.info("IBC config with the login written to %s (deleted once the gateway is logged in)", out)


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def forget(config: Path, port: int, timeout_s: float, host: str = "127.0.0.1", poll_s: float = 2.0) -> bool:
    """Wait for the API port (the login is done), then delete `config`. False when it timed out."""
    deadline = time.monotonic() + timeout_s
    try:
        while not port_answers(host, port):
            if time.monotonic() >= deadline:
                log.error("gateway API port %d closed after %.0fs: login not done", port, timeout_s)
                return False
            time.sleep(poll_s)
        log.info("gateway logged in (port %d answers)", port)
        return True
    finally:
        config.unlink(missing_ok=True)
        log.info("IBC config with the login deleted from %s", config)


def build_parser() -> argparse.ArgumentParser:
    """The command line the gateway unit runs (`write` before the start, `forget` after it)."""
    parser = argparse.ArgumentParser(prog="python -m infra.host.ibc_credentials")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="secret -> IBC config (ExecStartPre)")
    w.add_argument("--secret-id", required=True)
    w.add_argument("--settings", type=Path, required=True, help="IBC's static settings (infra/host/ibc)")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--port", type=int, required=True, help="the API port the gateway opens")
    f = sub.add_parser("forget", help="wait for the login, delete the config (ExecStartPost)")
    f.add_argument("--config", type=Path, required=True)
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--timeout-s", type=float, default=600.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "write":
        import boto3

        try:
            write(boto3.client("secretsmanager"), args.secret_id, args.settings, args.out, args.port)
        except (CredentialsError, OSError) as exc:
            log.error("IBC config not written: %s", exc)
            return 1
        return 0
    return 0 if forget(args.config, args.port, args.timeout_s) else 1


if __name__ == "__main__":
    sys.exit(main())
