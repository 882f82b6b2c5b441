"""Durable local records: the append-only trade journal, its ship cursor, the quarantine of bad lines."""
