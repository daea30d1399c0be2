"""`manifest.json`: what an evaluation run was, so it can be reproduced and resumed.

The manifest records the codestar version (and git commit when run from a checkout),
the models per role, the sampling parameters and seed, the execution limits, the
benchmark with its source, release and filters, the methods and the problem ids. On a
resumed run the *settings* must match the stored ones (a different N or model would
mix two experiments in one table): `reconcile` refuses with a message naming the first
difference. Methods and problems may grow: adding a method to a finished run is how one
pool of candidates serves more selectors.

It writes and compares JSON; it does not run anything.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codestar import __version__
from codestar.atomic import write_text_atomic
from codestar.errors import ConfigError

MANIFEST_FILE = "manifest.json"

#: Manifest keys that must be equal for a run directory to be continued.
SETTINGS = ("benchmark", "models", "solve", "limits")


def source_commit() -> str | None:
    """The git commit of the codestar checkout in use (with ``-dirty``), if any."""
    root = Path(__file__).resolve().parents[3]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def build_manifest(
    *,
    benchmark: Mapping[str, Any],
    methods: Sequence[str],
    models: Mapping[str, str],
    solve: Mapping[str, Any],
    limits: Mapping[str, Any],
    problem_ids: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A new manifest (JSON-ready)."""
    return {
        "codestar_version": __version__,
        "git_commit": source_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "benchmark": dict(benchmark),
        "methods": list(methods),
        "models": dict(models),
        "solve": dict(solve),
        "limits": dict(limits),
        "problem_ids": list(problem_ids),
        **dict(extra or {}),
    }


def read_manifest(run_dir: str | Path) -> dict[str, Any] | None:
    path = Path(run_dir) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(
            f"cannot read {path}: {error}",
            hint="restore it, or start a new run with another --run-dir",
        ) from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a manifest", hint="use another --run-dir")
    return data


def reconcile(stored: Mapping[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The manifest to write for a run continuing ``stored`` with settings ``new``.

    Settings must be equal (`ConfigError` naming the first difference otherwise);
    methods and problem ids are the union, in first-seen order; ``created`` is kept and
    ``resumed`` set to now.
    """
    if stored is None:
        return new
    for key in SETTINGS:
        before, after = _plain(stored.get(key)), _plain(new.get(key))
        if before != after:
            where = _first_difference(before, after, key)
            raise ConfigError(
                f"the run dir was made with other settings ({where})",
                hint="rerun with the same settings to continue it, or use a new --run-dir",
            )
    merged = dict(new)
    merged["created"] = stored.get("created", new["created"])
    merged["resumed"] = datetime.now(UTC).isoformat(timespec="seconds")
    merged["methods"] = _union(stored.get("methods", []), new["methods"])
    merged["problem_ids"] = _union(stored.get("problem_ids", []), new["problem_ids"])
    return merged


def write_manifest(run_dir: str | Path, manifest: Mapping[str, Any]) -> None:
    """Write atomically (a kill never leaves half a manifest)."""
    directory = Path(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    write_json_atomic(directory / MANIFEST_FILE, manifest)


def write_json_atomic(path: Path, payload: Any) -> None:
    """``payload`` as indented JSON at ``path``, replacing it in one rename."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False)
    write_text_atomic(path, text + "\n")


def _plain(value: Any) -> Any:
    """JSON round trip, so tuples and lists compare equal."""
    return json.loads(json.dumps(value))


def _first_difference(before: Any, after: Any, path: str) -> str:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                return _first_difference(before.get(key), after.get(key), f"{path}.{key}")
    return f"{path} was {json.dumps(before)}, now {json.dumps(after)}"


def _union(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
