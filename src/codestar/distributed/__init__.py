"""Scale-out on Ray: sandboxed execution across a cluster, behind the `Engine` interface.

    from codestar.distributed import open_ray_executor
    with open_ray_executor("auto", cache=store) as executor:   # or None: a local cluster
        executor.nodes          # each node's workers and isolation layers
        await evaluate(problems, models=models, engine=executor, config=config, ...)

    RayExecutor         submit / arun / run over one engine actor per node
    NodeIsolation       one node's engine: host, workers, isolation layers
    DispatchStats       jobs dispatched, answered by the store, resubmitted, nodes lost
    RayNotInstalledError  ``--ray`` without the ``ray`` extra (a ConfigError)

Only program execution is distributed; model calls, the run store and every decision
stay on the driver (see docs/scaling.md). Nothing here imports Ray until it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
    from codestar.distributed.cluster import (
        RayNotInstalledError,
        connect,
        install_hint,
        require_ray,
    )
    from codestar.distributed.executor import DispatchStats, RayExecutor, open_ray_executor
    from codestar.distributed.node import NodeIsolation

_HOMES = {
    "DispatchStats": "executor",
    "NodeIsolation": "node",
    "RayExecutor": "executor",
    "RayNotInstalledError": "cluster",
    "connect": "cluster",
    "install_hint": "cluster",
    "open_ray_executor": "executor",
    "require_ray": "cluster",
}

__all__ = [
    "DispatchStats",
    "NodeIsolation",
    "RayExecutor",
    "RayNotInstalledError",
    "connect",
    "install_hint",
    "open_ray_executor",
    "require_ray",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
