"""Indicators shared by the strategy and the simulated broker (pure arithmetic, no I/O)."""
