"""Fetching dataset files through huggingface_hub from a local stand-in for the hub."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
from hubserver import COMMIT, hub_server

from codestar.errors import ConfigError
from codestar.problems.benchmarks import BenchmarkQuery, NoHiddenTestsWarning, load_benchmark
from codestar.problems.hub import DatasetUnavailableError, download_dataset_files

hub_constants = pytest.importorskip("huggingface_hub.constants")

REPO = "livecodebench/code_generation_lite"


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    return cache


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_files_are_downloaded_and_their_commit_recorded() -> None:
    with hub_server({"test.jsonl": b'{"x": 1}\n', "test2.jsonl": b'{"x": 2}\n'}) as hub:
        files = download_dataset_files(REPO, ["test.jsonl", "test2.jsonl"], endpoint=hub.endpoint)
    assert [path.read_bytes() for path in files.paths] == [b'{"x": 1}\n', b'{"x": 2}\n']
    assert files.revision == COMMIT
    assert not files.from_cache_only
    assert any(request.startswith("GET /datasets/" + REPO) for request in hub.requests)


def test_a_cached_file_is_used_when_the_hub_is_unreachable() -> None:
    with hub_server({"test.jsonl": b'{"x": 1}\n'}) as hub:
        download_dataset_files(REPO, ["test.jsonl"], endpoint=hub.endpoint)
        hub.close()
        started = time.monotonic()
        again = download_dataset_files(REPO, ["test.jsonl"], endpoint=hub.endpoint)
    assert again.from_cache_only and again.paths[0].read_bytes() == b'{"x": 1}\n'
    assert time.monotonic() - started < 5  # no retry loop against a refused port


def test_an_unreachable_hub_without_a_cache_says_to_pass_a_file() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as caught:
        download_dataset_files(REPO, ["test.jsonl"], endpoint=endpoint)
    assert time.monotonic() - started < 5
    assert "cannot be reached" in str(caught.value)
    assert caught.value.hint is not None and "--path" in caught.value.hint


def test_a_file_the_hub_does_not_have_is_unavailable() -> None:
    with (
        hub_server({"test.jsonl": b"{}\n"}) as hub,
        pytest.raises(DatasetUnavailableError, match=r"test7\.jsonl"),
    ):
        download_dataset_files(REPO, ["test7.jsonl"], endpoint=hub.endpoint)


def test_without_huggingface_hub_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ConfigError) as caught:
        download_dataset_files(REPO, ["test.jsonl"])
    assert caught.value.hint is not None and "codestar[benchmarks]" in caught.value.hint


def test_livecodebench_releases_load_from_the_hub(shared_data: Path) -> None:
    lines = (shared_data / "lcb_release_v1_public.jsonl").read_bytes().splitlines(keepends=True)
    files = {"test.jsonl": b"".join(lines[:30]), "test2.jsonl": b"".join(lines[30:50])}
    with hub_server(files) as hub, pytest.warns(NoHiddenTestsWarning):
        both = load_benchmark(
            "livecodebench", BenchmarkQuery(release="release_v2", hub_endpoint=hub.endpoint)
        )
        second = load_benchmark(
            "livecodebench", BenchmarkQuery(release="v2", hub_endpoint=hub.endpoint)
        )
    assert len(both.problems) == 50 and len(second.problems) == 20
    assert both.info["source"]["hub"] == REPO
    assert both.info["source"]["revision"] == COMMIT
    assert both.info["source"]["files"] == ["test.jsonl", "test2.jsonl"]
    assert both.info["release"] == "release_v2"


def test_livecodebench_without_the_hub_says_to_pass_a_file() -> None:
    query = BenchmarkQuery(release="v1", hub_endpoint=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(DatasetUnavailableError) as caught:
        load_benchmark("livecodebench", query)
    assert "--path" in str(caught.value)
