"""The fast loop compiled ahead of time, so that a backtest starts without numba.

Importing numba and starting its compiler (its target, which imports scipy's BLAS) costs seconds and 150 MB
on every run, where the loop over a year of MES takes a fifth of a second. `python -m
trading_engine.backtest.fast.kernel_aot` (run by `make venv`) compiles `kernel.simulate` with numba's AOT
compiler into a plain extension module in __pycache__ beside the kernel, whose name carries a key of the
kernel's sources, numpy's version and the interpreter: after any edit to the kernel the key changes, the
old module is never loaded, and `simulate_function()` gives numba's JIT (cached) until it is built again.

The module's argument types are those `FastEngine.run` passes (taken from a run on a small synthetic tape,
recorded beside the module); a call is checked against them, since a compiled module would read an array of
another dtype as its own.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.machinery
import importlib.util
import inspect
import json
import logging
import os
import sys
import sysconfig
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / "__pycache__"
# The loop and everything it inlines: an edit to any of them makes a new key.
SOURCES = (
    "kernel.py",
    "kernel_broker.py",
    "kernel_trader.py",
    "kernel_ledger.py",
    "kernel_layout.py",
    "kernel_aot.py",
)
Simulate = Callable[..., tuple[np.ndarray, np.ndarray]]
_loaded: dict[Path, Simulate] = {}


def source_key(directory: Path = HERE) -> str:
    """What the compiled module must match: the kernel's sources, numpy's version, the interpreter."""
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes() + b"\0")
    digest.update(f"{np.__version__} {sys.implementation.cache_tag}".encode())
    return digest.hexdigest()[:16]


def module_name(key: str) -> str:
    return f"kernel_aot_{key}"


def module_path(build_dir: Path, key: str) -> Path:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or importlib.machinery.EXTENSION_SUFFIXES[0]
    return build_dir / (module_name(key) + suffix)


@functools.cache
def _installed_key() -> str:
    """The key of the sources this process runs (read and hashed once, not on every run)."""
    return source_key()


def simulate_function(build_dir: Path = BUILD_DIR) -> Simulate:
    """`kernel.simulate`: the ahead-of-time module matching today's sources if it is built, else numba's
    (resolved once per build folder: a backtest's many runs neither re-read the sources nor re-log)."""
    path = module_path(build_dir, _installed_key())
    if path not in _loaded:
        if path.exists():
            _loaded[path] = _checked(_import(path), json.loads(path.with_suffix(".json").read_text()))
        else:
            log.info("fast engine: %s not built (make venv builds it); compiling with numba", path.name)
            from trading_engine.backtest.fast.kernel import simulate

            _loaded[path] = simulate
    return _loaded[path]


def _import(path: Path) -> Any:
    name = path.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checked(module: Any, expected: list[list[Any]]) -> Simulate:
    simulate: Simulate = module.simulate

    def call(*args: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(args) != len(expected):
            raise TypeError(f"compiled kernel: {len(args)} arguments, built for {len(expected)}")
        for k, (arg, (dtype, ndim)) in enumerate(zip(args, expected, strict=True)):
            if arg.dtype.str != dtype or arg.ndim != ndim or not arg.flags.c_contiguous:
                raise TypeError(
                    f"compiled kernel: argument {k} is {arg.dtype.str} {arg.ndim}-d "
                    f"(C-contiguous: {arg.flags.c_contiguous}), built for a C-contiguous {dtype} {ndim}-d: "
                    "rebuild it (python -m trading_engine.backtest.fast.kernel_aot)"
                )
        return simulate(*args)

    return call


def sample_arguments() -> tuple[np.ndarray, ...]:
    """The arguments `FastEngine.run` passes the loop, on one synthetic session (their types are the
    module's signature)."""
    from regime.contracts import Regime
    from regime.synthetic import synthetic_days
    from trading_engine.backtest.fast.fast_engine import FastEngine
    from trading_engine.broker.sim.market_tape import MarketTape
    from trading_engine.config import HostConfig
    from trading_engine.fees import fee_schedule
    from trading_engine.instruments import SYNTHETIC_SESSION, contract
    from trading_engine.regime_source import FixedRegime

    market = synthetic_days(1, seed=1)
    spec = contract(market.spec.symbol).with_session(SYNTHETIC_SESSION)
    engine = FastEngine(MarketTape.from_synthetic(market), spec, fee_schedule("none", spec.symbol))
    return engine.kernel_arguments(HostConfig(), FixedRegime(Regime.RANGE))


def build(build_dir: Path = BUILD_DIR) -> Path:
    """Compile the loop into `build_dir` (a minute or two); the module's path."""
    import numba
    from numba.core.errors import NumbaPendingDeprecationWarning

    with warnings.catch_warnings():  # pending deprecation since 0.57, without a replacement yet
        warnings.simplefilter("ignore", NumbaPendingDeprecationWarning)
        from numba.pycc.cc import CC

    from trading_engine.backtest.fast.kernel import simulate

    key = source_key()
    args = sample_arguments()
    # An exported function is compiled with numba's default flags; the loop's own (error_model="numpy")
    # hold when it is called from a plain wrapper, as a compiled function calls another.
    names = list(inspect.signature(simulate.py_func).parameters)
    if len(names) != len(args):
        raise TypeError(f"kernel.simulate takes {len(names)} arguments, FastEngine passes {len(args)}")
    params = ", ".join(names)
    namespace: dict[str, Any] = {"simulate": simulate}
    exec(f"def aot_simulate({params}):\n    return simulate({params})\n", namespace)
    argtypes = [numba.typeof(a) for a in args]  # type: ignore[no-untyped-call]
    restype = numba.types.Tuple((numba.types.int64[::1], numba.types.float64[::1]))  # type: ignore[no-untyped-call]
    cc = CC(module_name(key))  # type: ignore[no-untyped-call]
    cc.export("simulate", restype(*argtypes))(namespace["aot_simulate"])  # type: ignore[no-untyped-call]
    build_dir.mkdir(parents=True, exist_ok=True)
    path = module_path(build_dir, key)
    path.with_suffix(".json").write_text(json.dumps([[a.dtype.str, a.ndim] for a in args]))
    with tempfile.TemporaryDirectory(dir=build_dir) as tmp:  # a reader never sees half a module
        cc.output_dir = tmp
        cc.compile()
        os.replace(Path(tmp) / path.name, path)
    for old in build_dir.glob("kernel_aot_*"):  # modules of earlier sources are never loaded again
        if not old.name.startswith(module_name(key)):
            old.unlink()
    return path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(f"compiled the fast loop ahead of time: {build()}")
