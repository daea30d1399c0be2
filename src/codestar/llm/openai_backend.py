"""The backend for every OpenAI-compatible chat-completions server.

OpenAI itself, vLLM, SGLang, Ollama, llama.cpp's server, LM Studio...: one class on the
official ``openai`` client, with the client's own retries switched off so that retrying
happens in one place (`codestar.llm.retry`) with backoff, jitter and ``Retry-After``.

What it adds to the raw client:

- a concurrency limit (an asyncio semaphore per event loop);
- classification of failures: 429, 5xx, timeouts, dropped connections, malformed
  bodies and empty choice lists are retried; a bad key, an unknown model, a context
  overflow and a server that refuses connections end as one `BackendError` subclass
  whose message says what to do (a refused connection to this machine, 127.0.0.1 or
  localhost, at once: nothing listens there and no retry will change that; a remote
  one after the retries, since a remote server may be restarting);
- ``n > 1`` in one request, falling back to one request per sample for servers that
  reject or ignore ``n`` (llama.cpp), remembered for the backend's lifetime;
- reasoning (``<think>`` blocks, ``reasoning_content``) moved out of the answer text.

It does not cache, count budgets or log to the run store: `codestar.llm.stored` wraps
any backend for that.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import re
import time
import urllib.parse
from typing import Any

import openai

from codestar.errors import (
    AuthenticationError,
    BackendError,
    BackendUnreachableError,
    ContextLengthError,
    ModelNotFoundError,
)
from codestar.llm.reasoning import split_reasoning
from codestar.llm.retry import (
    RetriesExhaustedError,
    RetryPolicy,
    TransientError,
    parse_retry_after,
    retry,
)
from codestar.llm.sampling import complete_each
from codestar.llm.types import Completion, CompletionRequest, Usage

DEFAULT_BASE_URL = "https://api.openai.com/v1"

#: Sent when the server needs no key (self-hosted servers); the SDK insists on one.
NO_KEY = "codestar-no-key"

#: HTTP statuses worth another attempt (the same set the SDK retries by itself).
_TRANSIENT_STATUSES = frozenset({408, 409, 429})

#: How servers word a context overflow (OpenAI, vLLM, llama.cpp, SGLang, Ollama).
_CONTEXT_WORDING = re.compile(
    r"context[ _-]?(length|window|size)|maximum context|prompt is too long|too many tokens"
    r"|exceeds the available context",
    re.IGNORECASE,
)


class _RejectedRequest(BackendError):
    """The server refused this request (a 4xx other than key, model or context)."""


class OpenAIBackend:
    """A `Backend` for one model on one OpenAI-compatible server.

    ``base_url`` and ``api_key`` default to ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``.
    Servers other than OpenAI's get a placeholder key when none is set, since
    self-hosted servers usually need none. ``supports_n`` is ``None`` when unknown: the
    first `complete_many` finds out.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_concurrency: int = 8,
        timeout_s: float = 600.0,
        max_retries: int = 6,
        supports_n: bool | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        self._model = model
        url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = url.rstrip("/")
        self._loopback = _is_loopback(self.base_url)
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if self.base_url == DEFAULT_BASE_URL:
                raise AuthenticationError(
                    f"no API key for {self.base_url} (model {model!r})",
                    hint="set OPENAI_API_KEY or pass --api-key; for a model on your own "
                    "server pass --base-url URL; for the embedded model, --model local",
                )
            key = NO_KEY
        self._api_key = key
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.supports_n = supports_n
        # The client's connection pool and the semaphore belong to one event loop; a
        # backend reused under a second `asyncio.run` gets fresh ones.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def model(self) -> str:
        return self._model

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self._model!r}, base_url={self.base_url!r})"

    async def complete(self, request: CompletionRequest) -> Completion:
        return (await self._complete(request, 1))[0]

    async def complete_many(self, request: CompletionRequest, n: int) -> list[Completion]:
        """``n`` samples of one prompt: sample ``i`` stands for ``sample_index + i``.

        Uses one request with ``n`` where the server honours it. The usage of a shared
        request is reported on the first completion (the others carry zero tokens and
        zero calls), so sums over completions stay right.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        got: list[Completion] = []
        if n > 1 and self.supports_n is not False:
            try:
                got = await self._complete(request, n)
            except _RejectedRequest:
                if self.supports_n:
                    raise
                self.supports_n = False
            else:
                if self.supports_n is None:
                    self.supports_n = len(got) >= n
        got = got[:n]
        if len(got) < n:
            got.extend(await complete_each(self, request, range(len(got), n)))
        return got

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            # RuntimeError: the loop that owned the connections is gone; nothing to close.
            with contextlib.suppress(RuntimeError):
                await client.close()

    def _session(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._semaphore is None or self._loop is not loop:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.timeout_s,
            )
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
            self._loop = loop
        return self._client, self._semaphore

    def _body(self, request: CompletionRequest, n: int) -> dict[str, Any]:
        params = request.params
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": params.temperature,
            "max_tokens": params.max_tokens,
        }
        if params.top_p is not None:
            body["top_p"] = params.top_p
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if n > 1:
            body["n"] = n
        return body

    async def _complete(self, request: CompletionRequest, n: int) -> list[Completion]:
        body = self._body(request, n)
        started = time.perf_counter()
        try:
            return await retry(lambda: self._attempt(body, started), self.retry_policy)
        except RetriesExhaustedError as failure:
            raise self._exhausted(failure) from failure

    async def _attempt(self, body: dict[str, Any], started: float) -> list[Completion]:
        client, semaphore = self._session()
        async with semaphore:
            try:
                raw = await client.chat.completions.with_raw_response.create(**body)
                text = raw.http_response.text
            except openai.APITimeoutError as error:
                raise TransientError(f"no answer within {self.timeout_s:g} s") from error
            except openai.APIConnectionError as error:
                if _refused(error):
                    if self._loopback:
                        # Nothing listens on this machine's port: no retry can fix that.
                        raise self._unreachable("connection refused") from error
                    raise TransientError("connection refused", unreachable=True) from error
                raise TransientError("connection dropped") from error
            except openai.APIStatusError as error:
                raise self._status_error(error) from error
            except openai.APIError as error:
                # Anything else the SDK may raise about a response is still the server's
                # failure, never a traceback at the command line.
                raise BackendError(
                    f"{self.base_url} answered {self._model!r} unexpectedly: {error}"
                ) from error
        try:
            return _completions(_parse(text), self._model, time.perf_counter() - started)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise TransientError(f"malformed response: {error}") from error

    def _status_error(self, error: openai.APIStatusError) -> Exception:
        status = error.status_code
        detail = _first_line(error.message)
        if status in _TRANSIENT_STATUSES or status >= 500:
            return TransientError(
                f"HTTP {status}: {detail}",
                retry_after_s=parse_retry_after(dict(error.response.headers)),
            )
        if status in (401, 403):
            return AuthenticationError(
                f"{self.base_url} rejected the API key (HTTP {status}: {detail})",
                hint="check OPENAI_API_KEY or --api-key",
            )
        if status == 404:
            return ModelNotFoundError(
                f"model {self._model!r} not found at {self.base_url} (HTTP 404: {detail})",
                hint=_not_found_hint(self._model, self.base_url),
            )
        if _CONTEXT_WORDING.search(error.message):
            return ContextLengthError(
                f"the prompt does not fit {self._model}'s context ({detail})",
                hint="lower max_tokens or use a model with a longer context",
            )
        return _RejectedRequest(
            f"{self.base_url} refused the request for {self._model!r} (HTTP {status}: {detail})"
        )

    def _unreachable(self, reason: str) -> BackendUnreachableError:
        return BackendUnreachableError(
            f"cannot connect to {self.base_url} ({reason})",
            hint="is the server running? check --base-url or OPENAI_BASE_URL",
        )

    def _exhausted(self, failure: RetriesExhaustedError) -> BackendError:
        if failure.last.unreachable:
            return self._unreachable(f"{failure.attempts} attempts")
        return BackendError(
            f"{self._model!r} at {self.base_url} kept failing: {failure}",
            hint="the server is overloaded or broken; retry later or lower the concurrency",
        )


#: LiteLLM-style provider prefixes, which OpenAI-compatible servers do not understand.
_PROVIDER_PREFIXES = ("openai/", "hosted_vllm/", "vllm/", "ollama/", "ollama_chat/", "lm_studio/")


def _not_found_hint(model: str, base_url: str) -> str:
    """What to do about a 404: list the served models; drop a LiteLLM provider prefix."""
    listing = f"`codestar models --base-url {base_url}` lists the models it serves"
    prefix = next((p for p in _PROVIDER_PREFIXES if model.startswith(p)), None)
    if prefix is not None:
        return (
            f"model names are sent verbatim: {prefix!r} is a LiteLLM provider prefix, not part "
            f"of the name; try --model {model[len(prefix) :]}; {listing}"
        )
    return f"{listing}; an OpenAI-compatible base URL usually ends in /v1"


def _is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (where a refused connection is final).

    >>> _is_loopback("http://localhost:8000/v1"), _is_loopback("https://api.openai.com/v1")
    (True, False)
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(error: BaseException) -> bool:
    """Whether a connection error means nothing listens at the address.

    The SDK wraps its HTTP library's ``ConnectError`` (from ``httpx`` or ``httpx2``,
    depending on the SDK version), so the chain is matched by class name rather than
    by importing either library.
    """
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or type(cause).__name__ == "ConnectError":
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _first_line(message: str, limit: int = 200) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "no detail"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _parse(text: str) -> dict[str, Any]:
    """The response body as a dict with a non-empty ``choices`` list, or a transient error."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise TransientError(f"malformed response body: {_first_line(text, 80)!r}") from error
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise TransientError("response without a choices list")
    if not data["choices"]:
        raise TransientError("empty choice list")
    for choice in data["choices"]:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content", ""), str | None):
            raise TransientError("response choice without a message")
    return data


def _completions(data: dict[str, Any], model: str, latency_s: float) -> list[Completion]:
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    assert isinstance(usage, dict)
    shared = Usage(
        int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0), 1
    )
    choices = sorted(data["choices"], key=lambda choice: int(choice.get("index") or 0))
    completions = []
    for position, choice in enumerate(choices):
        message = choice["message"]
        thinking = message.get("reasoning_content") or message.get("reasoning")
        text, reasoning = split_reasoning(
            message.get("content") or "", thinking if isinstance(thinking, str) else None
        )
        completions.append(
            Completion(
                text=text,
                finish_reason=choice.get("finish_reason"),
                usage=shared if position == 0 else Usage(),
                latency_s=latency_s,
                reasoning=reasoning,
                model=model,
            )
        )
    return completions
