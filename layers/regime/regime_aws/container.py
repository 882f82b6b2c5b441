"""What a Lambda container keeps between invocations, and how the local cloud forgets all of it at once.

A warm container keeps its clients (bound to the endpoint they were made for), the pointer's provider, the
models it loaded and each symbol's last window of bars. The local cloud runs the functions in its own
process: when it starts on a new endpoint, that process must start as a new container would (a cold start).
"""

from __future__ import annotations

from regime_aws import clients
from regime_aws.bar_windows import RECENT_BARS
from regime_aws.model_store import MODELS


def cold_start() -> None:
    """Forget everything a warm container keeps: the next invocation makes its clients and loads anew."""
    clients.client.cache_clear()
    clients.pointer_provider.cache_clear()
    MODELS.clear()
    RECENT_BARS.clear()
