"""The live monitor: a read-only web page of what the trading host is doing, served on the host's loop.

The session hands every event to a MonitorTap (O(1), no I/O); the MonitorServer reads the tap and the
trader between the session's awaits and streams frames to browsers over server-sent events.
"""
