"""Backtests: the same Trader, session and simulated broker over synthetic days or a bars file."""
