"""The Interactive Brokers adapter: BrokerPort over ib_insync (imported only in `ib_api`), and a fake gateway."""
