"""The gate before live money: a live account trades only a strategy configuration and model that have
evidence (`regime-trader evaluate` or `sweep`) of earning out of sample, or with `--accept-unproven`.

A live start without it is refused before anything connects, naming what is missing; a paper start is
warned. `--accept-unproven` is logged at every start and shown on the monitor page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from regime.contracts.evidence import Evidence, EvidenceError

log = logging.getLogger(__name__)


class Unproven(ValueError):
    """A live start without evidence that proves what it trades."""


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """What the gate found: proven, or the shortfalls (and whether the operator accepted them)."""

    proven: bool
    shortfalls: tuple[str, ...]
    accepted: bool

    @property
    def line(self) -> str:
        """One line for the log, the banner and the monitor page."""
        if self.proven:
            return "evidence: proven out of sample"
        missing = "; ".join(self.shortfalls)
        return f"UNPROVEN{' (accepted with --accept-unproven)' if self.accepted else ''}: {missing}"


def check_evidence(
    evidence: Path | None,
    *,
    accept_unproven: bool,
    live: bool,
    strategy_config_hash: str,
    model_version: str,
    regime: str,
) -> GateVerdict:
    """The verdict for a start; raises Unproven on a live account with shortfalls and no acceptance."""
    if evidence is None:
        shortfalls = [
            f"no evidence (--evidence FILE from `regime-trader evaluate` or `sweep`) for strategy config "
            f"{strategy_config_hash} and {f'model {model_version}' if model_version else f'regime {regime}'}"
        ]
    else:
        try:
            shortfalls = Evidence.load(evidence).shortfalls(strategy_config_hash, model_version, regime)
        except EvidenceError as exc:
            shortfalls = [str(exc)]
    verdict = GateVerdict(not shortfalls, tuple(shortfalls), accept_unproven and bool(shortfalls))
    if verdict.proven:
        log.info("live gate: %s (%s)", verdict.line, evidence)
    elif live and not accept_unproven:
        raise Unproven(
            f"a live account needs evidence: {verdict.line.removeprefix('UNPROVEN: ')} "
            "(or --accept-unproven, logged at every start)"
        )
    else:
        log.warning("live gate (%s account): %s", "LIVE" if live else "paper", verdict.line)
    return verdict
