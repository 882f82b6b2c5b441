"""The broker's notices (IB's codes by name) reach the metrics as counts per sample, one datum per name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from trader_host.assembly.live_host import assemble
from trader_host.cli import build_parser
from trader_host.cloud.host_metrics import HostMetric, HostMetricsSampler, dimensions


def test_each_notice_name_is_a_count_per_sample(tmp_path: Path) -> None:
    args = ["run", "--no-cloud", "--regime", "range", "--synthetic-days", "1", "--state-dir", str(tmp_path),
            "--monitor-port", "0"]  # fmt: skip
    host = assemble(build_parser().parse_args(args))
    counts = {"1100 connectivity lost": 2, "162 pacing violation": 1}
    setattr(host.session.broker, "notices", counts)  # noqa: B010  # as the IB adapter names them
    sampler = HostMetricsSampler("CL", 0.0)
    sampler.attach(host.session)

    def notices() -> dict[str, float]:
        out = {}
        for d in sampler.sample(0.0, datetime.now(UTC)):
            if d["MetricName"] == HostMetric.BROKER_NOTICES.value:
                assert d["Dimensions"][:2] == dimensions("CL") and d["Unit"] == "Count"
                out[d["Dimensions"][2]["Value"] if len(d["Dimensions"]) > 2 else "all"] = d["Value"]
        return out

    assert notices() == {"all": 3.0, "1100 connectivity lost": 2.0, "162 pacing violation": 1.0}
    counts["1100 connectivity lost"] = 3
    assert notices() == {"all": 1.0, "1100 connectivity lost": 1.0}  # only what is new since the last sample
    assert notices() == {}
    host.close()
