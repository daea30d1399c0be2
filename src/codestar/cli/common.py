"""Pieces every command shares: the stderr console, JSON output, problem selection.

Results go to stdout (a table, a program, or one JSON object); progress, warnings and
summaries go to stderr, so that `codestar ... --json | jq` always gets clean JSON.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from codestar.errors import ConfigError
from codestar.execution.types import Limits
from codestar.problems.loading import load_problems
from codestar.problems.model import Problem

if TYPE_CHECKING:
    from codestar.llm.spec import ModelSpec

F = TypeVar("F", bound=Callable[..., Any])

#: soft_wrap: lines are never cut at the console's width (80 columns when stderr is a
#: file or a pipe); a terminal wraps them itself.
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console() -> Console:
    return Console(highlight=False)


def emit_json(payload: Any) -> None:
    """Write one JSON object to stdout (the only thing `--json` commands print there)."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    stderr.print(f"[yellow]warning:[/] {message}")


def load_one_problem(path: Path, problem_id: str | None) -> Problem:
    """The problem ``problem_id`` of the file (or its only problem)."""
    loaded = load_problems(path)
    for error in loaded.errors:
        warn(str(error))
    problems = loaded.problems
    if problem_id is not None:
        for problem in problems:
            if problem.id == problem_id:
                return problem
        raise ConfigError(
            f"no problem with id {problem_id!r} in {path}",
            hint=f"ids there include {', '.join(p.id for p in problems[:5]) or 'none'}",
        )
    if len(problems) == 1:
        return problems[0]
    if not problems:
        raise ConfigError(f"{path} holds no readable problem")
    raise ConfigError(
        f"{path} holds {len(problems)} problems",
        hint=f"choose one with --problem ID, e.g. --problem {problems[0].id}",
    )


def config_file_option(help: str) -> Callable[[F], F]:
    """The ``--config FILE`` option (a codestar.toml), with this help text."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help=help,
    )


def limits_option(timeout: float | None, memory_mb: int | None) -> Limits:
    """The limits of ``--timeout`` and ``--memory`` (defaults for those not given);
    a bad value is a usage error naming its option."""
    limits = Limits()
    try:
        if timeout is not None:
            limits = replace(limits, timeout_s=timeout)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--timeout'") from error
    try:
        if memory_mb is not None:
            limits = replace(limits, memory_mb=memory_mb)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--memory'") from error
    return limits


def server_model(
    model: str | None, base_url: str | None, api_key: str | None, configured: ModelSpec
) -> str | None:
    """``--model``, or, given ``--base-url`` and no model named anywhere, the one model
    that server serves (a `ConfigError` saying to pass ``--model`` when it serves several
    or does not say). Never the embedded model for a URL the user gave."""
    if base_url is None or model is not None or not configured.local:
        return model
    from codestar.llm.listing import only_model

    name = only_model(base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY"))
    stderr.print(f"model {name}: the one model {base_url} serves", markup=False)
    return name
