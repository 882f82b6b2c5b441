"""The reference trading engine: the Trader (strategy, execution, risk, ledger), the session that drives it,
restart, the broker port and the simulated broker, the journal, the backtest runner, the fast engine and
sweeps. Pure of adapters: the live host (`trader_host`) and the train function import it, never the reverse.
"""
