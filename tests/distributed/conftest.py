"""A real two-node Ray cluster on 127.0.0.1 (head and one worker node, a CPU each).

The cluster is started once per test session and always shut down; tests that kill a
node add a node of their own to kill. Ray resolves a 127.0.0.1 cluster address to the
machine's outward address unless it is told it is on a single host, and only
127.0.0.1 may be used here: hence the environment variable, set before Ray is imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
try:
    import ray
    from ray.cluster_utils import Cluster
except ImportError:  # the tests that need a cluster skip; the others still run
    ray = None

STORE_BYTES = 100 * 1024 * 1024

#: Node deaths are noticed in about a second instead of Ray's default half minute.
FAST_FAILURE_DETECTION = {
    "health_check_period_ms": 300,
    "health_check_failure_threshold": 3,
    "health_check_initial_delay_ms": 0,
}


def node_options(**extra: Any) -> dict[str, Any]:
    return {
        "num_cpus": 1,
        "node_ip_address": "127.0.0.1",
        "object_store_memory": STORE_BYTES,
        **extra,
    }


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    """A head and a worker node, and this process connected to them as the driver."""
    if ray is None:
        pytest.skip("the ray extra is not installed")
    started = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args=node_options(include_dashboard=False, _system_config=FAST_FAILURE_DETECTION),
    )
    try:
        started.add_node(**node_options())
        started.wait_for_nodes()
        ray.init(
            address=started.address,
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
            configure_logging=False,
        )
        yield started
    finally:
        ray.shutdown()
        started.shutdown()


@pytest.fixture
def spare_node(cluster: Any) -> Iterator[Any]:
    """One more worker node, for a test to kill; removed afterwards if it is still up."""
    node = cluster.add_node(**node_options())
    cluster.wait_for_nodes()
    yield node
    if node in cluster.worker_nodes:
        cluster.remove_node(node)
