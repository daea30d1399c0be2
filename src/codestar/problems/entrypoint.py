"""Find the function a functional problem calls: its name, class and arity.

Works on LeetCode-style starter code (a ``class Solution`` method), on plain function
stubs (HumanEval style) and on whole candidate programs. The code is read with
``ast``, never run. Starter code is often not valid Python (a method header with an
empty, indented body), so empty bodies are filled with ``pass`` before giving up.

It does not check that the function is correct or callable, nor follow imports; code
that cannot be parsed even after the repair yields ``None``.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["EntryPoint", "find_entry_point"]

_SOLUTION_CLASS = "Solution"

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """The function to call.

    ``class_name`` is set for a method (the caller builds an instance first); ``arity``
    counts the positional parameters after ``self``, those with defaults included, and
    not ``*args``/``**kwargs``.
    """

    name: str
    class_name: str | None
    arity: int


def find_entry_point(code: str, name: str | None = None) -> EntryPoint | None:
    """The entry point of ``code``: the one named ``name``, or the evident one.

    With ``name``: a ``Solution`` method of that name, else a top-level function, else a
    method of another top-level class. Without: the first public ``Solution`` method
    that no other method calls, else the last public top-level function that no other
    top-level function calls (helpers come first in stubs). ``None`` when nothing fits.

    >>> find_entry_point("class Solution:\\n    def twoSum(self, nums, target):\\n        ")
    EntryPoint(name='twoSum', class_name='Solution', arity=2)
    """
    module = _parse_forgivingly(code)
    if module is None:
        return None
    classes = [node for node in module.body if isinstance(node, ast.ClassDef)]
    functions = [node for node in module.body if isinstance(node, _FunctionNode)]
    solution = next((c for c in reversed(classes) if c.name == _SOLUTION_CLASS), None)
    if name is not None:
        return _find_named(name, solution, classes, functions)
    if solution is not None:
        methods = _public_functions(solution.body)
        chosen = _uncalled(methods, via_self=True)
        if chosen:
            return _entry_point(chosen[0], solution)
    chosen = _uncalled(_public_functions(module.body), via_self=False)
    if chosen:
        return _entry_point(chosen[-1], None)
    return None


def _find_named(
    name: str,
    solution: ast.ClassDef | None,
    classes: Sequence[ast.ClassDef],
    functions: Sequence[_FunctionNode],
) -> EntryPoint | None:
    if solution is not None:
        method = _last_named(solution.body, name)
        if method is not None:
            return _entry_point(method, solution)
    function = _last_named(functions, name)
    if function is not None:
        return _entry_point(function, None)
    for cls in classes:
        method = _last_named(cls.body, name)
        if method is not None:
            return _entry_point(method, cls)
    return None


def _last_named(nodes: Sequence[ast.stmt], name: str) -> _FunctionNode | None:
    # The last definition wins, as it does when Python runs the code.
    found = None
    for node in nodes:
        if isinstance(node, _FunctionNode) and node.name == name:
            found = node
    return found


def _public_functions(nodes: Sequence[ast.stmt]) -> list[_FunctionNode]:
    by_name: dict[str, _FunctionNode] = {}
    for node in nodes:
        if isinstance(node, _FunctionNode) and not node.name.startswith("_"):
            by_name.pop(node.name, None)  # a redefinition moves to its new place
            by_name[node.name] = node
    return list(by_name.values())


def _uncalled(candidates: list[_FunctionNode], *, via_self: bool) -> list[_FunctionNode]:
    """The candidates no *other* candidate refers to (helpers are referred to).

    Falls back to all candidates when every one is referred to (mutual recursion).
    """
    referenced: set[str] = set()
    for function in candidates:
        for node in ast.walk(function):
            if via_self and isinstance(node, ast.Attribute):
                target = node.attr
            elif not via_self and isinstance(node, ast.Name):
                target = node.id
            else:
                continue
            if target != function.name:
                referenced.add(target)
    chosen = [f for f in candidates if f.name not in referenced]
    return chosen or candidates


def _entry_point(function: _FunctionNode, cls: ast.ClassDef | None) -> EntryPoint:
    arguments = function.args
    arity = len(arguments.posonlyargs) + len(arguments.args)
    if cls is not None and arity and not _is_static(function):
        arity -= 1  # self or cls
    return EntryPoint(
        name=function.name, class_name=cls.name if cls is not None else None, arity=arity
    )


def _is_static(function: _FunctionNode) -> bool:
    return any(
        isinstance(decorator, ast.Name) and decorator.id == "staticmethod"
        for decorator in function.decorator_list
    )


def _parse_forgivingly(code: str) -> ast.Module | None:
    # Deeply nested code makes the parser raise MemoryError or RecursionError; for this
    # module such code is as unreadable as a syntax error.
    unreadable = (SyntaxError, ValueError, MemoryError, RecursionError)
    try:
        return ast.parse(code)
    except unreadable:
        pass
    try:
        return ast.parse(_fill_empty_bodies(code))
    except unreadable:
        return None


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _fill_empty_bodies(code: str) -> str:
    """Add ``pass`` under every block header whose body is missing.

    >>> _fill_empty_bodies("def f(x):\\n    ")
    'def f(x):\\n    pass\\n\\n'
    """
    lines = code.expandtabs(4).splitlines()
    repaired: list[str] = []
    for index, line in enumerate(lines):
        repaired.append(line if line.strip() else "")
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.endswith(":"):
            continue
        following = next((later for later in lines[index + 1 :] if later.strip()), None)
        if following is None or _indent_of(following) <= _indent_of(line):
            repaired.append(" " * (_indent_of(line) + 4) + "pass")
    return "\n".join(repaired) + "\n"
