"""The LLM part of ``codestar.toml``: models, roles, prices and budgets.

Each table maps one-to-one onto an object of the LLM layer, and every key is checked,
with a message listing the valid ones::

    [model]                         # -> the generator's ModelSpec and backend options
    name = "Qwen/Qwen2.5-Coder-7B-Instruct"
    base_url = "http://127.0.0.1:8000/v1"
    api_key_env = "MY_SERVER_KEY"   # the variable holding the key (never the key itself)
    max_concurrency = 8
    timeout_s = 600
    max_retries = 6

    [roles]                         # -> RoleModels; a string shares [model]'s endpoint
    debugger = "Qwen/Qwen2.5-Coder-7B-Instruct"
    judge = { name = "gpt-4o-mini", base_url = "https://api.openai.com/v1",
              api_key_env = "OPENAI_API_KEY" }

    [prices."gpt-4o-mini"]          # -> PriceTable: money per million tokens
    prompt = 0.15
    completion = 0.60

    [budget]                        # -> Budget
    max_tokens = 5_000_000
    max_cost = 10.0
    max_calls = 20_000

Other top-level tables belong to other components and are left alone. Command-line
flags override the file; merging them is the CLI's job, not this module's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codestar.errors import ConfigError
from codestar.llm.accounting import Budget, Price, PriceTable
from codestar.llm.roles import ROLES, RoleModels
from codestar.llm.spec import ModelSpec, parse_model_spec

MODEL_KEYS = ("name", "base_url", "api_key_env", "max_concurrency", "timeout_s", "max_retries")
ENDPOINT_KEYS = ("name", "base_url", "api_key_env")
PRICE_KEYS = ("prompt", "completion")
BUDGET_KEYS = ("max_tokens", "max_cost", "max_calls")


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMConfig:
    """Everything the LLM layer reads from the config file."""

    roles: RoleModels = field(default_factory=lambda: RoleModels(parse_model_spec(None)))
    max_concurrency: int | None = None
    timeout_s: float | None = None
    max_retries: int | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    budget: Budget = field(default_factory=Budget)

    def with_flags(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        roles: Mapping[str, str | None] | None = None,
        max_tokens: int | None = None,
        max_cost: float | None = None,
        max_calls: int | None = None,
    ) -> LLMConfig:
        """This config with command-line flags on top (a flag given wins over the file).

        ``--model`` replaces ``[model] name`` and keeps the file's endpoint unless
        ``--base-url`` is given too (which needs a remote model: `ConfigError` with the
        embedded one; `codestar.llm.listing.only_model` finds a server's only model); a
        role flag (``--judge-model``...) shares the generator's endpoint, as a bare name
        in ``[roles]`` does; the budget flags replace the matching ``[budget]`` keys.
        """
        generator = self.roles.generator
        if base_url is not None and (parse_model_spec(model).local if model else generator.local):
            # Never ignore a URL the user gave: the embedded model runs its own server.
            raise ConfigError(
                f"--base-url {base_url} needs the name of a model served there, not "
                f"{model or generator.name!r} (the embedded model)",
                hint="pass --model NAME (`codestar models --base-url URL` lists them)",
            )
        if model is not None or base_url is not None:
            generator = _flag_spec(model or generator.name, base_url, generator)
        chosen: dict[str, ModelSpec | None] = {
            role: getattr(self.roles, role) for role in ROLES if role != "generator"
        }
        for role, text in (roles or {}).items():
            if role not in chosen:
                raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
            if text is not None:
                chosen[role] = _flag_spec(text, base_url, generator)
        budget = self.budget
        return replace(
            self,
            roles=RoleModels(generator, **chosen),
            budget=Budget(
                max_tokens=max_tokens if max_tokens is not None else budget.max_tokens,
                max_cost=max_cost if max_cost is not None else budget.max_cost,
                max_calls=max_calls if max_calls is not None else budget.max_calls,
            ),
        )


def _flag_spec(name: str, base_url: str | None, generator: ModelSpec) -> ModelSpec:
    """A spec named on the command line: remote ones use ``base_url``, else the
    generator's endpoint and key variable; the embedded model takes neither, so
    ``--base-url`` does not apply to it (as with ``RoleModels.parse``)."""
    if parse_model_spec(name).local:
        return parse_model_spec(name)
    if base_url is not None:
        return parse_model_spec(name, base_url=base_url)
    return parse_model_spec(name, base_url=generator.base_url, api_key_env=generator.api_key_env)


def load_config(path: str | Path) -> LLMConfig:
    """Read and validate the LLM tables of a TOML file."""
    source = Path(path)
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read config file {source}: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}") from error
    return parse_config(document, origin=str(source))


def parse_config(document: Mapping[str, Any], *, origin: str = "config") -> LLMConfig:
    """Build an `LLMConfig` from an already parsed TOML document."""
    model = _table(document, "model", MODEL_KEYS, origin)
    generator = _spec(model, "[model]", origin) if "name" in model else parse_model_spec(None)
    roles_table = _table(document, "roles", ROLES, origin)
    role_specs: dict[str, ModelSpec] = {}
    for role, value in roles_table.items():
        where = f"[roles] {role}"
        if isinstance(value, str):
            # A bare name shares the generator's endpoint (unless it is the local model).
            shared = {} if parse_model_spec(value).local else model
            role_specs[role] = _spec({**shared, "name": value}, where, origin)
        elif isinstance(value, Mapping):
            _check_keys(value, ENDPOINT_KEYS, where, origin)
            role_specs[role] = _spec(value, where, origin)
        else:
            raise ConfigError(f"{origin}: {where} must be a model name or a table")
    prices: dict[str, Price] = {}
    for name, entry in _table(document, "prices", None, origin).items():
        where = f'[prices."{name}"]'
        _check_keys(_as_table(entry, where, origin), PRICE_KEYS, where, origin)
        prices[str(name)] = Price(
            _number(entry, "prompt", where, origin, required=True) or 0.0,
            _number(entry, "completion", where, origin, required=True) or 0.0,
        )
    budget = _table(document, "budget", BUDGET_KEYS, origin)
    return LLMConfig(
        roles=RoleModels(generator, **role_specs),
        max_concurrency=_integer(model, "max_concurrency", "[model]", origin),
        timeout_s=_number(model, "timeout_s", "[model]", origin),
        max_retries=_integer(model, "max_retries", "[model]", origin),
        prices=PriceTable(prices),
        budget=Budget(
            max_tokens=_integer(budget, "max_tokens", "[budget]", origin),
            max_cost=_number(budget, "max_cost", "[budget]", origin),
            max_calls=_integer(budget, "max_calls", "[budget]", origin),
        ),
    )


def _as_table(value: object, where: str, origin: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table")
    return value


def _table(
    document: Mapping[str, Any], name: str, valid: tuple[str, ...] | None, origin: str
) -> Mapping[str, Any]:
    table = _as_table(document.get(name, {}), f"[{name}]", origin)
    if valid is not None:
        _check_keys(table, valid, f"[{name}]", origin)
    return table


def _check_keys(table: Mapping[str, Any], valid: tuple[str, ...], where: str, origin: str) -> None:
    unknown = sorted(set(table) - set(valid))
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key {unknown[0]!r} in {where}; valid keys: {', '.join(valid)}"
        )


def _spec(table: Mapping[str, Any], where: str, origin: str) -> ModelSpec:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f'{origin}: {where} needs a model name (name = "...")')
    base_url, key_env = table.get("base_url"), table.get("api_key_env")
    for key, value in (("base_url", base_url), ("api_key_env", key_env)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{origin}: {where} {key} must be a string")
    try:
        return parse_model_spec(name, base_url=base_url, api_key_env=key_env)
    except ConfigError as error:
        raise ConfigError(f"{origin}: {where}: {error}") from error


def _integer(table: Mapping[str, Any], key: str, where: str, origin: str) -> int | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{origin}: {where} {key} must be a whole number >= 0, got {value!r}")
    return value


def _number(
    table: Mapping[str, Any], key: str, where: str, origin: str, *, required: bool = False
) -> float | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{origin}: {where} needs {key} = <number>")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{origin}: {where} {key} must be a number >= 0, got {value!r}")
    return float(value)
