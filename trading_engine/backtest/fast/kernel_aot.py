"""The fast loop and the tape's passes compiled ahead of time, so that a backtest starts without numba.

Importing numba and starting its compiler (its target, which imports scipy's BLAS) costs seconds and 150 MB
on every run, where the loop over a year of MES takes a fifth of a second. `python -m
trading_engine.backtest.fast.kernel_aot` (run by `make venv`) compiles `kernel.simulate` and the tape's
loops (`kernel_tape`) with numba's AOT compiler into one plain extension module in __pycache__ beside the
kernel, whose name carries a key of the kernels' sources, numpy's version and the interpreter: after any
edit to a kernel the key changes, the old module is never loaded, and `compiled(name)` gives numba's JIT
(cached) until it is built again.

Each function's argument types are those its caller passes (taken from a small synthetic tape, recorded
beside the module); a call is checked against them, since a compiled module would read an array of another
dtype as its own.
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
    "kernel_tape.py",
    "kernel_views.py",
    "kernel_aot.py",
)
# What the module exports: name -> (module, function) of the njit function it compiles.
EXPORTS = {
    "simulate": ("trading_engine.backtest.fast.kernel", "simulate"),
    "walk_bars": ("trading_engine.backtest.fast.kernel_tape", "walk_bars"),
    "ticks_zscores": ("trading_engine.backtest.fast.kernel_tape", "ticks_zscores"),
    "atr_totals": ("trading_engine.backtest.fast.kernel_tape", "atr_totals"),
    "timeline_codes": ("trading_engine.backtest.fast.kernel_tape", "timeline_codes"),
}
Simulate = Callable[..., tuple[np.ndarray, np.ndarray]]
_loaded: dict[Path, dict[str, Callable[..., Any]]] = {}


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


def built(name: str, build_dir: Path | None = None) -> Callable[..., Any] | None:
    """The function `name` of EXPORTS from the ahead-of-time module matching today's sources, or None when
    it is not built (then nothing of numba is imported: a caller with a numpy way does without). The module
    is found and loaded once per build folder: a backtest's many runs neither re-read the sources nor
    re-log."""
    path = module_path(build_dir or BUILD_DIR, _installed_key())
    if path not in _loaded:
        if path.exists():
            module = _import(path)
            signatures = json.loads(path.with_suffix(".json").read_text())
            _loaded[path] = {n: _checked(n, getattr(module, n), signatures[n]) for n in EXPORTS}
        else:
            log.info("fast engine: %s not built (make venv builds it)", path.name)
            _loaded[path] = {}
    return _loaded[path].get(name)


def compiled(name: str, build_dir: Path | None = None) -> Callable[..., Any]:
    """The function `name` of EXPORTS: compiled ahead of time if built, else numba's JIT (cached)."""
    function = built(name, build_dir)
    if function is None:
        module, attr = EXPORTS[name]
        function = getattr(importlib.import_module(module), attr)
    return function


def simulate_function(build_dir: Path | None = None) -> Simulate:
    """`kernel.simulate`, compiled ahead of time when built (see `compiled`)."""
    return compiled("simulate", build_dir)


def _import(path: Path) -> Any:
    name = path.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checked(name: str, function: Callable[..., Any], expected: list[list[Any]]) -> Callable[..., Any]:
    """`function` behind a check of its arguments against the types it was compiled for (a scalar's
    dimension is recorded as -1)."""

    def call(*args: Any) -> Any:
        if len(args) != len(expected):
            raise TypeError(f"compiled {name}: {len(args)} arguments, built for {len(expected)}")
        for k, (arg, (dtype, ndim)) in enumerate(zip(args, expected, strict=True)):
            if ndim < 0:
                if np.asarray(arg).dtype.kind != np.dtype(dtype).kind:
                    raise TypeError(f"compiled {name}: argument {k} is {arg!r}, built for a {dtype} scalar")
            elif arg.dtype.str != dtype or arg.ndim != ndim or not arg.flags.c_contiguous:
                raise TypeError(
                    f"compiled {name}: argument {k} is {arg.dtype.str} {arg.ndim}-d "
                    f"(C-contiguous: {arg.flags.c_contiguous}), built for a C-contiguous {dtype} {ndim}-d: "
                    "rebuild it (python -m trading_engine.backtest.fast.kernel_aot)"
                )
        return function(*args)

    return call


def sample_arguments() -> dict[str, tuple[Any, ...]]:
    """For each export, the arguments its caller passes on one synthetic session (their types are the
    module's signatures)."""
    from regime.contracts import Regime
    from regime.synthetic import synthetic_days
    from trading_engine.backtest.fast.fast_engine import FastEngine
    from trading_engine.backtest.fast.inputs import atr_arguments, timeline_arguments, zscore_arguments
    from trading_engine.broker.sim.market_tape import MarketTape, walk_arguments
    from trading_engine.config import HostConfig
    from trading_engine.fees import fee_schedule
    from trading_engine.instruments import SYNTHETIC_SESSION, contract
    from trading_engine.regime_source import FixedRegime, RegimeTimeline

    market = synthetic_days(1, seed=1)
    spec = contract(market.spec.symbol).with_session(SYNTHETIC_SESSION)
    engine = FastEngine(MarketTape.from_synthetic(market), spec, fee_schedule("none", spec.symbol))
    timeline = RegimeTimeline(int(market.bars.minute[0]), np.ones(len(market.bars), dtype=np.int8))
    return {
        "simulate": engine.kernel_arguments(HostConfig(), FixedRegime(Regime.RANGE)),
        "walk_bars": walk_arguments(market.bars, float(spec.tick_size), 1),
        "ticks_zscores": zscore_arguments(engine.arrays, 20, 5),
        "atr_totals": atr_arguments(engine.arrays, 14, 5),
        "timeline_codes": timeline_arguments(timeline, engine.arrays.time),
    }


def _signature(arg: Any) -> list[Any]:
    """[dtype, ndim] of an array argument, [dtype, -1] of a scalar."""
    if isinstance(arg, np.ndarray):
        return [arg.dtype.str, arg.ndim]
    return [np.asarray(arg).dtype.str, -1]


def build(build_dir: Path = BUILD_DIR) -> Path:
    """Compile every export into `build_dir` (a minute or two); the module's path."""
    import numba
    from numba.core.errors import NumbaPendingDeprecationWarning

    with warnings.catch_warnings():  # pending deprecation since 0.57, without a replacement yet
        warnings.simplefilter("ignore", NumbaPendingDeprecationWarning)
        from numba.pycc.cc import CC

    key = source_key()
    samples = sample_arguments()
    cc = CC(module_name(key))  # type: ignore[no-untyped-call]
    for name, (module, attr) in EXPORTS.items():
        function, args = getattr(importlib.import_module(module), attr), samples[name]
        # An exported function is compiled with numba's default flags; the kernel's own (error_model=
        # "numpy") hold when it is called from a plain wrapper, as a compiled function calls another.
        names = list(inspect.signature(function.py_func).parameters)
        if len(names) != len(args):
            raise TypeError(f"{attr} takes {len(names)} arguments, its caller passes {len(args)}")
        params = ", ".join(names)
        namespace: dict[str, Any] = {"function": function}
        exec(f"def aot_{name}({params}):\n    return function({params})\n", namespace)
        argtypes = tuple(numba.typeof(a) for a in args)  # type: ignore[no-untyped-call]
        function.compile(argtypes)  # the JIT's typing gives the return type
        restype = function.overloads[argtypes].signature.return_type
        cc.export(name, restype(*argtypes))(namespace[f"aot_{name}"])  # type: ignore[no-untyped-call]
    build_dir.mkdir(parents=True, exist_ok=True)
    path = module_path(build_dir, key)
    signatures = {name: [_signature(a) for a in samples[name]] for name in EXPORTS}
    path.with_suffix(".json").write_text(json.dumps(signatures))
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
    print(f"compiled the fast loop and the tape's passes ahead of time: {build()}")
