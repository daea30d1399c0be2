"""Option groups that several commands share: the models, the budget, the S* switches.

Each is a decorator adding the same click options with the same help, so `codestar
solve` and `codestar eval` read models and budgets alike; `llm_config` turns their values
into an `LLMConfig` (the config file with the flags on top).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from codestar.cli.common import config_file_option, server_model
from codestar.llm.config import LLMConfig, load_config
from codestar.pipeline.config import PROMPT_VARIANTS, SELECTION_RULES

F = TypeVar("F", bound=Callable[..., Any])


def _apply(function: F, options: list[Callable[[F], F]]) -> F:
    for option in reversed(options):
        function = option(function)
    return function


def model_options(function: F) -> F:
    """--model, --judge-model, --input-model, --base-url, --api-key, --config."""
    return _apply(
        function,
        [
            click.option(
                "--model",
                default=None,
                help="Model spec: 'local' (the embedded model; the default unless --config "
                "names one), 'local:1.5b', or a server's model name, e.g. --model gpt-4o-mini.",
            ),
            click.option(
                "--judge-model",
                default=None,
                help="Model spec of the judge (default: --model), e.g. --judge-model gpt-4o-mini.",
            ),
            click.option(
                "--input-model",
                default=None,
                help="Model spec of the input writer (default: --model), "
                "e.g. --input-model gpt-4o-mini.",
            ),
            click.option(
                "--base-url",
                default=None,
                help="OpenAI-compatible endpoint, e.g. --base-url http://localhost:8000/v1.",
            ),
            click.option(
                "--api-key",
                default=None,
                help="API key for --base-url (default: $OPENAI_API_KEY), e.g. --api-key sk-...",
            ),
            config_file_option(
                "codestar.toml with [model], [roles], [prices] and [budget] tables (flags "
                "override it), e.g. --config codestar.toml."
            ),
        ],
    )


def budget_options(function: F) -> F:
    """--max-total-tokens, --max-calls, --max-cost."""
    return _apply(
        function,
        [
            click.option(
                "--max-total-tokens",
                type=click.IntRange(min=0),
                default=None,
                help="Stop launching model calls once the run has used this many tokens "
                "(prompt + completion), e.g. --max-total-tokens 200000.",
            ),
            click.option(
                "--max-calls",
                type=click.IntRange(min=0),
                default=None,
                help="Launch at most this many model calls, e.g. --max-calls 100.",
            ),
            click.option(
                "--max-cost",
                type=click.FloatRange(min=0),
                default=None,
                help="Stop launching model calls once the run has cost this much (needs "
                "[prices] in --config), e.g. --max-cost 0.50.",
            ),
        ],
    )


def llm_config(
    *,
    config_file: Path | None,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    judge_model: str | None,
    input_model: str | None,
    max_total_tokens: int | None,
    max_calls: int | None,
    max_cost: float | None,
) -> LLMConfig:
    """The config file (if any) with the model and budget flags on top; ``--base-url``
    without a model names the server's only model (see `server_model`)."""
    base = load_config(config_file) if config_file is not None else LLMConfig()
    model = server_model(model, base_url, api_key, base.roles.generator)
    return base.with_flags(
        model=model,
        base_url=base_url,
        roles={"judge": judge_model, "input_writer": input_model},
        max_tokens=max_total_tokens,
        max_cost=max_cost,
        max_calls=max_calls,
    )


#: The `SolveConfig` fields that `selection_options` set.
SWITCHES = (
    "selection_rule",
    "prefer_clean",
    "exclude_broken",
    "mutated_inputs",
    "mutations",
    "input_retry",
    "sanitize",
    "prompt_variant",
    "max_comparisons",
)


def selection_options(function: F) -> F:
    """The S* switches of `SolveConfig`, each on by default (for ablations).

    The command receives them together as one ``switches`` mapping (field -> value),
    to pass on as ``SolveConfig(**switches)``.
    """

    @functools.wraps(function)
    def collect(*args: Any, **kwargs: Any) -> Any:
        kwargs["switches"] = {name: kwargs.pop(name) for name in SWITCHES}
        return function(*args, **kwargs)

    return _apply(
        cast(F, collect),
        [
            click.option(
                "--selection-rule",
                type=click.Choice(SELECTION_RULES),
                default="weighted-wins",
                show_default=True,
                help="How S* picks a cluster: 'weighted-wins' (cluster size as votes plus "
                "the votes of the clusters it beat), 'algorithm-1' (the paper: most "
                "wins) or 'size-first' (the largest cluster; the judge only decides "
                "between clusters tied for the largest), e.g. --selection-rule size-first.",
            ),
            click.option(
                "--prefer-clean/--no-prefer-clean",
                default=True,
                show_default=True,
                help="Among clusters the selection rule leaves tied, choose the one that "
                "crashed or timed out on the fewest synthesized inputs before a seeded "
                "random pick.",
            ),
            click.option(
                "--exclude-broken/--no-exclude-broken",
                default=True,
                show_default=True,
                help="Leave out of S*'s choice a candidate that crashed, timed out or "
                "printed nothing on every synthesized input (unless all did).",
            ),
            click.option(
                "--mutated-inputs/--no-mutated-inputs",
                default=True,
                show_default=True,
                help="Add mutants of the public inputs to the model's inputs for "
                "clustering and for telling a pair apart.",
            ),
            click.option(
                "--mutations",
                type=click.IntRange(min=0),
                default=24,
                show_default=True,
                help="How many mutated inputs at most, e.g. --mutations 4.",
            ),
            click.option(
                "--input-retry/--no-input-retry",
                default=True,
                show_default=True,
                help="When fewer than 2 model-written inputs parse, ask once more with a "
                "stricter prompt.",
            ),
            click.option(
                "--sanitize/--no-sanitize",
                default=True,
                show_default=True,
                help="Drop a functional candidate's top-level asserts and demo calls.",
            ),
            click.option(
                "--prompt-variant",
                type=click.Choice(PROMPT_VARIANTS),
                default="default",
                show_default=True,
                help="The sampling and debug prompts, e.g. --prompt-variant short.",
            ),
            click.option(
                "--max-comparisons",
                type=click.IntRange(min=0),
                default=None,
                help="Compare at most this many cluster pairs (largest clusters first; "
                "3 model calls each). Default: every pair, as the paper. 0 compares "
                "none: the choice rests on cluster sizes and the tie-breaks, e.g. "
                "--max-comparisons 16.",
            ),
        ],
    )
