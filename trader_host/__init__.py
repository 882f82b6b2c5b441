"""The always-on trading host: broker adapters, strategy, execution, risk, cloud adapters, backtest, CLI."""
