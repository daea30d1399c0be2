"""Where a command's sandboxed programs run: the local engine, or a Ray cluster.

`open_executor` gives the local `Engine` by default; with ``--ray [ADDRESS]`` it gives a
`codestar.distributed.RayExecutor` over the cluster (a private local cluster for
``--ray`` alone, else ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``), and says on stderr
which nodes it runs on with which isolation layers. Both have the same `submit`/`arun`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import click

from codestar.cli.common import stderr, warn
from codestar.errors import ConfigError
from codestar.execution.types import Limits

#: The value ``--ray`` takes when given without an address: a local cluster.
LOCAL_CLUSTER = "local"


_ADDRESS = re.compile(r"(?:ray://)?[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5}")


def _checked(address: str) -> str:
    """``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; anything else is refused now."""
    if address == "auto" or _ADDRESS.fullmatch(address):
        return address
    raise ConfigError(
        f"--ray {address!r} is not a cluster address",
        hint="use --ray alone (a local cluster), --ray auto, or --ray ray://HOST:10001",
    )


def _validated(context: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None or value == LOCAL_CLUSTER:
        return value
    try:
        return _checked(value)
    except ConfigError as error:
        raise click.BadParameter(str(error)) from None


def ray_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--ray [ADDRESS]``: run the sandboxed programs on a Ray cluster."""
    return click.option(
        "--ray",
        "ray_address",
        is_flag=False,
        flag_value=LOCAL_CLUSTER,
        default=None,
        metavar="[ADDRESS]",
        callback=_validated,
        help="Run the sandboxed programs on a Ray cluster: --ray alone starts a local one, "
        "--ray auto joins the running one, e.g. --ray ray://head:10001 (needs "
        "codestar[ray]).",
    )(function)


@contextlib.contextmanager
def open_executor(
    ray_address: str | None,
    *,
    limits: Limits | None = None,
    cache: Any = None,
    gate: Any = None,
    workers: int | None = None,
) -> Iterator[Any]:
    """The local engine, or a Ray executor when ``ray_address`` is set."""
    if ray_address is None:
        from codestar.execution.engine import Engine

        with Engine(workers=workers, limits=limits, gate=gate, cache=cache) as engine:
            engine.start(wait=False)  # the workers start while the command loads its problems
            yield engine
        return
    from codestar.distributed import open_ray_executor

    if gate is not None:
        warn("with --ray the embedded model does not take turns with the programs on the CPU")
    address = None if ray_address == LOCAL_CLUSTER else _checked(ray_address)
    with open_ray_executor(
        address, limits=limits, cache=cache, workers_per_node=workers
    ) as executor:
        for node in executor.nodes:
            stderr.print(
                f"ray node {node.host}: {node.workers} workers, isolation "
                f"{', '.join(node.isolation.active) or 'none'}",
                markup=False,
                soft_wrap=True,
            )
        yield executor
