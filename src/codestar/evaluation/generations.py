"""LiveCodeBench-style generations files: ``[{"question_id": ..., "code_list": [...]}]``.

This is the format LiveCodeBench's own grader reads, so codestar both grades such files
(`codestar grade`) and writes them, letting results be re-checked with the community's
tool. It does not extract code from model text: ``code_list`` holds programs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codestar.errors import ProblemFormatError


@dataclass(frozen=True, slots=True)
class Generation:
    question_id: str
    code_list: tuple[str, ...]


def read_generations(path: str | Path) -> tuple[Generation, ...]:
    """Read a generations file; a malformed one raises `ProblemFormatError`."""
    where = str(path)
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ProblemFormatError(f"cannot read {where}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise ProblemFormatError(
            f"{where} is not JSON ({error.msg} at line {error.lineno})",
            hint='expected [{"question_id": ..., "code_list": ["..."]}, ...]',
        ) from error
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise ProblemFormatError(f"{where}: expected a JSON list of generations")
    generations = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping) or "question_id" not in item:
            raise ProblemFormatError(f"{where}: entry {index} has no 'question_id'")
        codes = item.get("code_list")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ProblemFormatError(
                f"{where}: entry {index} ({item['question_id']}): 'code_list' must be a list "
                "of strings"
            )
        generations.append(Generation(str(item["question_id"]), tuple(codes)))
    return tuple(generations)


def write_generations(path: str | Path, generations: Sequence[Generation]) -> None:
    payload = [{"question_id": g.question_id, "code_list": list(g.code_list)} for g in generations]
    Path(path).write_text(json.dumps(payload, indent=1), encoding="utf-8")
