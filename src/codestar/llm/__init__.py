"""The LLM layer: backends, model specs and roles, the run store, usage and budgets.

The public names below are re-exported lazily (on first attribute access), so that
importing a light submodule such as `codestar.llm.types` never pays for the ``openai``
client or the embedded model's bindings.

    Backend (protocol)      codestar.llm.backend
    ├── OpenAIBackend       any OpenAI-compatible server (retries, n>1, reasoning)
    ├── LocalBackend        the embedded llama.cpp model (codestar.llm.local)
    ├── StoredBackend       answers from the run store, logs every call, budgets
    ├── MeteredBackend      usage and budgets without a store
    ├── WatchedBackend      reports calls to an Activity (progress views)
    └── ScriptedBackend     a fake for tests and examples
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codestar.lazy import lazy_exports

if TYPE_CHECKING:
    from codestar.llm.accounting import (
        Budget,
        Ledger,
        LedgerReport,
        MeteredBackend,
        Price,
        PriceTable,
        Tally,
    )
    from codestar.llm.activity import Activity, WatchedBackend
    from codestar.llm.backend import Backend
    from codestar.llm.config import LLMConfig, load_config
    from codestar.llm.listing import list_models, only_model
    from codestar.llm.openai_backend import OpenAIBackend
    from codestar.llm.retry import RetryPolicy
    from codestar.llm.roles import RoleBackends, RoleModels, open_role_backends
    from codestar.llm.sampling import complete_many
    from codestar.llm.scripted import ScriptedBackend
    from codestar.llm.session import LLMSession, open_session
    from codestar.llm.spec import ModelSpec, open_backend, parse_model_spec
    from codestar.llm.store import CallRecord, RunStore
    from codestar.llm.stored import StoredBackend, request_key
    from codestar.llm.types import (
        Completion,
        CompletionRequest,
        Message,
        SamplingParams,
        Stage,
        Usage,
    )

_HOMES = {
    "Activity": "activity",
    "Backend": "backend",
    "Budget": "accounting",
    "CallRecord": "store",
    "Completion": "types",
    "CompletionRequest": "types",
    "LLMConfig": "config",
    "LLMSession": "session",
    "Ledger": "accounting",
    "LedgerReport": "accounting",
    "Message": "types",
    "MeteredBackend": "accounting",
    "ModelSpec": "spec",
    "OpenAIBackend": "openai_backend",
    "Price": "accounting",
    "PriceTable": "accounting",
    "RetryPolicy": "retry",
    "RoleBackends": "roles",
    "RoleModels": "roles",
    "RunStore": "store",
    "SamplingParams": "types",
    "ScriptedBackend": "scripted",
    "Stage": "types",
    "StoredBackend": "stored",
    "Tally": "accounting",
    "Usage": "types",
    "WatchedBackend": "activity",
    "complete_many": "sampling",
    "list_models": "listing",
    "load_config": "config",
    "open_backend": "spec",
    "open_role_backends": "roles",
    "only_model": "listing",
    "open_session": "session",
    "parse_model_spec": "spec",
    "request_key": "stored",
}

__all__ = [
    "Activity",
    "Backend",
    "Budget",
    "CallRecord",
    "Completion",
    "CompletionRequest",
    "LLMConfig",
    "LLMSession",
    "Ledger",
    "LedgerReport",
    "Message",
    "MeteredBackend",
    "ModelSpec",
    "OpenAIBackend",
    "Price",
    "PriceTable",
    "RetryPolicy",
    "RoleBackends",
    "RoleModels",
    "RunStore",
    "SamplingParams",
    "ScriptedBackend",
    "Stage",
    "StoredBackend",
    "Tally",
    "Usage",
    "WatchedBackend",
    "complete_many",
    "list_models",
    "load_config",
    "only_model",
    "open_backend",
    "open_role_backends",
    "open_session",
    "parse_model_spec",
    "request_key",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
