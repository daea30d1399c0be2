"""Joining a Ray cluster: importing Ray on demand, connecting, listing the live nodes.

    >>> from codestar.distributed.cluster import install_hint
    >>> install_hint()
    "pip install 'codestar[ray]'"

`connect` joins the cluster at an address (``auto``: the one ``ray start`` left on this
machine; ``ray://host:port``: through the Ray client; ``None``: a private local
cluster on 127.0.0.1, stopped again on exit) or reuses the connection the process
already has. `live_nodes` says which nodes can run work and how many CPUs each has.

It does not start actors or run programs (see `codestar.distributed.node` and
`codestar.distributed.executor`), and it never imports Ray at import time.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

from codestar.errors import ConfigError, SandboxError

#: Object store of a private local cluster: enough for test sets, small on a laptop.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024


class RayNotInstalledError(ConfigError):
    """Ray is asked for (``--ray``) but the ``ray`` extra is not installed."""


def install_hint() -> str:
    """The one command that makes ``--ray`` work."""
    return "pip install 'codestar[ray]'"


def require_ray() -> ModuleType:
    """The ``ray`` module, or `RayNotInstalledError` saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise RayNotInstalledError(
            "Ray is not installed", hint=f"install it with: {install_hint()}"
        ) from None


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A live node of the cluster: its Ray id, address and CPUs."""

    node_id: str
    address: str
    cpus: int


def live_nodes() -> list[NodeInfo]:
    """The nodes that are alive and have CPUs, in Ray's order (the head usually first)."""
    ray = require_ray()
    nodes = []
    for node in ray.nodes():
        cpus = int(node.get("Resources", {}).get("CPU", 0))
        if node.get("Alive") and cpus > 0:
            nodes.append(NodeInfo(node["NodeID"], node.get("NodeManagerAddress", ""), cpus))
    return nodes


@contextlib.contextmanager
def connect(address: str | None = None, *, local_cpus: int | None = None) -> Iterator[bool]:
    """Be connected to a Ray cluster for the ``with`` block; yields True if it started one.

    A process already connected keeps its connection (and it is left open on exit).
    ``local_cpus`` sizes the private local cluster started when ``address`` is None.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield False
        return
    options: dict[str, object] = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        options.update(
            num_cpus=local_cpus,
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            _node_ip_address="127.0.0.1",
        )
    try:
        ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as error:
        where = address or "a new local cluster"
        raise SandboxError(
            f"cannot connect to the Ray cluster at {where}: {error}",
            hint="start one with `ray start --head` or pass --ray ray://HOST:10001",
        ) from None
    try:
        yield True
    finally:
        ray.shutdown()
