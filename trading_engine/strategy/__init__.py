"""The article's z-score strategy: pure logic, no I/O, identical in live, simulated and backtest runs."""
