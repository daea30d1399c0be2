"""Model specs, roles and opening backends (no server needed: backends start lazily)."""

from __future__ import annotations

import asyncio

import pytest
from faultserver import FaultServer

from codestar.errors import AuthenticationError, ConfigError
from codestar.llm.backend import Backend
from codestar.llm.openai_backend import OpenAIBackend
from codestar.llm.roles import ROLES, RoleModels, open_role_backends
from codestar.llm.spec import ModelSpec, open_backend, parse_model_spec
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend
from codestar.llm.types import CompletionRequest, Message


@pytest.mark.parametrize(
    ("text", "local"),
    [(None, True), ("", True), ("local", True), ("local:1.5b", True),
     ("local:/models/x.gguf", True), ("gpt-4o-mini", False),
     ("Qwen/Qwen2.5-Coder-7B-Instruct", False), ("localhost-model", False)],
)  # fmt: skip
def test_specs_tell_local_from_remote(text: str | None, local: bool) -> None:
    spec = parse_model_spec(text)
    assert spec.local is local
    assert spec.name == (text or "local")


def test_local_spec_refuses_a_base_url() -> None:
    with pytest.raises(ConfigError, match="embedded model"):
        parse_model_spec("local", base_url="http://127.0.0.1:8000/v1")
    with pytest.raises(ConfigError, match="empty local model"):
        parse_model_spec("local:")


def test_remote_spec_opens_an_openai_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    backend = open_backend(
        "Qwen/Qwen2.5-Coder-7B-Instruct", base_url="http://127.0.0.1:8000/v1", max_concurrency=3
    )
    assert isinstance(backend, OpenAIBackend) and isinstance(backend, Backend)
    assert backend.model == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert backend.base_url == "http://127.0.0.1:8000/v1" and backend.max_concurrency == 3


def test_api_key_env_is_read_when_the_backend_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ModelSpec(name="m", local=False, base_url="http://127.0.0.1:9/v1", api_key_env="K9")
    monkeypatch.delenv("K9", raising=False)
    with pytest.raises(AuthenticationError, match="K9"):
        open_backend(spec)
    monkeypatch.setenv("K9", "secret")
    assert open_backend(spec).model == "m"


def test_local_spec_opens_the_embedded_backend_lazily() -> None:
    backend = open_backend("local")
    assert isinstance(backend, Backend) and not isinstance(backend, OpenAIBackend)
    asyncio.run(backend.aclose())
    with pytest.raises(ConfigError, match="embedded model only"):
        open_backend("gpt-4o-mini", base_url="http://127.0.0.1:9/v1", threads=2)


def test_roles_default_to_the_generator() -> None:
    roles = RoleModels.parse("m1", judge="m2", base_url="http://127.0.0.1:9/v1")
    assert [roles.spec_for(role).name for role in ROLES] == ["m1", "m1", "m1", "m2"]
    assert roles.spec_for("judge").base_url == "http://127.0.0.1:9/v1"
    assert [spec.name for spec in roles.distinct()] == ["m1", "m2"]
    with pytest.raises(ConfigError, match="valid roles: generator, debugger"):
        roles.spec_for("critic")
    assert RoleModels.parse().generator.local


def test_roles_with_one_spec_share_one_backend(tmp_path: object) -> None:
    roles = RoleModels.parse("m1", judge="m2", base_url="http://127.0.0.1:9/v1")
    backends = open_role_backends(roles, api_key="k")
    assert backends.generator is backends.debugger is backends.input_writer
    assert backends.judge is not backends.generator
    assert backends.judge.model == "m2"
    asyncio.run(backends.aclose())


def test_stored_role_backends_label_calls_with_their_role(tmp_path: object) -> None:
    from pathlib import Path

    with FaultServer() as server, RunStore(Path(str(tmp_path))) as store:
        backends = open_role_backends(RoleModels.parse("m", base_url=server.url)).stored(store)
        assert isinstance(backends.judge, StoredBackend)

        async def go() -> None:
            request = CompletionRequest(messages=(Message("user", "x"),))
            await backends.judge.complete(request)
            await backends.debugger.complete(request)  # same model, same key: from the store
            await backends.aclose()

        asyncio.run(go())
        assert server.count == 1
        assert [record.role for record in store.calls()] == ["judge"]
