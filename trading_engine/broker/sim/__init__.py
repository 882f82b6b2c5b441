"""The simulated broker: a market tape, a matching engine, fault injection and a virtual clock."""
