"""Asking an OpenAI-compatible server which models it serves (``GET /models``).

`list_models` returns the ids a server lists; `only_model` picks the one model of a
server that serves exactly one (what ``--base-url`` without ``--model`` means) and
otherwise raises a `ConfigError` that says what to pass. `check_base_url` refuses a
base URL that is not ``http(s)://host...`` before anything is sent.

It is synchronous and stdlib-only (one small GET): commands call it before any event
loop runs. It does not retry: a listing is a question to the user's own server, and an
answer of "nothing listens there" is final.

    >>> check_base_url("http://127.0.0.1:8000/v1/")
    'http://127.0.0.1:8000/v1'
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from codestar.errors import (
    AuthenticationError,
    BackendError,
    BackendUnreachableError,
    ConfigError,
)

#: Listing is one small request; a server that takes longer is not answering.
LIST_TIMEOUT_S = 15.0


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash, or `ConfigError` if it is not an HTTP URL."""
    text = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"base URL {url!r} is not an http:// or https:// URL",
            hint="e.g. --base-url http://127.0.0.1:8000/v1",
        )
    return text


def list_models(
    base_url: str, *, api_key: str | None = None, timeout_s: float = LIST_TIMEOUT_S
) -> list[str]:
    """The model ids that ``base_url/models`` lists, in the server's order.

    Raises `BackendUnreachableError` when nothing answers, `AuthenticationError` for a
    refused key, and `BackendError` for any other HTTP error or a body without a list.
    """
    url = check_base_url(base_url)
    request = urllib.request.Request(url + "/models")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise AuthenticationError(
                f"{url} rejected the API key (HTTP {error.code})",
                hint="check OPENAI_API_KEY or --api-key",
            ) from error
        raise BackendError(
            f"{url}/models answered HTTP {error.code}: the server does not list its models",
            hint="name the model with --model; an OpenAI-compatible base URL usually ends in /v1",
        ) from error
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise BackendUnreachableError(
            f"cannot connect to {url} ({reason})",
            hint="is the server running? check --base-url or OPENAI_BASE_URL",
        ) from error
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BackendError(f"{url}/models answered without a model list")
    return [str(entry["id"]) for entry in entries if isinstance(entry, dict) and "id" in entry]


def only_model(base_url: str, *, api_key: str | None = None) -> str:
    """The single model ``base_url`` serves; `ConfigError` (saying to pass ``--model``)
    when it serves none, several, or does not say."""
    url = check_base_url(base_url)
    try:
        served = list_models(url, api_key=api_key)
    except (BackendUnreachableError, AuthenticationError):
        raise
    except BackendError as error:
        raise ConfigError(
            f"cannot tell which model to use at {url}: {error.args[0]}",
            hint="pass --model NAME",
        ) from error
    if len(served) == 1:
        return served[0]
    if not served:
        raise ConfigError(f"{url} lists no model", hint="pass --model NAME")
    shown = ", ".join(served[:8]) + (", ..." if len(served) > 8 else "")
    raise ConfigError(
        f"{url} serves {len(served)} models ({shown})",
        hint=f"choose one with --model, e.g. --model {served[0]}",
    )
