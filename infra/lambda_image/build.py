"""Build, offline, the image `sam local invoke` starts for a python3.12 zip function.

No image registry is reachable here, but Debian's packages and PyPI are. The stand-in for
`public.ecr.aws/lambda/python:3.12-<arch>` is:
- a Debian root file system made by `debootstrap` (minbase, plus the shared libraries CPython, numpy and
  onnxruntime load);
- this machine's CPython 3.12 (the minor version the layer's wheels are built for) copied to /var/lang,
  where the Lambda images keep it;
- `awslambdaric` from PyPI (pinned in requirements.txt beside this file) in /var/runtime, started by
  /var/runtime/bootstrap, the file SAM's runtime interface emulator runs;
- the Lambda images' layout and environment: /var/task (the code), /opt (layers), LAMBDA_TASK_ROOT,
  LAMBDA_RUNTIME_DIR, PATH and LD_LIBRARY_PATH as Lambda sets them.
It is imported with `docker import` under the exact name SAM builds its invoke image on
(`samcli.local.docker.lambda_image`: `public.ecr.aws/lambda/` + `python:3.12-<arch>`; with
`--skip-pull-image` SAM never pulls it). A label carries the digest of the recipe (this file, the
bootstrap, the pins, the Debian suite and packages, the Python version): the image is rebuilt only when the
recipe changes, so it is cached between runs on one machine.

Only the machine's own architecture is built (an x86_64 machine invokes the template's functions as
x86_64: `--parameter-overrides Architecture=x86_64`).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = (
    "bookworm"  # the same Debian as the machines, so the copied CPython finds the libraries it was built on
)
MIRROR = "http://deb.debian.org/debian"
PACKAGES = (
    "ca-certificates",
    "libbz2-1.0",
    "libexpat1",
    "libffi8",
    "libgomp1",
    "liblzma5",
    "libncursesw6",
    "libnsl2",
    "libreadline8",
    "libsqlite3-0",
    "libssl3",
    "libstdc++6",
    "libtirpc3",
    "libuuid1",
    "zlib1g",
)
RECIPE_LABEL = "regime-trader.recipe"
PYTHON_VERSION = "3.12"
# The Lambda Python images' environment (what a function sees, and what the bootstrap relies on).
IMAGE_ENV = {
    "LANG": "C.UTF-8",
    "TZ": ":/etc/localtime",
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LD_LIBRARY_PATH": ":".join(
        [
            "/var/lang/lib",
            "/lib64",
            "/usr/lib64",
            "/var/runtime",
            "/var/runtime/lib",
            "/var/task",
            "/var/task/lib",
            "/opt/lib",
        ]
    ),
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
}
DOCKERD_LOG = Path("/var/log/regime-trader-dockerd.log")
# Parts of the copied CPython a function never uses (the standard library's tests alone are 100 MB).
STDLIB_LEFT_OUT = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3"}


class ImageError(RuntimeError):
    """The image could not be built (the message says which step failed and how)."""


def machine_arch() -> str:
    """This machine's architecture in Lambda's words (x86_64 or arm64)."""
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine()]


def image_tag(arch: str) -> str:
    """The base image name SAM looks for (`Runtime.get_image_name_tag` under `public.ecr.aws/lambda`)."""
    return f"public.ecr.aws/lambda/python:{PYTHON_VERSION}-{arch}"


def default_python() -> Path:
    """The CPython 3.12 installation to copy: this interpreter's, or pyenv's 3.12.1."""
    if sys.version_info[:2] == (3, 12):
        return Path(sys.base_prefix)
    return Path.home() / ".pyenv" / "versions" / "3.12.1"


def _run(command: list[str], step: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise ImageError(
            f"{step}: `{' '.join(command[:4])} ...` exited {proc.returncode}: {proc.stderr[-1500:]}"
        )
    return proc  # type: ignore[no-any-return]


def apt_install(*packages: str) -> None:
    """Install Debian packages (as root, or through sudo)."""
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run([*sudo, "apt-get", "update", "-qq"], "apt-get update", env=env)
    _run(
        [*sudo, "apt-get", "install", "-y", "-qq", *packages],
        f"apt-get install {' '.join(packages)}",
        env=env,
    )


def docker_ready() -> bool:
    """True when a Docker daemon answers."""
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def ensure_docker(timeout: float = 60.0) -> None:
    """Docker installed (Debian's docker.io) and its daemon answering; starts `dockerd` if none runs.

    There is no systemd on these machines: the daemon runs in the background, its log in DOCKERD_LOG,
    and keeps running for later invocations (and the next test run).
    """
    if docker_ready():
        return
    if shutil.which("dockerd") is None:
        apt_install("docker.io")
    if not docker_ready():
        with DOCKERD_LOG.open("ab") as log:
            subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not docker_ready():
            if time.monotonic() > deadline:
                raise ImageError(f"dockerd did not answer within {timeout:.0f} s: see {DOCKERD_LOG}")
            time.sleep(0.5)


def recipe_digest(python_home: Path, arch: str) -> str:
    """What the image is made of, hashed: any change in the recipe makes a new image."""
    h = hashlib.sha256()
    for name in ("build.py", "bootstrap", "lambda-entrypoint.sh", "requirements.txt"):
        h.update((HERE / name).read_bytes())
    version = _run([str(python_home / "bin" / "python3.12"), "-V"], "python version").stdout
    h.update(f"{SUITE} {MIRROR} {' '.join(PACKAGES)} {arch} {version}".encode())
    return h.hexdigest()[:16]


def cached_digest(tag: str) -> str:
    """The recipe digest of the image `tag` on this machine ('' when there is none)."""
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{ index .Config.Labels "{RECIPE_LABEL}" }}}}', tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _stdlib_ignore(python_home: Path) -> object:
    stdlib = python_home / "lib" / f"python{PYTHON_VERSION}"

    def ignore(folder: str, names: list[str]) -> set[str]:
        if Path(folder) == stdlib:
            return STDLIB_LEFT_OUT & set(names)
        if Path(folder) == stdlib / "site-packages":  # only pip: nothing of this machine's own set-up
            return {n for n in names if not n.startswith("pip")}
        return set()

    return ignore


def make_rootfs(rootfs: Path, python_home: Path) -> None:
    """Debian, CPython in /var/lang, awslambdaric in /var/runtime, the bootstrap and entry point."""
    if shutil.which("debootstrap") is None:
        apt_install("debootstrap")
    _run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), MIRROR],
        "debootstrap",
    )
    for cache in (rootfs / "var" / "cache" / "apt" / "archives", rootfs / "var" / "lib" / "apt" / "lists"):
        for p in cache.glob("*"):
            if p.is_file():
                p.unlink()
    shutil.copytree(python_home, rootfs / "var" / "lang", symlinks=True, ignore=_stdlib_ignore(python_home))  # type: ignore[arg-type]
    (rootfs / "etc" / "ld.so.conf.d" / "var-lang.conf").write_text("/var/lang/lib\n")
    _run(["chroot", str(rootfs), "/sbin/ldconfig"], "ldconfig")
    _run(
        [
            str(python_home / "bin" / "python3.12"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",  # every package is pinned in the file: the same set on every build
            "--no-compile",
            "--target",
            str(rootfs / "var" / "runtime"),
            "-r",
            str(HERE / "requirements.txt"),
        ],
        "pip install awslambdaric",
    )
    for name, target in (
        ("bootstrap", "var/runtime/bootstrap"),
        ("lambda-entrypoint.sh", "lambda-entrypoint.sh"),
    ):
        shutil.copyfile(HERE / name, rootfs / target)
        (rootfs / target).chmod(0o755)
    for folder in ("var/task", "opt"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    check = (
        "import sys, ssl, sqlite3, ctypes, uuid, awslambdaric; "
        "assert sys.version_info[:2] == (3, 12), sys.version; print(sys.version)"
    )
    _run(
        [
            "chroot",
            str(rootfs),
            "/usr/bin/env",
            "-i",
            *[f"{k}={v}" for k, v in IMAGE_ENV.items()],
            "PYTHONPATH=/var/runtime",
            "/var/lang/bin/python3.12",
            "-c",
            check,
        ],
        "CPython in the root file system",
    )


def import_image(rootfs: Path, tag: str, digest: str) -> None:
    """`docker import` the root file system with the Lambda image's configuration."""
    changes = [f"ENV {k}={v}" for k, v in IMAGE_ENV.items()]
    changes += ["WORKDIR /var/task", 'ENTRYPOINT ["/lambda-entrypoint.sh"]', f"LABEL {RECIPE_LABEL}={digest}"]
    tar = subprocess.Popen(
        ["tar", "--sort=name", "--numeric-owner", "-C", str(rootfs), "-cf", "-", "."],
        stdout=subprocess.PIPE,
    )
    args = ["docker", "import", *[a for c in changes for a in ("--change", c)], "-", tag]
    imported = subprocess.run(args, stdin=tar.stdout, capture_output=True, text=True, check=False)
    if tar.stdout:
        tar.stdout.close()
    if tar.wait() != 0 or imported.returncode != 0:
        raise ImageError(f"docker import {tag}: {imported.stderr[-1500:]}")


def ensure_image(arch: str | None = None, python_home: Path | None = None, force: bool = False) -> str:
    """The image tag, built if missing or made from an older recipe; Docker started if needed."""
    arch = arch or machine_arch()
    if arch != machine_arch():
        raise ImageError(f"only this machine's architecture ({machine_arch()}) is built, not {arch}")
    python_home = python_home or default_python()
    if not (python_home / "bin" / "python3.12").exists():
        raise ImageError(f"no CPython 3.12 at {python_home} (install it: pyenv install 3.12.1)")
    ensure_docker()
    tag = image_tag(arch)
    digest = recipe_digest(python_home, arch)
    if not force and cached_digest(tag) == digest:
        return tag
    with tempfile.TemporaryDirectory(prefix="lambda-image-", dir="/var/tmp") as work:
        rootfs = Path(work) / "rootfs"
        make_rootfs(rootfs, python_home)
        import_image(rootfs, tag, digest)
    return tag
