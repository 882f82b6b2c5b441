"""The Interactive Brokers adapter: BrokerPort over ib_insync (imported in `ib_api` only); a fake gateway."""
