"""The names every program finds predefined, as on LiveCodeBench and LeetCode.

Competitive-programming and LeetCode solutions often use ``List``, ``defaultdict``,
``heapq`` or ``gcd`` without importing them, because the judges that wrote the benchmarks
provide them. codestar provides the same set, built once per worker, without ever
shadowing a builtin (``pow`` stays the three-argument builtin, ``open`` stays ``open``).

The zygote adds the set to its own `builtins` (`install`), once, before it forks any
child: a program finds the names as it finds ``len``, its globals hold only what it
defined, and no test pays for copying a few hundred names into a fresh namespace (nor
its child for the copy-on-write faults that touching them costs). A program's own
definition or import of one of the names shadows it, as it would shadow a builtin.

It does not give programs anything beyond the standard library.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

#: Modules available by name, as if imported.
MODULES = (
    "array", "bisect", "collections", "copy", "datetime", "decimal", "fractions",
    "functools", "heapq", "io", "itertools", "json", "math", "operator", "random", "re",
    "statistics", "string", "sys", "time", "typing", "os",
)  # fmt: skip

#: Modules whose public names are available directly (``from X import *``).
STAR_MODULES = (
    "typing", "collections", "heapq", "bisect", "itertools", "functools", "math",
    "operator", "string", "copy",
)  # fmt: skip


def build_prelude() -> dict[str, Any]:
    """The namespace programs start from (without ``__name__`` and ``__builtins__``)."""
    namespace: dict[str, Any] = {}
    builtin_names = set(dir(builtins))
    for module_name in STAR_MODULES:
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None) or [
            name for name in dir(module) if not name.startswith("_")
        ]
        for name in public:
            if name in builtin_names:
                continue
            value = getattr(module, name, None)
            if value is not None:
                namespace.setdefault(name, value)
    for module_name in MODULES:
        namespace[module_name] = importlib.import_module(module_name)
    return namespace


def install(namespace: dict[str, Any]) -> None:
    """Make the names of ``namespace`` builtins of this process (never replacing one)."""
    table = vars(builtins)
    for name, value in namespace.items():
        table.setdefault(name, value)
