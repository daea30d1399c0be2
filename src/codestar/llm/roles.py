"""Models per role: the generator, the debugger, the input writer and the judge.

S* asks a model to write programs, to repair them, to invent distinguishing inputs and
to judge outputs; each role may use a different model, and each defaults to the
generator's. `RoleModels` says which spec plays which role; `open_role_backends` builds
one backend per *distinct* spec (roles with the same model share its connection pool,
concurrency limit and, for the embedded model, its server) and `RoleBackends.stored`
wraps them for the run store with the role recorded on every call.

    >>> roles = RoleModels.parse("gpt-4o-mini", judge="gpt-4o")
    >>> roles.spec_for("debugger").name, roles.spec_for("judge").name
    ('gpt-4o-mini', 'gpt-4o')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from codestar.errors import ConfigError
from codestar.llm.accounting import Ledger, MeteredBackend
from codestar.llm.backend import Backend
from codestar.llm.spec import ModelSpec, open_backend, parse_model_spec
from codestar.llm.store import RunStore
from codestar.llm.stored import StoredBackend

RoleName = Literal["generator", "debugger", "input_writer", "judge"]
ROLES: tuple[RoleName, ...] = get_args(RoleName)


@dataclass(frozen=True, slots=True)
class RoleModels:
    """Which model plays each role; ``None`` means "the generator's"."""

    generator: ModelSpec
    debugger: ModelSpec | None = None
    input_writer: ModelSpec | None = None
    judge: ModelSpec | None = None

    @classmethod
    def parse(
        cls,
        generator: str | None = None,
        *,
        debugger: str | None = None,
        input_writer: str | None = None,
        judge: str | None = None,
        base_url: str | None = None,
    ) -> RoleModels:
        """Roles from ``--model``-style texts; ``base_url`` applies to remote specs."""

        def spec(text: str | None) -> ModelSpec | None:
            if text is None:
                return None
            return parse_model_spec(text, base_url=None if _local(text) else base_url)

        main = spec(generator) or parse_model_spec(None)
        return cls(main, spec(debugger), spec(input_writer), spec(judge))

    def spec_for(self, role: str) -> ModelSpec:
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
        chosen: ModelSpec | None = getattr(self, role)
        return chosen if chosen is not None else self.generator

    def distinct(self) -> tuple[ModelSpec, ...]:
        """The different specs in use, generator first."""
        seen: dict[ModelSpec, None] = {}
        for role in ROLES:
            seen.setdefault(self.spec_for(role))
        return tuple(seen)


def _local(text: str) -> bool:
    return parse_model_spec(text).local


@dataclass(frozen=True, slots=True)
class RoleBackends:
    """One backend per role; roles with the same spec hold the very same object."""

    generator: Backend
    debugger: Backend
    input_writer: Backend
    judge: Backend

    def for_role(self, role: str) -> Backend:
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
        backend: Backend = getattr(self, role)
        return backend

    def stored(self, store: RunStore, *, ledger: Ledger | None = None) -> RoleBackends:
        """The same backends behind the run store, each labelled with its role."""
        wrapped = {
            role: StoredBackend(self.for_role(role), store, role=role, ledger=ledger)
            for role in ROLES
        }
        return RoleBackends(**wrapped)

    def metered(self, ledger: Ledger) -> RoleBackends:
        """The same backends counted in ``ledger`` and held to its budget (no store)."""
        wrapped: dict[Backend, Backend] = {}
        for role in ROLES:
            backend = self.for_role(role)
            wrapped.setdefault(backend, MeteredBackend(backend, ledger))
        return RoleBackends(**{role: wrapped[self.for_role(role)] for role in ROLES})

    async def aclose(self) -> None:
        """Close every distinct backend once."""
        closed: set[int] = set()
        for role in ROLES:
            backend = self.for_role(role)
            if id(backend) not in closed:
                closed.add(id(backend))
                await backend.aclose()


def open_role_backends(
    roles: RoleModels,
    *,
    api_key: str | None = None,
    max_concurrency: int | None = None,
    timeout_s: float | None = None,
    max_retries: int | None = None,
    local_options: Mapping[str, Any] | None = None,
) -> RoleBackends:
    """Open one backend per distinct spec (see `codestar.llm.spec.open_backend`).

    ``api_key`` applies to remote specs without their own ``api_key_env``;
    ``local_options`` (threads, context...) to the embedded model only. Building a
    backend starts nothing: servers and connections are made on first use.
    """
    opened: dict[ModelSpec, Backend] = {}
    for spec in roles.distinct():
        remote_key = api_key if not spec.local and spec.api_key_env is None else None
        extra = dict(local_options or {}) if spec.local else {}
        opened[spec] = open_backend(
            spec,
            api_key=remote_key,
            max_concurrency=max_concurrency,
            timeout_s=timeout_s,
            max_retries=max_retries,
            **extra,
        )
    return RoleBackends(**{role: opened[roles.spec_for(role)] for role in ROLES})
