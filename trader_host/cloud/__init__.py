"""The host's cloud edges (boto3): bar publisher, regime reader, journal shipper, kill switch, stack outputs.

Every boto3 call is blocking, so none runs on the event loop: each adapter's I/O is a CloudJob run in a worker
thread, with short botocore timeouts, and the tick path only reads what the last call left behind. Anything
that cannot be sent stays on disk (journal, spool) and goes later, never dropped.
"""
