"""Execution: order lifecycle, timeouts and the position ledger. Pure logic: it emits commands only."""
