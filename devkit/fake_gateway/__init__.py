"""A fake IB Gateway: a loopback server speaking the TWS socket API, driven by the simulated market.

Tests and the benchmark run the unmodified ib_insync client against it; the market, the matching and the
fees are the sim broker's (a SimBroker inside the gateway), so a session through it can be compared with
the same session through the sim broker.
"""
