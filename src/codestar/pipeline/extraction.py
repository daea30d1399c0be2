"""Finding the program in a model's answer.

Models wrap code in Markdown fences written every which way (```` ```python ````,
```` ```py ````, ```` ```Python3 ````, bare ```` ``` ````, ``~~~``), write several blocks (the
solution, a usage example, a test), forget the fence, surround it with prose, or are cut
off mid-block. `extract_code` picks the complete program and validates it with
`ast.parse`; it never raises, and returns ``None`` when nothing usable is there.

`find_blocks` (the fence scanner) is shared with `codestar.pipeline.inputs`.

What this module deliberately does not do: run, repair or reformat code (a program that
parses but is wrong is the sandbox's business), or decide what a truncated answer means
(the caller sees ``finish_reason == "length"`` and records a failed candidate; here the
``truncated`` flag only says the last fence was never closed).
"""

from __future__ import annotations

import ast
import builtins
import re
import warnings
from dataclasses import dataclass

from codestar.problems.entrypoint import find_entry_point
from codestar.problems.model import ProblemKind

#: Answers longer than this are cut before scanning (a model answer is far shorter;
#: this only bounds the work done on garbage).
MAX_TEXT_CHARS = 1_000_000
#: Unfenced answers longer than this are only tried whole (the region search is
#: quadratic in the worst case).
MAX_REGION_CHARS = 100_000
#: The region search tries at most this many start lines, and as many ends per start.
_MAX_REGION_TRIES = 80

_PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", "python2", "pycon", "ipython", "sage"})
_OTHER_LANGUAGES = frozenset(
    {
        "c", "cpp", "c++", "cc", "h", "java", "javascript", "js", "typescript", "ts", "go",
        "golang", "rust", "rs", "bash", "sh", "shell", "console", "zsh", "powershell",
        "json", "jsonl", "yaml", "yml", "toml", "xml", "html", "css", "sql", "kotlin",
        "swift", "ruby", "rb", "csharp", "cs", "c#", "php", "scala", "haskell", "perl",
        "r", "lua", "diff", "markdown", "md", "latex", "tex", "math", "input", "output",
    }
)  # fmt: skip
_THINK_TAG = re.compile(r"<(/?)think>", re.IGNORECASE)
_LANGUAGE = re.compile(r"[{.\s]*([\w+#-]+)")
_TAGGED_FENCE = re.compile(r"(`{3,}|~{3,})[ \t]*[A-Za-z][\w+#.-]*")
_INPUT_MARKERS = ("input(", "sys.stdin", "open(0", "stdin.read", "fileinput", "readline(")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: its language tag (lower case), its body, and its label.

    ``label`` is the text just before the block (the last non-empty line since the
    previous block, or text before the fence on its own line), e.g. ``"Input 2:"``.
    ``closed`` is False for a final block whose closing fence never came.
    """

    language: str
    body: str
    closed: bool = True
    label: str = ""

    @property
    def is_python(self) -> bool:
        return self.language in _PYTHON_TAGS


@dataclass(frozen=True, slots=True)
class ExtractedCode:
    """A program found in a model's answer.

    ``reason`` says how it was found (``"fenced"``, ``"unfenced"``...) and, when the
    choice was not obvious, why; ``truncated`` is True when it came from a final fence
    that was never closed (an answer cut off, or a forgotten fence).
    """

    code: str
    reason: str
    truncated: bool = False


def strip_thinking(text: str) -> str:
    """Remove ``<think>...</think>`` sections (and anything before a lone ``</think>``).

    An opening tag that is never closed is removed alone: its content may hold the only
    code. Linear in the length of ``text`` (a scan over the tags, no backtracking).

    >>> strip_thinking("<think>hmm</think>print(1)")
    'print(1)'
    """
    kept: list[str] = []
    position = 0
    opened_at: int | None = None
    for tag in _THINK_TAG.finditer(text):
        if tag[1]:  # </think>
            if opened_at is None:
                kept = []  # a lone closing tag: what came before was reasoning
            opened_at = None
            position = tag.end()
        elif opened_at is None:
            kept.append(text[position : tag.start()])
            opened_at = tag.end()
    kept.append(text[opened_at if opened_at is not None else position :])
    return _THINK_TAG.sub("", "".join(kept))


def find_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text`` in order; a final unclosed fence yields ``closed=False``.

    A fence opens on a line ending in three or more backticks (or tildes) plus an
    optional language tag, and closes on a line holding only a fence of the same kind
    at least as long. Small models also close a block with the fence glued to the last
    code line, or not at all before opening the next with a tagged fence: both are
    accepted.

    >>> [b.body for b in find_blocks("hi\\n```py\\nx = 1\\n```\\nbye")]
    ['x = 1']
    """
    blocks: list[Block] = []
    lines = text.split("\n")
    label = ""
    i = 0
    while i < len(lines):
        opened = _opening_fence(lines[i])
        if opened is None:
            if lines[i].strip():
                label = lines[i].strip()
            i += 1
            continue
        before, fence, info = opened
        label = before or label
        tag = _LANGUAGE.match(info)  # "python", "{.python}", "python:main.py" -> python
        language = tag[1].lower() if tag else ""
        body: list[str] = []
        closed = False
        i += 1
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                closed = True
                i += 1
                break
            reopened = _TAGGED_FENCE.fullmatch(stripped)
            if (
                reopened is not None
                and len(reopened[1]) >= len(fence)
                and reopened[1][0] == fence[0]
            ):
                # "```python" while a block is open: the model forgot to close the
                # previous one. Close it here and let the outer loop open the next.
                closed = True
                break
            if stripped.endswith(fence) and not stripped.startswith(fence[0] * 3):
                body.append(line.rstrip()[: -len(fence)])
                closed = True
                i += 1
                break
            body.append(line)
            i += 1
        blocks.append(Block(language, "\n".join(body), closed=closed, label=label))
        label = ""
    return blocks


def _opening_fence(line: str) -> tuple[str, str, str] | None:
    """(text before the fence, the fence, its info string) when ``line`` opens a block.

    The fence is the last run of three or more backticks (or tildes) on the line; only
    an info string (no further fence characters) may follow it, and text before it
    must end in a space ("Here it is: ```python"). Plain string scanning: a regular
    expression with an optional prefix took quadratic time on long lines of spaces.
    """
    line = line.rstrip()
    best: tuple[int, int] | None = None
    for mark in ("```", "~~~"):
        end = line.rfind(mark)
        if end == -1:
            continue
        start = end
        while start > 0 and line[start - 1] == mark[0]:
            start -= 1
        end += 3
        if mark[0] in line[end:]:
            continue
        if best is None or start > best[0]:
            best = (start, end)
    if best is None:
        return None
    start, end = best
    before = line[:start]
    if before.strip() and not before[-1].isspace():
        return None
    return before.strip(), line[start:end], line[end:].strip()


def parse_python(code: str) -> ast.Module | None:
    """The syntax tree of ``code`` when it compiles, else None; never raises.

    Compiling catches what parsing alone lets through (``return`` outside a function).
    """
    return _parse_with_error_line(code)[0]


def extract_code(
    text: str, *, kind: ProblemKind, entry_point: str | None = None
) -> ExtractedCode | None:
    """The program in a model's answer, or None when there is none.

    Fenced blocks are preferred: for functional problems the one that defines
    ``entry_point``, for stdin problems the one that reads input, the largest first.
    Without fences, the whole text when it parses, else the longest region of whole
    lines that parses (prose before and after is dropped).

    >>> extract_code("Here:\\n```py\\nprint(input())\\n```", kind=ProblemKind.STDIN).code
    'print(input())'
    """
    try:
        return _extract(text, kind=kind, entry_point=entry_point)
    except (RecursionError, MemoryError):  # pathological nesting deep inside ast
        return None


def _extract(text: str, *, kind: ProblemKind, entry_point: str | None) -> ExtractedCode | None:
    if not isinstance(text, str) or not text.strip():
        return None
    text = strip_thinking(text[:MAX_TEXT_CHARS].replace("\r\n", "\n").replace("\x00", ""))
    blocks = find_blocks(text)
    if blocks:
        found = _best_block(blocks, kind=kind, entry_point=entry_point)
        if found is not None:
            return found
    # No usable fence: the answer may be bare code, possibly with prose around it.
    outside = _text_outside_fences(text) if blocks else text
    found = _best_region(outside, kind=kind, entry_point=entry_point)
    if found is None and blocks:
        # The fences held nothing usable and the text around them neither; as a last
        # resort look at the whole answer with fence lines removed.
        found = _best_region(_remove_fence_lines(text), kind=kind, entry_point=entry_point)
    return found


@dataclass(frozen=True, slots=True)
class _Candidate:
    code: str
    tree: ast.Module
    python_tag: bool
    closed: bool
    index: int


def _best_block(
    blocks: list[Block], *, kind: ProblemKind, entry_point: str | None
) -> ExtractedCode | None:
    candidates: list[_Candidate] = []
    for index, block in enumerate(blocks):
        if block.language in _OTHER_LANGUAGES:
            continue  # ```cpp, ```json, ```bash...: not our program
        code = _dedent(block.body).strip("\n")
        tree = parse_python(code)
        if tree is None and not block.closed:
            code, tree = _longest_parseable_prefix(code)
        if tree is None or not _has_code(tree):
            continue
        candidates.append(_Candidate(code, tree, block.is_python, block.closed, index))
    if not candidates:
        return None
    chosen, why = _choose(candidates, kind=kind, entry_point=entry_point)
    reason = "fenced" if len(candidates) == 1 else f"fenced, {why} of {len(candidates)} blocks"
    code, joined = _join_helpers(chosen, candidates)
    if joined:
        reason += f", joined {joined} definition(s) from other blocks"
    if not chosen.closed:
        reason += ", unterminated fence"
    return ExtractedCode(code=code, reason=reason, truncated=not chosen.closed)


_BUILTINS = frozenset(dir(builtins))


def _free_names(tree: ast.Module) -> set[str]:
    """Names ``tree`` reads but never binds (nor are builtins)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - _BUILTINS


def _definitions(candidate: _Candidate) -> dict[str, str]:
    """Top-level name -> source of the statement defining it (def, class, import)."""
    found: dict[str, str] = {}
    lines = candidate.code.split("\n")
    for node in candidate.tree.body:
        names: list[str] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
        if not names:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        source = "\n".join(lines[start - 1 : node.end_lineno or node.lineno])
        for name in names:
            found.setdefault(name, source)
    return found


def _join_helpers(chosen: _Candidate, candidates: list[_Candidate]) -> tuple[str, int]:
    """The chosen code with the definitions it lacks from the other blocks put in front
    (in block order, each once), and how many were joined; the code unchanged when
    joining would not parse."""
    missing = _free_names(chosen.tree)
    if not missing:
        return chosen.code, 0
    available: dict[str, str] = {}
    for other in candidates:
        if other is not chosen:
            for name, source in _definitions(other).items():
                available.setdefault(name, source)
    joined: list[str] = []
    while missing & set(available):  # a joined helper may need an import of its own
        name = min(missing & set(available))
        source = available.pop(name)
        missing.discard(name)
        if source not in joined:
            joined.insert(0, source)
            helper = parse_python(source)
            if helper is not None:
                missing |= _free_names(helper)
    if not joined:
        return chosen.code, 0
    code = "\n\n".join([*joined, chosen.code])
    if parse_python(code) is None:
        return chosen.code, 0
    return code, len(joined)


def _choose(
    candidates: list[_Candidate], *, kind: ProblemKind, entry_point: str | None
) -> tuple[_Candidate, str]:
    """The complete program among parseable blocks, and a word on why it won."""
    if kind is ProblemKind.FUNCTIONAL and entry_point:
        defining = [c for c in candidates if find_entry_point(c.code, entry_point) is not None]
        if defining:
            return max(defining, key=_size_key), f"the one defining {entry_point}"
        with_defs = [c for c in candidates if _defines_anything(c.tree)]
        if with_defs:
            return max(with_defs, key=_size_key), f"largest with definitions (no {entry_point})"
        return max(candidates, key=_size_key), f"largest (no {entry_point})"
    if kind is ProblemKind.STDIN:
        reading = [c for c in candidates if _reads_input(c.code)]
        if reading:
            return max(reading, key=_size_key), "the largest reading input"
    return max(candidates, key=_size_key), "the largest"


def _size_key(candidate: _Candidate) -> tuple[bool, int, int, int]:
    # A python-tagged, complete block with more statements wins; later blocks break
    # ties because models tend to end with the final version.
    statements = sum(1 for _ in ast.walk(candidate.tree) if isinstance(_, ast.stmt))
    return (candidate.python_tag, candidate.closed, statements, candidate.index)


def _best_region(text: str, *, kind: ProblemKind, entry_point: str | None) -> ExtractedCode | None:
    whole = text.strip("\n")
    tree = parse_python(whole)
    if tree is not None and _has_code(tree):
        code = _trim_stray_expressions(whole, tree)
        if code is not None and _fits(code, kind=kind, entry_point=entry_point):
            return ExtractedCode(code=code, reason="unfenced, whole answer")
    if len(whole) > MAX_REGION_CHARS:
        return None
    lines = whole.split("\n")
    starts = [i for i, line in enumerate(lines) if line[:1] not in (" ", "\t", "")]
    best: str | None = None
    best_length = 0
    for start in starts[:_MAX_REGION_TRIES]:
        if len(lines) - start <= best_length:
            break  # every later start gives a shorter region
        found = _longest_region_from(lines, start, min_length=best_length)
        if found is None:
            continue
        length, region = found
        tree = parse_python(region) or ast.Module([], [])
        code = _trim_stray_expressions(region, tree, keep_trailing_comments=False)
        if code is not None and _fits(code, kind=kind, entry_point=entry_point):
            best, best_length = code, length
    if best is None:
        return None
    return ExtractedCode(code=best, reason="unfenced, prose removed")


def _longest_region_from(
    lines: list[str], start: int, *, min_length: int
) -> tuple[int, str] | None:
    """The longest ``lines[start:end]`` that parses and holds code, guided by error lines.

    A syntax error at line L of the region means the region most likely has to end
    before L (prose after the code), so the next try cuts there instead of one line.
    """
    end = len(lines)
    for _ in range(_MAX_REGION_TRIES):
        if end - start <= min_length:
            return None
        region = "\n".join(lines[start:end]).strip("\n")
        tree, error_line = _parse_with_error_line(region)
        if tree is not None:
            return (end - start, region) if _has_code(tree) else None
        cut = start + error_line - 1 if error_line and error_line > 1 else end - 1
        end = min(end - 1, cut) if cut > start else end - 1
    return None


def _parse_with_error_line(code: str) -> tuple[ast.Module | None, int | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in model code
            tree = ast.parse(code)
            compile(tree, "<candidate>", "exec", dont_inherit=True)
            return tree, None
    except SyntaxError as error:
        return None, error.lineno
    except (ValueError, MemoryError, RecursionError, OverflowError):
        return None, None


def _fits(code: str, *, kind: ProblemKind, entry_point: str | None) -> bool:
    """Whether unfenced code is plausibly the program (not a stray line of prose)."""
    tree = parse_python(code)
    if tree is None:
        return False
    if kind is ProblemKind.FUNCTIONAL and entry_point:
        return find_entry_point(code, entry_point) is not None or _defines_anything(tree)
    return _defines_anything(tree) or _reads_input(code) or len(tree.body) >= 2


def _trim_stray_expressions(
    code: str, tree: ast.Module, *, keep_trailing_comments: bool = True
) -> str | None:
    """Drop leading/trailing bare names and numbers (prose words that happen to parse).

    Without ``keep_trailing_comments`` the code ends at its last statement, so that a
    Markdown heading after it (``### Explanation``, a comment to Python) goes too.
    """
    body = list(tree.body)
    lines = code.split("\n")
    start, end = 1, len(lines)  # untouched ends keep their comments
    if body and _is_stray(body[0]):
        while body and _is_stray(body[0]):
            body.pop(0)
        if body:
            first = body[0]
            start = min([first.lineno] + [d.lineno for d in getattr(first, "decorator_list", [])])
    if body and (_is_stray(body[-1]) or not keep_trailing_comments):
        while body and _is_stray(body[-1]):
            body.pop()
        if body:
            end = body[-1].end_lineno or end
    if not body:
        return None
    return "\n".join(lines[start - 1 : end]).strip("\n")


def _is_stray(node: ast.stmt) -> bool:
    """A statement that is prose which happens to parse: ``Done``, ``42``, ``n - 1``, or
    ``Complexity: O(n)`` (an annotation without value, which would even raise at run
    time)."""
    if isinstance(node, ast.AnnAssign):
        return node.value is None
    if not isinstance(node, ast.Expr):
        return False
    value = node.value
    if isinstance(value, ast.Name | ast.Attribute | ast.Compare | ast.BinOp | ast.Tuple):
        return True
    return isinstance(value, ast.Constant) and not isinstance(value.value, str)


def _has_code(tree: ast.Module) -> bool:
    """At least one statement that is more than a bare name, number or string."""
    return any(
        not _is_stray(node)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in tree.body
    )


def _defines_anything(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        for node in tree.body
    )


def _reads_input(code: str) -> bool:
    return any(marker in code for marker in _INPUT_MARKERS)


def _longest_parseable_prefix(code: str) -> tuple[str, ast.Module | None]:
    """For a cut-off block: the longest run of leading lines that parses."""
    found = _longest_region_from(code.split("\n"), 0, min_length=0)
    if found is None:
        return code, None
    return found[1], parse_python(found[1])


def _dedent(body: str) -> str:
    """Remove the indentation common to every line (blocks nested in Markdown lists)."""
    lines = body.split("\n")
    indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
    common = min(indents, default=0)
    if common == 0:
        return body
    return "\n".join(line[common:] for line in lines)


def _text_outside_fences(text: str) -> str:
    """The answer with every fenced block (fences and body) removed."""
    kept: list[str] = []
    inside: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if inside is None:
            opened = _opening_fence(line)
            if opened is not None:
                inside = opened[1]
                continue
            kept.append(line)
        elif stripped and set(stripped) == {inside[0]} and len(stripped) >= len(inside):
            inside = None
    return "\n".join(kept)


def _remove_fence_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if _opening_fence(line) is None)
