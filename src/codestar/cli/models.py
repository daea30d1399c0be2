"""`codestar models`: which models codestar can use here, and which one is the default.

It lists the embedded models (installed or not, assembled in the cache or not), the
installed extras, and the OpenAI-compatible endpoint configured in the environment.
Without ``--base-url`` it reads package metadata and environment variables only; with
``--base-url URL`` it also asks that server which models it serves (``GET URL/models``).
It starts no server, reads no weights and never prints an API key.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import urllib.parse
from typing import Any

import click
from rich.markup import escape

from codestar.cli.common import emit_json, stdout_console
from codestar.errors import ConfigError
from codestar.llm.listing import check_base_url, list_models
from codestar.llm.weights import (
    DEFAULT_EMBEDDED,
    EMBEDDED_MODELS,
    cached_path,
    installed,
    is_cached,
)

_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def inventory() -> dict[str, Any]:
    """Everything `codestar models` reports, as one JSON-ready object."""
    embedded = []
    for name, model in EMBEDDED_MODELS.items():
        embedded.append(
            {
                "spec": f"local:{name}",
                "title": model.title,
                "default": name == DEFAULT_EMBEDDED,
                "installed": installed(model),
                "cached": is_cached(model),
                "cache_path": str(cached_path(model)),
                "size_bytes": model.size,
                "install": f"pip install 'codestar[{model.extra}]'",
            }
        )
    return {
        "default": "local",
        "embedded": embedded,
        "runtime": {"xllamacpp": _version("xllamacpp")},
        "extras": extras(),
        "endpoint": endpoint(),
    }


def extras() -> dict[str, bool]:
    """codestar's extras -> whether every package they name is installed."""
    try:
        requirements = importlib.metadata.requires("codestar") or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    needed: dict[str, list[str]] = {}
    for requirement in requirements:
        marker = _EXTRA_MARKER.search(requirement)
        name = _NAME.match(requirement)
        if marker and name:
            needed.setdefault(marker.group(1), []).append(name.group(0))
    return {extra: all(_version(p) for p in packages) for extra, packages in needed.items()}


def endpoint() -> dict[str, Any]:
    """The environment's OpenAI-compatible endpoint: the URL (without credentials) and
    whether a key is set, never the key."""
    url = os.environ.get("OPENAI_BASE_URL")
    return {
        "OPENAI_BASE_URL": _without_credentials(url) if url else None,
        "OPENAI_API_KEY": "set" if os.environ.get("OPENAI_API_KEY") else None,
    }


@click.command(name="models")
@click.option(
    "--base-url",
    default=None,
    help="Also list the models this OpenAI-compatible server serves, e.g. --base-url "
    "http://127.0.0.1:8000/v1.",
)
@click.option("--api-key", default=None, help="API key for --base-url (default: OPENAI_API_KEY).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def models(base_url: str | None, api_key: str | None, as_json: bool) -> None:
    """List the models codestar can use: embedded, installed extras, endpoints.

    \b
    Examples:
      codestar models
      codestar models --base-url http://127.0.0.1:8000/v1 --json
    """
    if api_key is not None and base_url is None:
        raise ConfigError(
            "--api-key is used to ask a server, and no --base-url was given",
            hint="add --base-url URL",
        )
    report = inventory()
    if base_url is not None:
        url = check_base_url(base_url)
        served = list_models(url, api_key=api_key or os.environ.get("OPENAI_API_KEY"))
        report["served"] = {"base_url": _without_credentials(url), "models": served}
    if as_json:
        emit_json(report)
        return
    console = stdout_console()

    def say(line: str = "") -> None:
        console.print(line, soft_wrap=True)

    say("[bold]Embedded models[/] (run on this machine's CPU with llama.cpp)")
    for entry in report["embedded"]:
        mark = "*" if entry["default"] else " "
        if not entry["installed"]:
            state = f"[yellow]not installed[/]: {escape(entry['install'])}"
        elif entry["cached"]:
            state = f"[green]ready[/] ({escape(entry['cache_path'])})"
        else:
            state = "[green]installed[/] (assembled into the cache on first use)"
        say(f" {mark} {entry['spec']:<11} {entry['title']:<38} {state}")
    say("   local:PATH  any GGUF model file, e.g. local:/models/model.gguf")
    runtime = report["runtime"]["xllamacpp"]
    say(
        f"   llama.cpp runtime: xllamacpp {runtime}"
        if runtime
        else "   llama.cpp runtime: [yellow]missing[/]: " + escape("pip install 'codestar[local]'")
    )
    say("\n[bold]Extras[/]")
    for extra, present in report["extras"].items():
        say(f"   {extra:<11} {'installed' if present else 'not installed'}")
    say("\n[bold]OpenAI-compatible endpoint[/] " + escape("(--model NAME [--base-url URL])"))
    url = report["endpoint"]["OPENAI_BASE_URL"]
    key = report["endpoint"]["OPENAI_API_KEY"]
    say(f"   OPENAI_BASE_URL  {escape(url or 'not set (https://api.openai.com/v1)')}")
    say(f"   OPENAI_API_KEY   {key or 'not set'}")
    if "served" in report:
        served = report["served"]
        say(f"\n[bold]Served at {escape(served['base_url'])}[/] (--model NAME --base-url URL)")
        for name in served["models"]:
            say(f"   {escape(name)}")
        if not served["models"]:
            say("   none listed")
    say("\n* default: `--model local` (also what no --model means)")


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _without_credentials(url: str) -> str:
    """``https://user:secret@host/v1`` -> ``https://host/v1``."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
