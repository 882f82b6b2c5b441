"""Where benchmarks put their figures: bench/results/<name>.json (git-ignored), with the machine."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

RESULTS = Path(__file__).parent / "results"


def percentiles_us(seconds: npt.ArrayLike) -> dict[str, float]:
    """Median, p99 and mean of timings given in seconds, in microseconds."""
    s = np.asarray(seconds, dtype=np.float64) * 1e6
    return {
        "median_us": round(float(np.median(s)), 1),
        "p99_us": round(float(np.percentile(s, 99)), 1),
        "mean_us": round(float(s.mean()), 1),
        "n": int(s.shape[0]),
    }


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write figures with when and where they were measured; returns the file."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "figures": figures,
    }
    path.write_text(json.dumps(record, indent=2))
    print(f"-> {path}")
    return path
