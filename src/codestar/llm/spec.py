"""Model specs: what ``--model`` means, and opening a backend for one.

A spec is either the embedded model (``local``, which is also what no ``--model``
means; ``local:1.5b``; ``local:/path/model.gguf``) or a model on an OpenAI-compatible
server (``gpt-4o-mini``; ``Qwen/Qwen2.5-Coder-7B-Instruct`` with a base URL). The
endpoint of a remote spec comes from the spec, then from the environment
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``) when the backend is built, never at import.

Which local names exist and how their weights are found is `codestar.llm.local`'s
business; this module only tells local specs from remote ones and dispatches.

    >>> parse_model_spec(None)
    ModelSpec(name='local', local=True, base_url=None, api_key_env=None)
    >>> parse_model_spec("gpt-4o-mini").local
    False
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from codestar.errors import AuthenticationError, ConfigError, LocalModelError
from codestar.llm.backend import Backend
from codestar.llm.listing import check_base_url

DEFAULT_SPEC = "local"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """One model and where it is served.

    ``name`` is the text after ``--model`` (``local``, ``local:1.5b``, or the server's
    model name). ``api_key_env`` names the environment variable holding the key (from
    the config file); the key itself is read only when the backend is built.
    """

    name: str
    local: bool
    base_url: str | None = None
    api_key_env: str | None = None

    def __str__(self) -> str:
        return self.name if self.base_url is None else f"{self.name} @ {self.base_url}"


def is_local(spec: str) -> bool:
    """Whether a ``--model`` value names the embedded model (``local`` or ``local:...``)."""
    return spec == DEFAULT_SPEC or spec.startswith(DEFAULT_SPEC + ":")


def parse_model_spec(
    spec: str | None, *, base_url: str | None = None, api_key_env: str | None = None
) -> ModelSpec:
    """Parse a ``--model`` value; ``None`` or empty means the embedded default.

    A base URL or key variable with a local spec is a mistake (the embedded model runs
    its own server) and raises `ConfigError`, as does a base URL that is not HTTP.
    """
    name = (spec or DEFAULT_SPEC).strip()
    if not name:
        name = DEFAULT_SPEC
    if is_local(name):
        if name == DEFAULT_SPEC + ":":
            raise ConfigError("empty local model name", hint="use local, local:1.5b or local:PATH")
        if base_url is not None or api_key_env is not None:
            raise ConfigError(
                f"{name!r} is the embedded model: it takes no base URL or API key",
                hint="drop --base-url, or name the server's model with --model",
            )
        return ModelSpec(name=name, local=True)
    if base_url is not None:
        base_url = check_base_url(base_url)
    return ModelSpec(name=name, local=False, base_url=base_url, api_key_env=api_key_env)


def open_backend(
    spec: str | ModelSpec | None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    max_concurrency: int | None = None,
    timeout_s: float | None = None,
    max_retries: int | None = None,
    **local_options: Any,
) -> Backend:
    """Build the backend for ``spec``; explicit arguments override the spec's endpoint.

    ``local_options`` go to `codestar.llm.local.LocalBackend` (threads, context...);
    ``max_concurrency`` applies to remote servers only.
    """
    model = spec if isinstance(spec, ModelSpec) else parse_model_spec(spec, base_url=base_url)
    options: dict[str, Any] = {}
    if timeout_s is not None:
        options["timeout_s"] = timeout_s
    if max_retries is not None:
        options["max_retries"] = max_retries
    if model.local:
        if base_url is not None or api_key is not None:
            raise ConfigError(
                f"{model.name!r} is the embedded model: it takes no base URL or API key",
                hint="drop --base-url and --api-key, or name the server's model with --model",
            )
        return _open_local(model.name, {**options, **local_options})
    if local_options:
        raise ConfigError(
            f"options {sorted(local_options)} apply to the embedded model only, "
            f"not to {model.name!r}"
        )
    from codestar.llm.openai_backend import OpenAIBackend

    if max_concurrency is not None:
        options["max_concurrency"] = max_concurrency
    return OpenAIBackend(
        model.name,
        base_url=base_url or model.base_url,
        api_key=api_key or _key_from(model),
        **options,
    )


def _key_from(model: ModelSpec) -> str | None:
    if model.api_key_env is None:
        return None
    key = os.environ.get(model.api_key_env)
    if not key:
        raise AuthenticationError(
            f"environment variable {model.api_key_env} (api_key_env for {model.name!r}) is not set",
            hint=f"export {model.api_key_env}=... or pass --api-key",
        )
    return key


def _open_local(name: str, options: dict[str, Any]) -> Backend:
    # Imported here: the embedded model pulls in llama.cpp bindings that remote-only
    # users may not have installed.
    try:
        from codestar.llm.local import LocalBackend
    except ImportError as error:
        raise LocalModelError(
            f"the embedded model is not available ({error})",
            hint="install it with: pip install 'codestar[local]'",
        ) from error
    backend: Backend = LocalBackend(name, **options)
    return backend
