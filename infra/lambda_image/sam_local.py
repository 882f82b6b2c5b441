"""`sam build` and `sam local invoke` of the zip functions against a local endpoint, in containers.

The container runs on Docker's default bridge (SAM 1.170 ignores `--docker-network host`: it always
publishes the emulator's port), so the endpoint must listen on the bridge's gateway address, the host's
own side of that bridge. SAM passes a function only the variables its template declares, and
AWS_ENDPOINT_URL is not one of them (on AWS there is none): the endpoint reaches the container through the
image instead, a one-line image on top of the stand-in (`--invoke-image`), so that neither the template nor
the functions carry anything local.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.lambda_image.build import ensure_image, machine_arch
from infra.sam_build import SAM, python_on_path
from infra.template_yaml import REPO, load_template


class SamLocalError(RuntimeError):
    """`sam build` or `sam local invoke` failed; the message carries the end of its output."""


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge (where a container reaches the host)."""
    proc = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for config in json.loads(proc.stdout) or []:
        if config.get("Gateway"):
            return str(config["Gateway"])
        if config.get("Subnet"):  # some daemons leave Gateway out: it is the subnet's first address
            return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    raise SamLocalError("Docker's bridge network has no address")


def endpoint_image(endpoint: str, arch: str | None = None) -> str:
    """The stand-in with AWS_ENDPOINT_URL set: what `--invoke-image` runs the functions on."""
    base = ensure_image(arch)
    tag = f"regime-trader/lambda-python-endpoint:{abs(hash(endpoint)) % 10**10}"
    dockerfile = f"FROM {base}\nENV AWS_ENDPOINT_URL={endpoint}\n"
    proc = subprocess.run(
        ["docker", "build", "-q", "-t", tag, "-"],
        input=dockerfile,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SamLocalError(f"docker build {tag}: {proc.stderr[-1500:]}")
    return tag


def remove_invoke_images(image: str) -> None:
    """Remove `image` and the invoke images SAM built on it (it builds one per invocation when the template
    defines the layer), so that repeated runs do not fill the disk; the cached stand-in stays."""
    listed = subprocess.run(
        ["docker", "images", "samcli/lambda-python", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    subprocess.run(["docker", "rmi", "-f", image, *listed], capture_output=True, check=False)
    subprocess.run(["docker", "image", "prune", "-f"], capture_output=True, check=False)


def _env() -> dict[str, str]:
    return {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": python_on_path()}


def build(build_dir: Path, arch: str | None = None) -> Path:
    """One `sam build` of the layer and every zip function for `arch`; returns the built template.

    The image function (whose Dockerfile installs its packages from a registry inside `docker build`) is
    left out of a copy of the template; the copy points at the sources by absolute path.
    """
    template = load_template()
    resources = template["Resources"]
    for logical_id in [
        k for k, r in resources.items() if r.get("Properties", {}).get("PackageType") == "Image"
    ]:
        del resources[logical_id]
    for resource in resources.values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = str((REPO / props[key]).resolve())
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / "template-zip-only.json"
    source.write_text(json.dumps(template, indent=1))
    out = build_dir / "built"
    args = [str(SAM), "build", "--build-dir", str(out), "--template-file", str(source)]
    args += ["--parameter-overrides", f"Architecture={arch or machine_arch()}"]
    proc = subprocess.run(args, cwd=REPO, env=_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SamLocalError(f"sam build: {(proc.stdout + proc.stderr)[-2000:]}")
    return out / "template.yaml"


@dataclass(frozen=True)
class Invocation:
    """What `sam local invoke` printed: the function's response (stdout) and the container's log."""

    response: Any
    log: str


def invoke(
    template: Path,
    function: str,
    event: Path,
    env_vars: dict[str, str],
    image: str,
    arch: str | None = None,
    timeout: float = 300,
) -> Invocation:
    """`sam local invoke --skip-pull-image` of a built function; the variables override the template's."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({function: env_vars}, f)
        env_file = f.name
    try:
        proc = subprocess.run(
            [
                str(SAM),
                "local",
                "invoke",
                function,
                "--template-file",
                str(template),
                "--event",
                str(event),
                "--env-vars",
                env_file,
                "--skip-pull-image",
                "--invoke-image",
                image,
                "--parameter-overrides",
                f"Architecture={arch or machine_arch()}",
            ],
            cwd=template.parent,
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    finally:
        os.unlink(env_file)
    out = proc.stdout.strip()
    try:
        response = json.loads(out.splitlines()[-1]) if out else None
    except ValueError:
        response = None
    if proc.returncode != 0 or response is None:
        raise SamLocalError(
            f"sam local invoke {function} exited {proc.returncode}: {out[-1500:]} {proc.stderr[-3000:]}"
        )
    return Invocation(response, proc.stderr)
