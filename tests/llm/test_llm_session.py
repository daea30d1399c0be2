"""The config file with flags on top (`LLMConfig.with_flags`) and `open_session`: one
backend per role behind the run's ledger, with or without a run store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from faultserver import FaultServer

from codestar.errors import BudgetExceededError, ConfigError
from codestar.llm.accounting import MeteredBackend
from codestar.llm.config import LLMConfig, parse_config
from codestar.llm.session import open_session
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest, Message

FILE = {
    "model": {"name": "coder", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "KEY_VAR"},
    "roles": {"judge": "judge-model"},
    "prices": {"coder": {"prompt": 1.0, "completion": 2.0}},
    "budget": {"max_tokens": 100, "max_calls": 10},
}


def test_flags_override_the_file_and_keep_its_endpoint() -> None:
    config = parse_config(FILE).with_flags(model="other", max_calls=3)
    generator = config.roles.generator
    assert (generator.name, generator.base_url, generator.api_key_env) == (
        "other",
        "http://127.0.0.1:9/v1",
        "KEY_VAR",
    )
    assert config.roles.spec_for("judge").name == "judge-model"
    assert (config.budget.max_tokens, config.budget.max_calls) == (100, 3)
    assert config.prices.price("coder") is not None


def test_a_base_url_flag_applies_to_the_models_named_by_flags() -> None:
    config = parse_config(FILE).with_flags(
        base_url="http://127.0.0.1:8/v1", roles={"input_writer": "tester", "judge": None}
    )
    assert config.roles.generator.base_url == "http://127.0.0.1:8/v1"
    assert config.roles.spec_for("input_writer").base_url == "http://127.0.0.1:8/v1"
    # The file's judge keeps the file's endpoint: only flags were moved.
    assert config.roles.spec_for("judge").base_url == "http://127.0.0.1:9/v1"
    mixed = LLMConfig().with_flags(
        model="m", roles={"judge": "local"}, base_url="http://127.0.0.1:8/v1"
    )
    assert mixed.roles.spec_for("judge").local and not mixed.roles.generator.local
    # A URL is never ignored: the embedded generator cannot use it.
    for model in (None, "local", "local:1.5b"):
        with pytest.raises(ConfigError, match=r"--base-url .* needs the name of a model"):
            LLMConfig().with_flags(model=model, base_url="http://127.0.0.1:8/v1")
    with pytest.raises(ConfigError, match="not an http"):
        LLMConfig().with_flags(model="m", base_url="127.0.0.1:8/v1")
    with pytest.raises(ConfigError, match="unknown role"):
        LLMConfig().with_flags(roles={"critic": "x"})


def test_a_money_budget_needs_a_price_for_every_model() -> None:
    config = parse_config(FILE).with_flags(max_cost=1.0)
    with pytest.raises(ConfigError, match="'judge-model' has no price"):
        open_session(config)


def request(text: str) -> CompletionRequest:
    return CompletionRequest(messages=(Message("user", text),), stage="generate")


def test_a_session_meters_without_a_store_and_stores_with_one(tmp_path: Path) -> None:
    with FaultServer() as server:
        config = LLMConfig().with_flags(model="m", base_url=server.url, max_calls=2)

        async def ask(run_dir: Path | None) -> list[str]:
            session = open_session(config, run_dir=run_dir, api_key="k")
            try:
                texts = [(await session.backends.judge.complete(request(t))).text for t in "ab"]
                with pytest.raises(BudgetExceededError, match="call budget"):
                    await session.backends.generator.complete(request("c"))
                return texts
            finally:
                await session.aclose()

        session = open_session(config, api_key="k")
        assert isinstance(session.backends.judge, MeteredBackend)
        assert session.backends.judge is session.backends.generator  # one spec, one wrapper
        asyncio.run(session.aclose())
        assert asyncio.run(ask(None)) == ["echo a", "echo b"]
        assert asyncio.run(ask(tmp_path)) == ["echo a", "echo b"]
        assert server.count == 4

        # A rerun on the same run directory: the ledger replays what was spent, so the
        # budget is spent already, yet stored answers are still served.
        async def rerun() -> str:
            session = open_session(config, run_dir=tmp_path, api_key="k")
            try:
                assert isinstance(session.backends.judge, StoredBackend)
                assert session.ledger.report().total.usage.calls == 2
                return (await session.backends.judge.complete(request("a"))).text
            finally:
                await session.aclose()

        assert asyncio.run(rerun()) == "echo a"
        assert server.count == 4
