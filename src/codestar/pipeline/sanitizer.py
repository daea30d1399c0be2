"""Dropping what a functional solution must not run at import: the model's own tests.

Small models append asserts, ``check()`` calls, ``print(f(...))`` demos or ``input()``
prompts at the top level of functional code; the grader imports the module before it
calls the entry point, so such a line fails the whole candidate (a wrong assert, a
blocked ``input()``) even when the function is right. EvalPlus's sanitizer keeps only
what a solution needs; so does `sanitize`: imports, function and class definitions,
assignments whose names a kept definition (or a kept assignment) uses, ``try`` blocks
of imports, and calls on an imported module (``sys.setrecursionlimit(10**6)``).
Everything else at top level goes, and the caller records what went.

What this module deliberately does not do: touch stdin programs (their top level *is*
the program), look inside functions, or fix anything that does not parse (such code is
returned unchanged).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from codestar.pipeline.extraction import parse_python


@dataclass(frozen=True, slots=True)
class Sanitized:
    """The code to run and the first line of each top-level statement dropped."""

    code: str
    dropped: tuple[str, ...] = ()


def sanitize(code: str) -> Sanitized:
    """``code`` without the top-level statements a functional solution does not need.

    >>> sanitize("def f(x):\\n    return x + K\\nK = 1\\nassert f(1) == 3\\nprint(f(2))").code
    'def f(x):\\n    return x + K\\nK = 1'
    """
    tree = parse_python(code)
    if tree is None:
        return Sanitized(code)
    modules = _imported_names(tree)
    needed = _names_used_by_definitions(tree)
    pending = list(tree.body)
    # Assignments are kept when something kept uses them; that can chain (A = 1; B = A).
    keep = {id(node) for node in pending if _always_kept(node, modules)}
    changed = True
    while changed:
        changed = False
        for node in pending:
            if id(node) in keep or not _is_assignment(node):
                continue
            if _assigned_names(node) & needed and not _calls_input(node):
                keep.add(id(node))
                needed |= _loaded_names(node)
                changed = True
    kept = [node for node in pending if id(node) in keep]
    if len(kept) == len(tree.body):
        return Sanitized(code)
    if not kept:
        return Sanitized(code)  # nothing would remain: not a program this can judge
    lines = code.split("\n")
    dropped = tuple(lines[node.lineno - 1].strip() for node in tree.body if id(node) not in keep)
    spans = [(_first_line(node), node.end_lineno or node.lineno) for node in kept]
    kept_lines = [line for start, end in spans for line in lines[start - 1 : end]]
    return Sanitized("\n".join(kept_lines), dropped)


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _imported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _always_kept(node: ast.stmt, modules: set[str]) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef):
        return True
    if isinstance(node, ast.ClassDef):
        return True
    if isinstance(node, ast.Try):
        return all(
            isinstance(inner, ast.Import | ast.ImportFrom | ast.Pass)
            for part in (node.body, *(h.body for h in node.handlers))
            for inner in part
        )
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        function = node.value.func
        on_module = (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and function.value.id in modules
            and function.value.id != "sys"  # sys.stdout.write(...) is a demo
        )
        return on_module or _is_setting(node.value)
    return False


def _is_setting(call: ast.Call) -> bool:
    """``sys.setrecursionlimit(...)`` and the like: configuration, not a test."""
    function = call.func
    return isinstance(function, ast.Attribute) and function.attr.startswith("set")


def _is_assignment(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)


def _assigned_names(node: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _names_used_by_definitions(tree: ast.Module) -> set[str]:
    used: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            used |= _loaded_names(node)
    return used


def _calls_input(node: ast.stmt) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "input"
        for n in ast.walk(node)
    )
