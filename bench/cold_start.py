"""Cold start of the regime function: a fresh process imports the handler (init) and serves its first
scheduled event (first call: the SSM pointer, the model load, the first queries); and the import cost of
each dependency on its own, each in a fresh process.

Run: `.venv/bin/python -m bench cold_start` (about a minute).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from bench._pipeline import pipeline, schedule_event
from bench.results import write_results
from infra.template_yaml import REPO

RUNS = 5
IMPORTS = {
    "numpy": "import numpy",
    "onnxruntime": "import onnxruntime",
    "boto3": "import boto3",
    "powertools Logger": "from aws_lambda_powertools import Logger",
    "powertools Metrics": "from aws_lambda_powertools import Metrics",
    "powertools parameters": "from aws_lambda_powertools.utilities import parameters",
    "powertools Tracer() (not used)": "from aws_lambda_powertools import Tracer; Tracer(disabled=False)",
    "regime.inference": "import regime.inference",
    "functions.regime.app (all)": "import functions.regime.app",
}

COLD = """
import contextlib, io, json, sys, time
t0 = time.perf_counter()
import functions.regime.app as app
t1 = time.perf_counter()
from devkit.local_cloud.handlers import LocalContext
events = json.loads(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()):
    t2 = time.perf_counter()
    app.lambda_handler(events[0], LocalContext("cold"))
    t3 = time.perf_counter()
    app.lambda_handler(events[1], LocalContext("cold"))
    t4 = time.perf_counter()
print(json.dumps({"init_s": t1 - t0, "first_call_s": t3 - t2, "second_call_s": t4 - t3}))
"""


def _fresh(code: str, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip().splitlines()[-1]


def import_costs(env: dict[str, str]) -> dict[str, float]:
    timer = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
    return {
        name: round(statistics.median(float(_fresh(timer.format(stmt=stmt), env)) for _ in range(3)), 3)
        for name, stmt in IMPORTS.items()
    }


def main() -> None:
    with pipeline(days=1) as p:
        env = {**os.environ, **p.regime.env, "PYTHONPATH": str(REPO)}
        boundaries = p.boundaries(2 * RUNS)
        runs = []
        for i in range(RUNS):
            events = [schedule_event(boundaries[2 * i]), schedule_event(boundaries[2 * i + 1])]
            runs.append(json.loads(_fresh(COLD, env, json.dumps(events))))
        imports = import_costs(env)
    figures = {
        key: round(statistics.median(r[key] for r in runs), 3)
        for key in ("init_s", "first_call_s", "second_call_s")
    }
    figures["runs"] = RUNS
    print(
        f"init (imports) {figures['init_s']:.3f} s   first call {figures['first_call_s']:.3f} s   "
        f"second call {figures['second_call_s']:.3f} s   (median of {RUNS} fresh processes)"
    )
    for name, seconds in imports.items():
        print(f"  import {name:<30} {seconds:.3f} s")
    write_results("cold_start", {**figures, "imports_s": imports})


if __name__ == "__main__":
    main()
