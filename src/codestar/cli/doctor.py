"""`codestar doctor`: check a model backend and the sandbox end to end, and say what to fix.

Two groups of checks, each a `Check` with what it found and, when it failed, the fix:

- the sandbox: which isolation layers the execution engine can use on this machine,
  and one tiny program really run and graded;
- the model: the backend starts (for ``local``: the weights are assembled and llama.cpp
  answers), the server is reachable and lists the model (remote servers), one tiny
  completion at temperature 0 (its latency), and the generation rate in tokens/s. For
  the embedded model the rate check also measures the share of its threads' CPU time
  llama.cpp got: far below all of it, another process is using the cores, and the check
  warns (a warning is not a failure).

The model is ``--model``, or the ``[model]`` of ``--config FILE``, or, with ``--base-url``
alone, the one model that server lists. Options that contradict each other (a key or
URL for the embedded model, a URL that is not HTTP) are one ``error:`` line and exit
status 2 before any check runs.

Exit status 0 when everything works, 1 otherwise. ``--json`` prints one object with
``ok``, ``model``, ``checks``, ``latency_s``, ``tokens_per_s`` and ``cpu_share``. It never
prints an API key.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from codestar.cli.common import config_file_option, emit_json, stdout_console
from codestar.errors import (
    AuthenticationError,
    BackendError,
    BackendUnreachableError,
    CodestarError,
    ConfigError,
)
from codestar.llm.backend import Backend
from codestar.llm.config import LLMConfig, load_config
from codestar.llm.cpu import CpuMeter, shared_arbiter
from codestar.llm.listing import check_base_url, list_models
from codestar.llm.spec import ModelSpec, parse_model_spec
from codestar.llm.types import CompletionRequest, Message, SamplingParams

TINY = CompletionRequest(
    messages=(Message("user", "Reply with the single word OK."),),
    params=SamplingParams(temperature=0.0, max_tokens=8),
    stage="other",
)

#: Asks for a long, predictable answer so that the rate is measured over many tokens.
RATE = CompletionRequest(
    messages=(Message("user", "Count from 1 to 100, separated by spaces."),),
    params=SamplingParams(temperature=0.0, max_tokens=48),
    stage="other",
)


#: Seconds one request to the embedded model may take (48 tokens at 0.1 tokens/s).
LOCAL_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class Check:
    group: str  #: "sandbox" or "model"
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    warning: bool = False  #: it works, but not as well as it should (still ``ok``)


@dataclass(slots=True)
class Findings:
    checks: list[Check]
    latency_s: float | None = None
    tokens_per_s: float | None = None
    cpu_share: float | None = None  #: of the embedded model's threads, while generating
    model: str | None = None
    isolation: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.checks.append(Check(*args, **kwargs))


def check_sandbox(findings: Findings) -> None:
    try:
        from codestar.execution.engine import Engine
        from codestar.execution.types import Limits, Program
        from codestar.problems.model import TestCase
    except ImportError as error:
        findings.add(
            "sandbox",
            "engine",
            False,
            f"the execution engine is missing: {error}",
            "reinstall codestar",
        )
        return
    try:
        with Engine(workers=1, limits=Limits(timeout_s=10)) as engine:
            report = engine.isolation
            findings.isolation = report.to_dict()
            inactive = "; ".join(f"{name}: {why}" for name, why in report.inactive.items())
            findings.add(
                "sandbox",
                "isolation",
                bool(report.active),
                f"active: {', '.join(report.active) or 'none'}"
                + (f" (inactive: {inactive})" if inactive else ""),
                None if report.active else "run on Linux; see docs/sandbox.md",
            )
            started = time.perf_counter()
            result = engine.run(Program("print(int(input()) * 2)"), [TestCase("21", "42")])
            elapsed = time.perf_counter() - started
    except (CodestarError, OSError) as error:
        findings.add(
            "sandbox",
            "run",
            False,
            f"the sandbox failed: {error}",
            "see docs/sandbox.md; check that python3 can start subprocesses",
        )
        return
    outcome = result.outcomes[0] if result.outcomes else None
    findings.add(
        "sandbox",
        "run",
        result.passed,
        f"a tiny program ran and passed in {elapsed:.2f} s"
        if result.passed
        else f"a tiny program did not pass: {outcome.verdict.value if outcome else 'no outcome'}",
        None if result.passed else "see docs/sandbox.md",
    )


async def check_model(
    findings: Findings, spec: ModelSpec | None, base_url: str | None, api_key: str | None
) -> None:
    """Check ``spec``; with ``spec`` None, the one model that ``base_url`` serves."""
    if spec is None:
        assert base_url is not None
        spec = await _served_model(findings, base_url, api_key)
        if spec is None:
            return
    findings.model = spec.name
    try:
        backend = _open(spec, api_key)
    except CodestarError as error:
        findings.add("model", "backend", False, str(error.args[0]), error.hint)
        return
    try:
        key = api_key or (os.environ.get(spec.api_key_env) if spec.api_key_env else None)
        if not await _start(findings, backend, key):
            return
        try:
            tiny = await backend.complete(TINY)
        except CodestarError as error:
            findings.add("model", "completion", False, str(error.args[0]), error.hint)
            return
        findings.latency_s = round(tiny.latency_s, 3)
        findings.add(
            "model",
            "completion",
            bool(tiny.text.strip()),
            f"answered {tiny.text.strip()[:40]!r} in {tiny.latency_s:.2f} s",
            None if tiny.text.strip() else "the model returned an empty answer",
        )
        await _check_rate(findings, backend)
    finally:
        await backend.aclose()


async def _check_rate(findings: Findings, backend: Backend) -> None:
    """The generation rate, and, for the embedded model, whether it got its cores."""
    meter = _meter(backend)
    if meter is not None:
        meter.sample()
    try:
        rate = await backend.complete(RATE)
    except CodestarError as error:
        findings.add("model", "rate", False, str(error.args[0]), error.hint)
        return
    tokens = rate.usage.completion_tokens
    if tokens and rate.latency_s > 0:
        findings.tokens_per_s = round(tokens / rate.latency_s, 2)
    detail = (
        f"{findings.tokens_per_s} tokens/s ({tokens} tokens in "
        f"{rate.latency_s:.2f} s, prompt included)"
    )
    share = meter.share(min_wall_s=0.1) if meter is not None else None
    if share is not None:
        findings.cpu_share = round(share.share, 3)
    if share is not None and share.contended:
        findings.add(
            "model",
            "rate",
            True,
            f"{detail}; {share.describe(findings.tokens_per_s)}",
            "stop what else is using the CPU (top shows it) for full speed; results "
            "are the same, only slower",
            warning=True,
        )
        return
    findings.add(
        "model",
        "rate",
        bool(findings.tokens_per_s),
        detail,
        None if tokens else "the server reported no token usage",
    )


def _meter(backend: Backend) -> CpuMeter | None:
    """For the embedded model: measures the CPU share its server gets."""
    from codestar.llm.local import LocalBackend

    if not isinstance(backend, LocalBackend) or backend.server is None:
        return None
    server = backend.server
    return CpuMeter(server.cpu_seconds, backend.arbiter or shared_arbiter(), server.threads)


def _open(spec: ModelSpec, api_key: str | None) -> Backend:
    from codestar.llm.spec import open_backend

    if spec.local:
        # On a busy machine the embedded model is slow, not broken: the rate check says
        # so (the CPU share); a short timeout would turn that into a failure.
        return open_backend(spec, max_retries=0, timeout_s=LOCAL_TIMEOUT_S)
    return open_backend(spec, api_key=api_key, max_retries=1, timeout_s=120)


async def _served_model(findings: Findings, base_url: str, api_key: str | None) -> ModelSpec | None:
    """The spec of the one model ``base_url`` serves, or None (with failed checks)."""
    key = api_key or os.environ.get("OPENAI_API_KEY")
    listed = await _listing(findings, base_url, key)
    if listed is None:
        return None
    if len(listed) != 1:
        findings.add(
            "model",
            "listed",
            False,
            f"no --model given and the server serves {len(listed)} models",
            f"pass --model, one of: {', '.join(listed[:8])}" if listed else "pass --model NAME",
        )
        return None
    findings.add("model", "listed", True, f"using {listed[0]!r}, the one model it serves")
    return parse_model_spec(listed[0], base_url=base_url)


async def _listing(findings: Findings, url: str, key: str | None) -> list[str] | None:
    """The server's models, with a "server" check; None when it cannot be asked."""
    try:
        listed = await asyncio.to_thread(list_models, url, api_key=key)
    except (BackendUnreachableError, AuthenticationError) as error:
        findings.add("model", "server", False, str(error.args[0]), error.hint)
        return None
    except BackendError as error:
        findings.add("model", "server", True, f"{url} answers; {error.args[0]}")
        return None
    findings.add("model", "server", True, f"{url} answers and serves {len(listed)} model(s)")
    return listed


async def _start(findings: Findings, backend: Backend, api_key: str | None) -> bool:
    """Start a local backend, or check that a remote server answers and lists the model."""
    start = getattr(backend, "start", None)
    if start is not None:  # the embedded model: weights, then llama.cpp
        started = time.perf_counter()
        try:
            server = await start()
        except CodestarError as error:
            findings.add("model", "server", False, str(error.args[0]), error.hint)
            return False
        findings.add(
            "model",
            "server",
            True,
            f"{backend.model} served by llama.cpp at {server.base_url} "
            f"({server.threads} threads, ready in {time.perf_counter() - started:.1f} s)",
        )
        return True
    url = str(getattr(backend, "base_url", "")).rstrip("/")
    if not url:
        return True
    key = api_key or os.environ.get("OPENAI_API_KEY")
    before = len(findings.checks)
    listed = await _listing(findings, url, key)
    if listed is None:
        # A server that does not list its models may still answer: go on unless it failed.
        return findings.checks[before].ok
    present = backend.model in listed
    findings.add(
        "model",
        "listed",
        present,
        f"{backend.model!r} is {'' if present else 'not '}among them",
        None if present else f"choose one of: {', '.join(listed[:8])}",
    )
    return present


@click.command(name="doctor")
@click.option(
    "--model",
    "model",
    default=None,
    help="Model to check: local (the default), local:1.5b, local:PATH or a server's model "
    "name; with --base-url alone, the one model that server serves.",
)
@click.option(
    "--base-url",
    default=None,
    help="OpenAI-compatible server, e.g. --base-url http://127.0.0.1:8000/v1 "
    "(default: OPENAI_BASE_URL).",
)
@click.option("--api-key", default=None, help="API key for --base-url (default: OPENAI_API_KEY).")
@config_file_option(
    "Check the [model] of this codestar.toml (flags override it), e.g. --config codestar.toml."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor(
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Check a model backend and the sandbox end to end; exit 1 if something is broken.

    \b
    Examples:
      codestar doctor                                    # the embedded model
      codestar doctor --base-url http://127.0.0.1:8000/v1
      codestar doctor --config codestar.toml --json
    """
    spec = _spec(model, base_url, api_key, config_file)
    findings = Findings(checks=[])
    check_sandbox(findings)
    asyncio.run(check_model(findings, spec, base_url, api_key))
    if as_json:
        emit_json(
            {
                "ok": findings.ok,
                "model": findings.model,
                "latency_s": findings.latency_s,
                "tokens_per_s": findings.tokens_per_s,
                "cpu_share": findings.cpu_share,
                "isolation": findings.isolation,
                "checks": [asdict(check) for check in findings.checks],
            }
        )
    else:
        _print(findings)
    sys.exit(0 if findings.ok else 1)


def _spec(
    model: str | None, base_url: str | None, api_key: str | None, config_file: Path | None
) -> ModelSpec | None:
    """The model to check, or None for "the one ``base_url`` serves"; `ConfigError`
    (exit 2, before any check runs) for options that contradict each other."""
    base = load_config(config_file) if config_file is not None else LLMConfig()
    if base_url is not None:
        check_base_url(base_url)
    if model is None and base_url is not None and base.roles.generator.local:
        return None
    spec = base.with_flags(model=model, base_url=base_url).roles.generator
    if spec.local and api_key is not None:
        raise ConfigError(
            "--api-key is for a model server, not the embedded model",
            hint="drop --api-key, or name the server's model with --model NAME --base-url URL",
        )
    return spec


def _print(findings: Findings) -> None:
    console = stdout_console()
    group = ""
    for check in findings.checks:
        label = check.group if check.group != group else ""
        group = check.group
        mark = "[yellow]warn[/]" if check.warning else "[green]ok[/]  "
        mark = mark if check.ok else "[red]FAIL[/]"
        console.print(f"{label:<8} {mark} {check.name:<11} {escape(check.detail)}", soft_wrap=True)
        if check.fix:
            console.print(f"{'':<8}      {'':<11} fix: {escape(check.fix)}", soft_wrap=True)
    broken = sum(not check.ok for check in findings.checks)
    console.print("all checks passed" if not broken else f"[red]{broken} check(s) failed[/]")
