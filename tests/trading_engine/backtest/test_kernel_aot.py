"""The loop compiled ahead of time: the same fills as numba's JIT, checked arguments, a key that follows
the kernel's sources (an edited kernel never runs an old module)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from regime.contracts import Regime
from regime.synthetic import synthetic_days
from trading_engine.backtest.fast import kernel_aot
from trading_engine.backtest.fast import kernel_layout as layout
from trading_engine.backtest.fast.fast_engine import FastEngine
from trading_engine.backtest.fast.kernel import simulate as jit_simulate
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import TIERED
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.regime_source import FixedRegime


def test_the_key_follows_every_source_of_the_loop(tmp_path: Path) -> None:
    for name in kernel_aot.SOURCES:
        shutil.copy(kernel_aot.HERE / name, tmp_path / name)
    key = kernel_aot.source_key(tmp_path)
    assert key == kernel_aot.source_key()
    for name in kernel_aot.SOURCES:
        original = (tmp_path / name).read_text()
        (tmp_path / name).write_text(original + "\n# an edit\n")
        assert kernel_aot.source_key(tmp_path) != key, name
        (tmp_path / name).write_text(original)


def test_without_a_built_module_the_loop_is_numbas(tmp_path: Path) -> None:
    assert kernel_aot.simulate_function(tmp_path) is jit_simulate


@pytest.mark.slow
def test_the_compiled_module_gives_the_jits_fills_and_checks_its_arguments(tmp_path: Path) -> None:
    path = kernel_aot.build(tmp_path)
    assert path.name.startswith(kernel_aot.module_name(kernel_aot.source_key()))
    aot = kernel_aot.simulate_function(tmp_path)
    assert aot is not jit_simulate
    market = synthetic_days(2, seed=3)
    engine = FastEngine(
        MarketTape.from_synthetic(market), contract("CL").with_session(SYNTHETIC_SESSION), TIERED
    )
    fills = 0
    for z_thresh in (1.5, 2.0):
        for regime in (Regime.RANGE, Regime.TREND):
            config = load_config()
            config = dataclasses.replace(
                config, strategy=dataclasses.replace(config.strategy, z_thresh=z_thresh)
            )
            ours = engine.kernel_arguments(config, FixedRegime(regime))
            theirs = engine.kernel_arguments(config, FixedRegime(regime))
            state, fstate = aot(*ours)
            for a, b in zip((state, fstate), jit_simulate(*theirs), strict=True):
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(ours[-1], theirs[-1])  # the fill rows
            fills += int(state[layout.I_NFILL])
    assert fills > 20
    wrong = list(engine.kernel_arguments(load_config(), FixedRegime(Regime.RANGE)))
    wrong[1] = wrong[1].astype(np.int32)  # bid ticks of another width would be read as int64
    with pytest.raises(TypeError, match="argument 1 is <i4"):
        aot(*wrong)
    with pytest.raises(TypeError, match="C-contiguous"):
        aot(*[a[::-1] if k == 0 else a for k, a in enumerate(wrong)])
    from trading_engine.backtest.fast import kernel_tape

    samples = kernel_aot.sample_arguments()
    for name in ("walk_bars", "ticks_zscores", "atr_totals", "timeline_codes"):
        compiled = kernel_aot.compiled(name, tmp_path)
        assert compiled is not getattr(kernel_tape, name)
        args = samples[name]
        ours, theirs = compiled(*args), getattr(kernel_tape, name)(*args)
        for a, b in zip(
            ours if isinstance(ours, tuple) else (ours,),
            theirs if isinstance(theirs, tuple) else (theirs,),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)
    walk = list(samples["walk_bars"])
    walk[-1] = 1.5  # the spread is a whole number of ticks
    with pytest.raises(TypeError, match=r"argument 7 is 1\.5, built for a <i8 scalar"):
        kernel_aot.compiled("walk_bars", tmp_path)(*walk)
