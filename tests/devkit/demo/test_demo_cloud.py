"""DemoCloud starts its functions as new containers: nothing an earlier local cloud of the same process left
in the layer (clients bound to its endpoint, models, windows) may reach the new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.demo.cloud import DemoCloud
from devkit.local_cloud.endpoint import endpoint_environment, free_port
from regime_aws import clients
from regime_aws.container import cold_start

pytestmark = pytest.mark.integration


def test_a_demo_cloud_on_a_new_endpoint_is_a_cold_start(tmp_path: Path) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    cold_start()  # whatever earlier tests of this worker left: the client below must be made here
    with endpoint_environment(gone):  # an earlier local cloud of this process, since stopped
        assert clients.client("dynamodb").meta.endpoint_url == gone
    with DemoCloud.start(tmp_path) as cloud:
        assert clients.client("dynamodb").meta.endpoint_url == cloud.server.url
        assert clients.pointer_provider().client.meta.endpoint_url == cloud.server.url
    assert clients.client.cache_info().currsize == 0  # and none outlives it
