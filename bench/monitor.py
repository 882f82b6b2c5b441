"""The live monitor: update latency from tick to screen, and what serving the page costs the host.

1. Tick -> screen: synthetic CL on the sim broker at 120x real time (30 to 60 ticks a second) with the page
   open in headless Debian chromium; the host stamps each tick with its wall clock when it has handled it,
   and the page measures, for the newest tick of each frame, the time until the frame that draws it.
2. The host's cost: the same paced session three ways, without a monitor, with the monitor serving nobody,
   and with the page open: the host process's CPU seconds (chromium is another process, not counted) as a
   share of the wall time, and the per-tick decision latency (event in -> commands sent), which the monitor
   must leave alone.
3. The tap on the tick path: what `MonitorTap.observe` costs per tick (best of 5 runs of 20,000 ticks
   into a warm session's tap), beside the session's own per-tick decision time.

Run: `.venv/bin/python -m bench monitor` (about 2 minutes; needs /usr/bin/chromium, `make browser`);
figures in bench/results/monitor.json.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from typing import Any

from bench._chromium import Chromium
from bench._monitored import MonitoredHost, monitored_host
from bench.results import percentiles_us, write_results
from trading_engine.broker.port import Tick

PACE = 120.0
MINUTES = 60.0  # 30 s of wall time per paced run


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


async def _paced(mode: str) -> dict[str, Any]:
    """One paced session; mode: 'none' (no monitor), 'idle' (serving nobody), 'page' (chromium watching)."""
    host: MonitoredHost = monitored_host(pace=PACE, minutes=MINUTES)
    if mode == "none":
        host.session.observer = None
    else:
        await host.server.start()
    latencies: list[float] = []
    try:
        if mode == "page":
            async with Chromium() as browser:
                await browser.navigate(host.server.url)
                await browser.wait_for("document.getElementById('stream-status').textContent === 'live'")
                cpu, wall = time.process_time(), time.perf_counter()
                await host.session.run()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                await browser.wait_for(f"monitor.seq.tick === {host.tap.tick_seq}")
                latencies = await browser.evaluate("monitor.latencies")
                assert browser.errors == [], browser.errors
        else:
            cpu, wall = time.process_time(), time.perf_counter()
            await host.session.run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await host.server.close()
    figures: dict[str, Any] = {
        "ticks": host.tap.tick_seq if mode != "none" else len(host.session.tick_latency_s),
        "wall_s": round(wall, 2),
        "host_cpu_s": round(cpu, 3),
        "host_cpu_share_of_one_core": round(cpu / wall, 4),
        "tick_decision": percentiles_us(host.session.tick_latency_s),
    }
    if mode != "none":
        figures["frames_sent"] = host.server.frames
    if latencies:
        figures["tick_to_screen"] = _ms(latencies)
    return figures


def _tap_cost(repeats: int = 5, n: int = 20_000) -> dict[str, float]:
    """The tap's own cost per tick (what the session pays on top of its decision), best of `repeats`."""
    host = monitored_host(pace=None, minutes=60)
    asyncio.run(host.session.run())  # a warm trader: full window, z-scores, a regime record
    tap, t0 = host.tap, host.session.broker.now()
    ticks = [Tick(t0 + k * 0.01, 7000 + k % 7, 7001 + k % 7, 7000 + k % 7, 1) for k in range(n)]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for tick in ticks:
            tap.observe(tick, tick.ts)
        best = min(best, time.perf_counter() - started)
    decisions = percentiles_us(host.session.tick_latency_s)
    return {"tap_us_per_tick": round(best / n * 1e6, 3), "decision_median_us": decisions["median_us"]}


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("trader_host").setLevel(logging.WARNING)
    paced = {mode: asyncio.run(_paced(mode)) for mode in ("none", "idle", "page")}
    for mode, figures in paced.items():
        print(f"paced x{PACE:g}, monitor {mode:4}: {figures}")
    tap = _tap_cost()
    print(f"the tap on the tick path: {tap}")
    page = paced["page"]
    none = paced["none"]
    summary = {
        "tick_to_screen_median_ms": page["tick_to_screen"]["median_ms"],
        "tick_to_screen_p99_ms": page["tick_to_screen"]["p99_ms"],
        "host_cpu_share_without_monitor": none["host_cpu_share_of_one_core"],
        "host_cpu_share_serving_nobody": paced["idle"]["host_cpu_share_of_one_core"],
        "host_cpu_share_serving_the_page": page["host_cpu_share_of_one_core"],
        "tick_decision_median_us_without": none["tick_decision"]["median_us"],
        "tick_decision_median_us_with_page": page["tick_decision"]["median_us"],
        "tap_us_per_tick": tap["tap_us_per_tick"],
    }
    print(f"summary: {summary}")
    figures = {"pace": PACE, "minutes": MINUTES, "summary": summary, "paced": paced, "tap": tap}
    write_results("monitor", figures)


if __name__ == "__main__":
    main()
