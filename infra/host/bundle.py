"""The host's artifacts for S3: the bundle of this folder (+ the strategy config) and SHA256SUMS.

    python -m infra.host.bundle DIR

DIR must already hold the third-party artifacts under the names the boot script expects (REQUIRED) and
the project's wheel; this adds `host-bundle.tar.gz` and writes `SHA256SUMS` over every file, which the
instance checks (`sha256sum --check --strict`) before it runs anything.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUNDLE = "host-bundle.tar.gz"
REQUIRED = ("jre-arm64.tar.gz", "ibgateway-standalone-linux-x64.sh", "IBCLinux.zip")
WHEEL = "regime_trader-*.whl"
# What the instance unpacks to /opt/regime-trader/host: bundle path -> source.
CONTENTS = {
    "bootstrap.sh": HERE / "bootstrap.sh",
    "bin/ibgateway-start": HERE / "bin" / "ibgateway-start",
    "systemd/ibgateway.service": HERE / "systemd" / "ibgateway.service",
    "systemd/regime-trader.service": HERE / "systemd" / "regime-trader.service",
    "ibc/config.ini": HERE / "ibc" / "config.ini",
    "cloudwatch-agent.json": HERE / "cloudwatch-agent.json",
    "config/strategy.toml": REPO / "config" / "strategy.toml",
}


class BundleError(ValueError):
    pass


def build(directory: Path) -> list[str]:
    """Write the bundle and SHA256SUMS into `directory`; returns the files summed."""
    missing = [name for name in REQUIRED if not (directory / name).is_file()]
    wheels = sorted(directory.glob(WHEEL))
    if len(wheels) != 1:
        missing.append(f"exactly one {WHEEL} (found {len(wheels)})")
    if missing:
        raise BundleError(f"{directory}: missing {', '.join(missing)}")
    with tarfile.open(directory / BUNDLE, "w:gz") as tar:
        for name, source in CONTENTS.items():
            info = tar.gettarinfo(str(source), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with source.open("rb") as fh:
                tar.addfile(info, fh)
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{hashlib.sha256((directory / n).read_bytes()).hexdigest()}  {n}\n" for n in names]
    (directory / "SHA256SUMS").write_text("".join(lines))
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.host.bundle", description=__doc__)
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        names = build(args.directory)
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 2
    print(f"{args.directory}: {len(names)} file(s) summed in SHA256SUMS: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
