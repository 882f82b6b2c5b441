"""The host's cloud edges (boto3): bar publisher, regime reader, fill sink and kill switch.

They are called from the session's single asyncio loop, synchronously and rarely (a batch a minute, a read
every few seconds), with short botocore timeouts, so no thread is needed; anything that cannot be sent is
spooled to disk and replayed, never dropped.
"""
