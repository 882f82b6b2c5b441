"""ingest_bars: Kinesis -> bars table."""
