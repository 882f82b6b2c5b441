"""Built sizes of the layer and the zip functions, unzipped and zipped (Lambda's limit: 250 MB unzipped for a
function with all its layers). Runs `sam build` (pip downloads arm64 wheels): `.venv/bin/python -m bench
artifact_sizes` (about a minute).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.results import write_results
from infra.sam_build import LAMBDA_UNZIPPED_LIMIT, build, measure, zip_resources

MB = 1024 * 1024


def main() -> None:
    figures: dict[str, dict[str, float | int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for logical_id in zip_resources():
            size = measure(build(logical_id, Path(tmp) / logical_id))
            figures[logical_id] = {
                "unzipped_mb": round(size.unzipped / MB, 1),
                "zipped_mb": round(size.zipped / MB, 1),
                "files": size.files,
            }
    layer = figures["RegimeLayer"]["unzipped_mb"]
    for name, f in figures.items():
        print(
            f"{name:>20}: {f['unzipped_mb']:7.1f} MB unzipped  {f['zipped_mb']:6.1f} MB zipped"
            f"  ({f['files']} files)"
        )
    for name, f in figures.items():
        if name != "RegimeLayer":
            total = f["unzipped_mb"] + layer
            print(f"{name:>20} + layer: {total:.1f} MB of Lambda's {LAMBDA_UNZIPPED_LIMIT / MB:.0f} MB")
    write_results("artifact_sizes", figures)


if __name__ == "__main__":
    main()
