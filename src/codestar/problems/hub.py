"""Fetch dataset files from the Hugging Face hub (``huggingface_hub``, an optional extra).

    download_dataset_files("livecodebench/code_generation_lite", ["test.jsonl"])
        -> HubFiles(paths=(…/snapshots/<commit>/test.jsonl,), revision="<commit>", …)

Files come through the hub's own cache (``$HF_HOME``), so a second run reads them from
disk. Before downloading, the endpoint's host is probed with a short TCP connect: when it
cannot be reached, the cached copy is used if there is one, and otherwise a
`DatasetUnavailableError` says to pass a local file (``--path``) instead of the
hub's retries taking half a minute to say the same.

It knows nothing about any benchmark's layout; `codestar.problems.benchmarks` names the
files.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codestar.errors import CodestarError, ConfigError

__all__ = ["DatasetUnavailableError", "HubFiles", "download_dataset_files"]

INSTALL_HINT = "install it with: pip install 'codestar[benchmarks]'"
_PROBE_TIMEOUT_S = 5.0


class DatasetUnavailableError(CodestarError):
    """A dataset cannot be fetched (hub unreachable, file missing) and is not cached."""


@dataclass(frozen=True, slots=True)
class HubFiles:
    """Downloaded files, in the order asked, and where they came from (for the manifest)."""

    repo_id: str
    paths: tuple[Path, ...]
    revision: str | None
    endpoint: str
    from_cache_only: bool


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError as error:
        raise ConfigError(
            "loading a benchmark from the Hugging Face hub needs huggingface_hub",
            hint=INSTALL_HINT,
        ) from error
    return huggingface_hub


def _reachable(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _revision_of(path: Path) -> str | None:
    """The commit in a hub cache path (``…/snapshots/<commit>/file``), if it is one."""
    parts = path.parts
    if "snapshots" in parts:
        index = parts.index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


def download_dataset_files(
    repo_id: str,
    files: Sequence[str],
    *,
    revision: str | None = None,
    endpoint: str | None = None,
) -> HubFiles:
    """The local paths of ``files`` of the dataset ``repo_id``, downloaded if need be.

    Raises `ConfigError` without ``huggingface_hub``, and `DatasetUnavailableError` when
    a file can be neither downloaded nor found in the cache.
    """
    hub = _hub()
    from huggingface_hub import constants
    from huggingface_hub.errors import HfHubHTTPError

    where = endpoint or constants.ENDPOINT
    online = not constants.HF_HUB_OFFLINE and _reachable(where)
    paths = []
    for name in files:
        try:
            local = hub.hf_hub_download(
                repo_id,
                name,
                repo_type="dataset",
                revision=revision,
                endpoint=endpoint,
                local_files_only=not online,
            )
        except (HfHubHTTPError, OSError, ValueError) as error:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            state = "" if online else f"{where} cannot be reached and it is not cached; "
            raise DatasetUnavailableError(
                f"cannot fetch {name} of the dataset {repo_id}: {state}{reason}",
                hint="pass a local copy of the dataset with --path",
            ) from error
        paths.append(Path(local))
    return HubFiles(
        repo_id=repo_id,
        paths=tuple(paths),
        revision=_revision_of(paths[0]) if paths else revision,
        endpoint=where,
        from_cache_only=not online,
    )
