"""Everything a run needs from the LLM layer, opened and closed together.

`open_session` turns an `LLMConfig` (the config file with command-line flags on top)
into one backend per role, a `Ledger` holding the run's budget and price table, and,
with a run directory, the `RunStore`: the backends are wrapped so that every call is
counted (and, with a store, recorded and answered from it on a rerun). On an existing
run directory the ledger first replays the calls stored there, so a budget covers the
whole run and not only the part since the last restart.

It decides nothing about what to ask; the pipeline does (`codestar.pipeline`).

    >>> from codestar.llm.config import parse_config
    >>> config = parse_config({"model": {"name": "m", "base_url": "http://127.0.0.1:9/v1"}})
    >>> session = open_session(config)
    >>> session.backends.judge.model, session.store is None
    ('m', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codestar.errors import ConfigError
from codestar.llm.accounting import Ledger
from codestar.llm.config import LLMConfig
from codestar.llm.roles import RoleBackends, RoleModels, open_role_backends
from codestar.llm.store import RunStore


@dataclass(frozen=True, slots=True)
class LLMSession:
    """The role backends to use (counted, stored), the run's ledger and its store."""

    backends: RoleBackends
    ledger: Ledger
    store: RunStore | None
    roles: RoleModels
    raw: RoleBackends  # the unwrapped backends, closed once each by `aclose`

    @property
    def local(self) -> bool:
        """Whether some role uses the embedded model (which shares the CPU)."""
        return any(spec.local for spec in self.roles.distinct())

    async def aclose(self) -> None:
        """Close the backends (each once) and the store; safe to call twice."""
        try:
            await self.raw.aclose()
        finally:
            if self.store is not None:
                self.store.close()


def open_session(
    config: LLMConfig,
    *,
    run_dir: str | Path | None = None,
    api_key: str | None = None,
) -> LLMSession:
    """Open the backends of ``config`` behind its ledger (and a run store in ``run_dir``).

    Nothing is contacted yet: servers and connections are made on the first call. A
    money budget needs a price for every model in use, and an ``api_key`` a remote
    model to use it (`ConfigError` otherwise, before any call is made).
    """
    if api_key is not None and all(spec.local for spec in config.roles.distinct()):
        # Never ignore a key the user gave: the embedded model takes none.
        raise ConfigError(
            "--api-key is for a model server, but every role uses the embedded model",
            hint="drop --api-key, or name the server's model with --model NAME --base-url URL",
        )
    ledger = Ledger(config.prices, config.budget)
    if config.budget.max_cost is not None:
        unpriced = [s.name for s in config.roles.distinct() if config.prices.price(s.name) is None]
        if unpriced:
            raise ConfigError(
                f"a money budget is set but model {unpriced[0]!r} has no price",
                hint=f'add [prices."{unpriced[0]}"] with prompt and completion to the config file',
            )
    raw = open_role_backends(
        config.roles,
        api_key=api_key,
        max_concurrency=config.max_concurrency,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
    )
    if run_dir is None:
        return LLMSession(raw.metered(ledger), ledger, None, config.roles, raw)
    store = RunStore(run_dir)
    try:
        ledger.replay(store.calls())
    except BaseException:
        store.close()
        raise
    return LLMSession(raw.stored(store, ledger=ledger), ledger, store, config.roles, raw)
