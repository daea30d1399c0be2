"""`codestar doctor`: check a model backend and the sandbox end to end, and say what to fix.

Two groups of checks, each a `Check` with what it found and, when it failed, the fix:

- the sandbox: which isolation layers the execution engine can use on this machine,
  and one tiny program really run and graded;
- the model: the backend starts (for ``local``: the weights are assembled and llama.cpp
  answers), the server is reachable and lists the model (remote servers), one tiny
  completion at temperature 0 (its latency), and the generation rate in tokens/s.

Exit status 0 when everything works, 1 otherwise. ``--json`` prints one object with
``ok``, ``checks``, ``latency_s`` and ``tokens_per_s``. It never prints an API key.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

import click
from rich.markup import escape

from codestar.cli.common import emit_json, stdout_console
from codestar.errors import CodestarError
from codestar.llm.backend import Backend
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


@dataclass(frozen=True, slots=True)
class Check:
    group: str  #: "sandbox" or "model"
    name: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass(slots=True)
class Findings:
    checks: list[Check]
    latency_s: float | None = None
    tokens_per_s: float | None = None
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
    findings: Findings, spec: str, base_url: str | None, api_key: str | None
) -> None:
    try:
        backend = _open(spec, base_url, api_key)
    except CodestarError as error:
        findings.add("model", "backend", False, str(error.args[0]), error.hint)
        return
    try:
        if not await _start(findings, backend, spec, api_key):
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
        try:
            rate = await backend.complete(RATE)
        except CodestarError as error:
            findings.add("model", "rate", False, str(error.args[0]), error.hint)
            return
        tokens = rate.usage.completion_tokens
        if tokens and rate.latency_s > 0:
            findings.tokens_per_s = round(tokens / rate.latency_s, 2)
        findings.add(
            "model",
            "rate",
            bool(findings.tokens_per_s),
            f"{findings.tokens_per_s} tokens/s ({tokens} tokens in "
            f"{rate.latency_s:.2f} s, prompt included)",
            None if tokens else "the server reported no token usage",
        )
    finally:
        await backend.aclose()


def _open(spec: str, base_url: str | None, api_key: str | None) -> Backend:
    from codestar.llm.spec import open_backend

    return open_backend(spec, base_url=base_url, api_key=api_key, max_retries=1, timeout_s=120)


async def _start(findings: Findings, backend: Backend, spec: str, api_key: str | None) -> bool:
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
    listed = await asyncio.to_thread(_list_models, url, key)
    if isinstance(listed, str):
        reachable = not listed.startswith("unreachable")
        findings.add(
            "model",
            "server",
            reachable,
            f"{url}/models: {listed}",
            None if reachable else "is the server running? check --base-url or OPENAI_BASE_URL",
        )
        return reachable
    present = backend.model in listed
    findings.add("model", "server", True, f"{url} answers and serves {len(listed)} model(s)")
    findings.add(
        "model",
        "listed",
        present,
        f"{backend.model!r} is {'' if present else 'not '}among them",
        None if present else f"choose one of: {', '.join(listed[:8])}",
    )
    return present


def _list_models(url: str, key: str | None) -> list[str] | str:
    """The model ids a server lists, or a sentence saying why there are none."""
    request = urllib.request.Request(url + "/models")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            data = json.loads(response.read())
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} (listing models is not supported or the key is wrong)"
    except (OSError, ValueError) as error:
        return f"unreachable ({error})"
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return "answered without a model list"
    return [str(entry.get("id")) for entry in entries if isinstance(entry, dict)]


@click.command(name="doctor")
@click.option(
    "--model",
    "spec",
    default="local",
    show_default=True,
    help="Model to check: local, local:1.5b, local:PATH or a server's model name.",
)
@click.option(
    "--base-url", default=None, help="OpenAI-compatible server (default: OPENAI_BASE_URL)."
)
@click.option("--api-key", default=None, help="API key (default: OPENAI_API_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def doctor(spec: str, base_url: str | None, api_key: str | None, as_json: bool) -> None:
    """Check a model backend and the sandbox end to end; exit 1 if something is broken."""
    findings = Findings(checks=[])
    check_sandbox(findings)
    asyncio.run(check_model(findings, spec, base_url, api_key))
    if as_json:
        emit_json(
            {
                "ok": findings.ok,
                "model": spec,
                "latency_s": findings.latency_s,
                "tokens_per_s": findings.tokens_per_s,
                "isolation": findings.isolation,
                "checks": [asdict(check) for check in findings.checks],
            }
        )
    else:
        _print(findings)
    sys.exit(0 if findings.ok else 1)


def _print(findings: Findings) -> None:
    console = stdout_console()
    group = ""
    for check in findings.checks:
        label = check.group if check.group != group else ""
        group = check.group
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        console.print(f"{label:<8} {mark} {check.name:<11} {escape(check.detail)}", soft_wrap=True)
        if check.fix:
            console.print(f"{'':<8}      {'':<11} fix: {escape(check.fix)}", soft_wrap=True)
    broken = sum(not check.ok for check in findings.checks)
    console.print("all checks passed" if not broken else f"[red]{broken} check(s) failed[/]")
