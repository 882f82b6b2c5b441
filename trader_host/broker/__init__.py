"""The broker adapters of the live host: `ib` (the port and the simulated broker are in `trading_engine`)."""
