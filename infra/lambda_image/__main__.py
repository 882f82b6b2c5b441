"""`python -m infra.lambda_image [--force]`: build (or find cached) the Lambda Python 3.12 image stand-in."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from infra.lambda_image.build import ImageError, ensure_image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.lambda_image", description=__doc__)
    parser.add_argument("--arch", default=None, help="x86_64 or arm64 (default: this machine's)")
    parser.add_argument("--python", default=None, help="the CPython 3.12 installation to copy in")
    parser.add_argument("--force", action="store_true", help="rebuild even if the cached image is current")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        tag = ensure_image(args.arch, Path(args.python) if args.python else None, args.force)
    except ImageError as exc:
        print(f"lambda image: {exc}", file=sys.stderr)
        return 1
    print(f"{tag} ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
