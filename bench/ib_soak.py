"""A paper-trading soak: `regime-trader run --broker ib` against the fake IB Gateway for many simulated days.

One gateway (one account, one book) serves the whole soak on the virtual clock; the host is assembled as
the command line does, run a segment at a time on one state folder (its journal), and between segments it
is either stopped by a signal (it flattens) or killed with whatever it holds (the next start restores the
journal and reconciles). Injected on a schedule: gateway restarts (dropped connections, fills while away),
1100/1102 (IB's link lost and back), 10197 (a competing session: no data for a while), partial fills, and
a futures roll (the listing's front month comes within the roll days mid-soak). At the end, checked:
every execution at the gateway is in the journal exactly once, the account is flat, and the journal's
realised P&L equals the one the gateway's executions give.

Run: `.venv/bin/python -m bench ib_soak` (a few minutes); figures in bench/results/ib_soak.json.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.results import write_results
from devkit.fake_gateway.messages import ListedMonth
from devkit.fake_gateway.script import GatewayScript
from devkit.fake_gateway.server import FakeGateway
from regime.synthetic import synthetic_days
from trader_host.assembly.broker_choice import IbOverrides
from trader_host.assembly.live_host import assemble
from trader_host.broker.ib.config import IbConfig
from trader_host.broker.ib.ib_broker import IbBroker
from trader_host.cli import build_parser
from trading_engine.broker.sim.faults import FaultPlan
from trading_engine.broker.sim.market_tape import MarketTape
from trading_engine.config import load_config
from trading_engine.fees import fee_schedule
from trading_engine.instruments import SYNTHETIC_SESSION, contract
from trading_engine.journal.trade_journal import TradeJournal
from trading_engine.session import TradingSession

REPO = Path(__file__).resolve().parents[1]
SPEC = contract("CL").with_session(SYNTHETIC_SESSION)
# The synthetic market starts on Sunday 2026-01-04: CLG6 is traded the first day, due to roll on the next.
MONTHS = (ListedMonth(1, "CL", "CLG6", "20260110"), ListedMonth(2, "CL", "CLH6", "20260210"))


@dataclass
class SoakReport:
    days: int
    segments: int = 0
    kills: int = 0  # segments ended with a position open and no flattening
    events: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    gateway_executions: int = 0
    journal_fills: int = 0
    missing: list[str] = field(default_factory=list)  # at the gateway, not in the journal
    duplicated: list[str] = field(default_factory=list)  # in the journal more than once
    unknown: list[str] = field(default_factory=list)  # in the journal, not at the gateway
    final_position: int = 0
    journal_net_usd: Decimal = Decimal(0)
    gateway_net_usd: Decimal = Decimal(0)
    months_traded: list[str] = field(default_factory=list)  # held or ordered in: two after a roll
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def clean(self) -> bool:
        return (
            not (self.missing or self.duplicated or self.unknown or self.failures)
            and self.final_position == 0
            and self.journal_net_usd == self.gateway_net_usd
        )

    def figures(self) -> dict[str, Any]:
        return {
            "days": self.days, "segments": self.segments, "kills": self.kills, "events": self.events,
            "faults": dict(self.faults), "gateway_executions": self.gateway_executions,
            "journal_fills": self.journal_fills, "missing": len(self.missing),
            "duplicated": len(self.duplicated), "unknown": len(self.unknown),
            "final_position": self.final_position, "journal_net_usd": str(self.journal_net_usd),
            "gateway_net_usd": str(self.gateway_net_usd), "months_traded": self.months_traded,
            "failures": self.failures, "wall_s": round(self.wall_s, 1), "clean": self.clean,
        }  # fmt: skip


class Killer:
    """Kills the host (no flattening, no goodbye) at its first event past `after` with a position open."""

    def __init__(self, session: TradingSession, run: asyncio.Future[None], after: float, report: SoakReport):
        self.session, self.run, self.after, self.report = session, run, after, report

    def observe(self, event: object, now: float) -> None:
        if now >= self.after and self.session.trader.position and not self.run.cancelled():
            self.run.cancel()
            self.report.kills += 1


def schedule(tape: MarketTape, days: int) -> tuple[FaultPlan, GatewayScript, list[float]]:
    """The faults, a few per simulated day, and the segments' end times (the host's restarts)."""
    t0, t1 = float(tape.time[0]), float(tape.time[-1])
    span = (t1 - t0) / days
    drops, notices, silent, ends = [], [], [], []
    for d in range(days):
        base = t0 + d * span
        drops.append((base + 0.25 * span, base + 0.25 * span + 120))  # a gateway restart, 2 minutes
        notices += [(base + 0.45 * span, 1100), (base + 0.45 * span + 90, 1102)]
        notices.append((base + 0.8 * span, 10197))  # a competing session takes the data for 3 minutes
        silent.append((base + 0.8 * span, base + 0.8 * span + 180))
        ends += [base + 0.35 * span, base + 0.7 * span, base + span]
    faults = FaultPlan(disconnects=tuple(drops), partial_fill_prob=0.3)
    script = GatewayScript(months=MONTHS, notices=tuple(notices), silent=tuple(silent))
    return faults, script, [*ends[:-1], t1]


async def soak(days: int, state: Path, seed: int = 5, hours: float | None = None) -> SoakReport:
    """`days` simulated days, or only the first `hours` of them (the same faults, closer together)."""
    report = SoakReport(days)
    tape = MarketTape.from_synthetic(synthetic_days(days, seed=seed))
    if hours is not None:
        tape = tape.until(float(tape.time[0]) + hours * 3600)
    faults, script, ends = schedule(tape, days)
    report.faults.update(
        {"gateway restarts": len(faults.disconnects), "1100/1102": len(script.notices) // 3,
         "10197 competing session": len(script.silent)}
    )  # fmt: skip
    strategy = state / "strategy.toml"  # two contracts a trade: limit orders can fill in parts
    text = (REPO / "config" / "strategy.toml").read_text()
    strategy.write_text(
        text.replace("order_qty = 1 ", "order_qty = 2 ").replace("max_position = 1 ", "max_position = 2 ")
    )
    config = load_config(strategy)
    gw = FakeGateway(tape, SPEC, fee_schedule(config.fees.schedule), config.sim, faults, script)
    port = await gw.start()
    ib = IbConfig(backoff_initial_s=1.0, backoff_max_s=5.0)
    started = time.perf_counter()
    months: set[str] = set()
    try:
        for k, end in enumerate(ends):
            kill = k % 2 == 0 and k < len(ends) - 1  # every other restart is a kill, the last one a stop
            argv = ["run", "--broker", "ib", "--port", str(port), "--state-dir", str(state), "--no-cloud",
                    "--regime", "range", "--monitor-port", "0", "--config", str(strategy)]  # fmt: skip
            host = assemble(build_parser().parse_args(argv), IbOverrides(gw.clock, SPEC, ib))
            session = host.session
            session.stop_at = end
            run = asyncio.ensure_future(session.run())
            if kill:
                session.observer = Killer(session, run, session.broker.now() + 1800, report)
            await asyncio.gather(run, return_exceptions=True)
            host.close()
            report.segments += 1
            report.events += session.events
            if session.failure is not None:
                report.failures.append(f"segment {k}: {session.failure}")
            assert isinstance(session.broker, IbBroker)
            if session.broker.contract is not None:
                months.add(session.broker.contract.localSymbol)
            for name, count in session.broker.notices.items():
                report.faults[f"notice {name}"] += count
        report.wall_s = time.perf_counter() - started
        executions = await gw.sim.executions()
        report.gateway_executions = len(executions)
        report.faults["partial fills"] = sum(
            1 for n in Counter(e.order_id for e in executions).values() if n > 1
        )
        report.final_position = sum(e.side.sign * e.qty for e in executions)
        value = SPEC.tick_value_usd
        report.gateway_net_usd = sum(
            (-e.side.sign * e.qty * e.price * value - e.commission_usd for e in executions), Decimal(0)
        )
        journal = TradeJournal(state / "CL.journal")
        fills = [e.record for e in journal.read()[0] if e.kind == "fill"]
        journal.close()
        report.journal_fills = len(fills)
        seen = Counter(str(f["execution_id"]) for f in fills)
        at_gateway = {e.execution_id for e in executions}
        report.missing = sorted(at_gateway - set(seen))
        report.duplicated = sorted(x for x, n in seen.items() if n > 1)
        report.unknown = sorted(set(seen) - at_gateway)
        final = assemble(build_parser().parse_args(argv), IbOverrides(gw.clock, SPEC, ib))
        report.journal_net_usd = final.session.trader.realised_net_usd()  # the journal replayed
        final.close()
        report.months_traded = sorted(months | {month for month, _ in gw.placed})
    finally:
        await gw.close()
    return report


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(soak(5, Path(tmp)))
    figures = report.figures()
    for key, value in figures.items():
        print(f"{key}: {value}")
    write_results("ib_soak", figures)


if __name__ == "__main__":
    main()
