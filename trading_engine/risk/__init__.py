"""Risk: limits that refuse entries and demand a flatten. Pure logic; the kill switch's source is injected."""
