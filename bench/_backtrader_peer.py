"""The backtrader side of `python -m bench backtest_vs_backtrader`: the z-score strategy under a fixed range
regime on a bars file, load + run, as one process of backtrader 1.9.78 (run with the throwaway venv's
python, never imported by the project: backtrader is not a dependency).

The strategy, as regime-trader's with the regime fixed to range: the z-score of the close against the last
20 closes (unbiased sd); flat and Z_THRESH <= |z| <= Z_THRESH + Z_THRESH_UP: a limit order for one contract
at the close against the move (z < 0 buys); a filled position exits when |z| is back within Z_TARGET (a
limit at the close) or by a trailing stop STOP_OFFSET ticks behind the best price; an entry not filled
within the next bar is cancelled. Commission: IBKR tiered MES, 0.62 USD per contract per side.

Usage: /tmp/bt-venv/bin/python bench/_backtrader_peer.py BARS.csv [TICK_SIZE] [MULTIPLIER]
Prints one JSON line: bars, round trips, net USD, seconds.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import backtrader as bt  # type: ignore[import-not-found,unused-ignore]

LOOKBACK, Z_THRESH, Z_THRESH_UP, Z_TARGET, STOP_OFFSET = 20, 2.0, 0.5, 0.2, 4
FEE_PER_SIDE = 0.62


class ZScoreRange(bt.Strategy):  # type: ignore[misc,unused-ignore]
    params = (("tick", 0.25),)

    def __init__(self) -> None:
        close = self.data.close
        self.mean = bt.indicators.SimpleMovingAverage(close, period=LOOKBACK)
        self.sd = bt.indicators.StandardDeviation(close, period=LOOKBACK)
        self.entry: Any = None
        self.exits: list[Any] = []
        self.trips = 0

    def notify_order(self, order: Any) -> None:
        # backtrader notifies copies of its orders: they are known by their ref
        if self.entry is None or order.ref != self.entry.ref:
            return
        if order.status == order.Completed:
            self.entry = None
            offset = STOP_OFFSET * self.p.tick
            self.exits = [self.close(exectype=bt.Order.StopTrail, trailamount=offset)]
        elif order.status in (order.Canceled, order.Expired, order.Margin, order.Rejected):
            self.entry = None

    def notify_trade(self, trade: Any) -> None:
        if trade.isclosed:
            self.trips += 1

    def next(self) -> None:
        sd = self.sd[0] * (LOOKBACK / (LOOKBACK - 1)) ** 0.5  # unbiased, as RollingStats
        if sd <= 0:
            return
        z = (self.data.close[0] - self.mean[0]) / sd
        if self.position:
            if abs(z) <= Z_TARGET:
                for order in self.exits:
                    self.cancel(order)
                self.exits = [self.close()]
            return
        if self.entry is None and Z_THRESH <= abs(z) <= Z_THRESH + Z_THRESH_UP:
            valid = self.data.datetime.datetime(0) + _MINUTE
            make = self.buy if z < 0 else self.sell
            self.entry = make(exectype=bt.Order.Limit, price=self.data.close[0], size=1, valid=valid)


_MINUTE: Any = None


def main(path: str, tick: float = 0.25, multiplier: float = 5.0) -> None:
    global _MINUTE
    from datetime import timedelta

    _MINUTE = timedelta(minutes=1)
    start = time.perf_counter()
    cerebro = bt.Cerebro(stdstats=False)
    data = bt.feeds.GenericCSVData(
        dataname=path,
        dtformat="%Y-%m-%dT%H:%M:%SZ",
        timeframe=bt.TimeFrame.Minutes,
        datetime=0,
        open=1,
        high=2,
        low=3,
        close=4,
        volume=5,
        openinterest=-1,
    )
    cerebro.adddata(data)
    cerebro.addstrategy(ZScoreRange, tick=tick)
    cerebro.broker.setcash(1_000_000.0)
    cerebro.broker.setcommission(commission=FEE_PER_SIDE, margin=1000.0, mult=multiplier)
    (strategy,) = cerebro.run()
    seconds = time.perf_counter() - start
    net = cerebro.broker.getvalue() - 1_000_000.0
    print(
        json.dumps(
            {"bars": len(data), "round_trips": strategy.trips, "net_usd": round(net, 2), "seconds": seconds}
        )
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], *(float(a) for a in args[1:3]))
