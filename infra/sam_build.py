"""`sam build` of the zip artifacts (the layer and the zip functions), and their sizes as Lambda counts them.

The train function is a container image: building it needs Docker (`sam build TrainFunction`), which is not
done here. `sam build` takes one resource per call, so each is built into its own folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.template_yaml import REPO, TEMPLATE, load_template

SAM = REPO / ".venv-tools" / "bin" / "sam"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + all its layers


class BuildError(RuntimeError):
    """`sam build` failed; the message carries the end of its output."""


def zip_resources() -> list[str]:
    """Logical ids of the layer(s) and zip functions of template.yaml."""
    out = []
    for logical_id, resource in load_template()["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::LayerVersion" or (
            resource["Type"] == "AWS::Serverless::Function" and props.get("PackageType") != "Image"
        ):
            out.append(logical_id)
    return out


def python_on_path() -> str:
    """PATH with this venv's base interpreter first."""
    # sam looks for a python3.12 on PATH to build with: the interpreter behind this venv is one.
    base = Path(sys.base_prefix) / "bin"
    return f"{base}{os.pathsep}{os.environ.get('PATH', '')}"


def build(logical_id: str, build_dir: Path) -> Path:
    """Build one resource; returns the folder Lambda would receive (a layer's holds python/)."""
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": python_on_path()}
    proc = subprocess.run(
        [str(SAM), "build", logical_id, "--build-dir", str(build_dir), "--template-file", str(TEMPLATE)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BuildError(f"sam build {logical_id}: {(proc.stdout + proc.stderr)[-2000:]}")
    return build_dir / logical_id


@dataclass(frozen=True)
class Size:
    unzipped: int
    zipped: int
    files: int


def measure(folder: Path) -> Size:
    """Bytes on disk and bytes of the deployment zip (deflated, as `sam package` makes it)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    unzipped = sum(p.stat().st_size for p in files)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "artifact.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for p in files:
                zf.write(p, p.relative_to(folder))
        zipped = archive.stat().st_size
    return Size(unzipped, zipped, len(files))
