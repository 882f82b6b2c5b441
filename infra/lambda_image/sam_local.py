"""`sam build` and `sam local invoke` of the zip functions against a local endpoint, in containers.

The container runs on Docker's default bridge (SAM 1.170 ignores `--docker-network host`: it always
publishes the emulator's port), so the endpoint must listen on the bridge's gateway address, the host's
own side of that bridge. SAM passes a function only the variables its template declares, and
AWS_ENDPOINT_URL is not one of them (on AWS there is none): the endpoint reaches the container through the
image instead, a one-line image on top of the stand-in (`--invoke-image`), so that neither the template nor
the functions carry anything local.
"""

from __future__ import annotations

import hashlib
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


def endpoint_image_tag(endpoint: str) -> str:
    """The tag of the stand-in with AWS_ENDPOINT_URL=`endpoint` (one per endpoint, reused)."""
    return f"regime-trader/lambda-python-endpoint:{hashlib.sha256(endpoint.encode()).hexdigest()[:12]}"


def endpoint_image(endpoint: str, arch: str | None = None) -> str:
    """The stand-in with AWS_ENDPOINT_URL set: what `--invoke-image` runs the functions on."""
    base = ensure_image(arch)
    tag = endpoint_image_tag(endpoint)
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


def sam_environment(variables: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `sam` runs in: this one (or `variables` over it), telemetry off, python3.12 first
    on PATH (what `sam build` builds with). SAM hands its AWS credentials and region to the container."""
    return {**os.environ, **(variables or {}), "SAM_CLI_TELEMETRY": "0", "PATH": python_on_path()}


def image_functions() -> list[str]:
    """Logical ids of the template's container image functions (left out of `build`)."""
    return [
        k
        for k, r in load_template()["Resources"].items()
        if r.get("Properties", {}).get("PackageType") == "Image"
    ]


def build(build_dir: Path, arch: str | None = None, cached: bool = False) -> Path:
    """One `sam build` of the layer and every zip function for `arch`; returns the built template.

    The image function (whose Dockerfile installs its packages from a registry inside `docker build`) is
    left out of a copy of the template; the copy points at the sources by absolute path. `cached`: what
    has not changed since the last build in `build_dir` is not built again (`sam build --cached`).
    """
    template = load_template()
    resources = template["Resources"]
    for logical_id in image_functions():
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
    args += ["--cached", "--cache-dir", str(build_dir / "cache")] if cached else []
    proc = subprocess.run(args, cwd=REPO, env=sam_environment(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SamLocalError(f"sam build: {(proc.stdout + proc.stderr)[-2000:]}")
    return out / "template.yaml"


@dataclass(frozen=True)
class Invocation:
    """What `sam local invoke` printed: the function's response (stdout) and the container's log."""

    response: Any
    log: str

    @property
    def error(self) -> str | None:
        """The function's error ("errorType: errorMessage"), None when it returned normally."""
        return function_error(self.response)


def function_error(response: Any) -> str | None:
    """The error a response reports, None for a normal one.

    `sam local invoke` exits 0 whether the function returned or raised: an error is a response that is
    Lambda's error object ({"errorType", "errorMessage", ...}).
    """
    if isinstance(response, dict) and "errorType" in response:
        return f"{response['errorType']}: {response.get('errorMessage', '')}"
    return None


def last_json_line(stdout: str) -> Any:
    """The function's response: the last line of `sam local invoke`'s standard output, None if not JSON."""
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else None
    except ValueError:
        return None


def write_env_vars(function: str, env_vars: dict[str, str], folder: Path) -> Path:
    """The `--env-vars` file: the function's variables, which override the template's."""
    path = folder / "env-vars.json"
    path.write_text(json.dumps({function: env_vars}))
    return path


def invoke_command(
    template: Path, function: str, event: Path, env_file: Path, image: str, arch: str | None = None
) -> list[str]:
    """`sam local invoke` of a built function on `image`, never pulling an image."""
    return [
        str(SAM),
        "local",
        "invoke",
        function,
        "--template-file",
        str(template),
        "--event",
        str(event),
        "--env-vars",
        str(env_file),
        "--skip-pull-image",
        "--invoke-image",
        image,
        "--parameter-overrides",
        f"Architecture={arch or machine_arch()}",
    ]


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
    with tempfile.TemporaryDirectory() as tmp:
        env_file = write_env_vars(function, env_vars, Path(tmp))
        proc = subprocess.run(
            invoke_command(template, function, event, env_file, image, arch),
            cwd=template.parent,
            env=sam_environment(),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    response = last_json_line(proc.stdout)
    if proc.returncode != 0 or response is None:
        raise SamLocalError(
            f"sam local invoke {function} exited {proc.returncode}: "
            f"{proc.stdout.strip()[-1500:]} {proc.stderr[-3000:]}"
        )
    return Invocation(response, proc.stderr)
