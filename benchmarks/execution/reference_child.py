"""The reference judge's child: run one program on one test in a fresh interpreter.

Started as ``python3 reference_child.py MODE PROGRAM TIMING RESULT ENTRY MEMORY_MB CPU_S
OUTPUT_BYTES`` with the test input on stdin and stdout going to a file. It sets the
limits on itself (address space, CPU time, file size: a stdout past the output limit
fails with EFBIG), provides the usual judge prelude (``List``, ``defaultdict``, ``heapq``,
``gcd``... without shadowing any builtin), and then:

* ``stdin`` mode runs the program as ``python3 prog.py < input`` would: compiled, then
  executed as the module ``__main__`` on the real fd 0 and fd 1;
* ``functional`` mode imports the program as a module, calls the entry point (a method
  of a fresh ``Solution()`` when the program defines that class, else a function) with
  the JSON arguments of the input (one per line) and writes the JSON return value to
  RESULT. Its recursion limit is raised to 50,000, as LeetCode-style judges allow.

The time the program itself ran (from after compiling to the end of the call, or to
interpreter exit, after non-daemon threads are joined) goes to TIMING, so the benchmark
can tell the programs' own compute time from a harness's overhead. It imports nothing
from codestar or the benchmark: it must stay a plain, obviously faithful runner.
"""

from __future__ import annotations

import atexit
import builtins
import importlib
import json
import resource
import sys
import time
import types
from typing import Any

_MODULES = (
    "array", "bisect", "collections", "copy", "datetime", "decimal", "fractions",
    "functools", "heapq", "io", "itertools", "json", "math", "operator", "random", "re",
    "statistics", "string", "sys", "time", "typing", "os",
)  # fmt: skip
_STAR_MODULES = (
    "typing", "collections", "heapq", "bisect", "itertools", "functools", "math",
    "operator", "string", "copy",
)  # fmt: skip

_clock: dict[str, float] = {}


def _prelude() -> dict[str, Any]:
    names: dict[str, Any] = {}
    for module_name in _STAR_MODULES:
        module = importlib.import_module(module_name)
        public = getattr(module, "__all__", None) or [
            n for n in dir(module) if not n.startswith("_")
        ]
        for name in public:
            if not hasattr(builtins, name) and hasattr(module, name):
                names.setdefault(name, getattr(module, name))
    for module_name in _MODULES:
        names[module_name] = importlib.import_module(module_name)
    return names


def _set_limits(memory_mb: int, cpu_s: float, output_bytes: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, int(cpu_s + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_bytes, output_bytes))


def _write_timing(path: str) -> None:
    end = _clock.get("end", time.perf_counter())
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(repr(end - _clock["start"]))


def _call_entry_point(program_path: str, entry_point: str, prelude: dict[str, Any]) -> Any:
    arguments = [json.loads(line) for line in sys.stdin.read().split("\n") if line.strip()]
    sys.setrecursionlimit(50_000)
    with open(program_path, encoding="utf-8") as handle:
        code = compile(handle.read(), program_path, "exec")
    namespace: dict[str, Any] = {**prelude, "__name__": "solution", "__file__": program_path}
    _clock["start"] = time.perf_counter()
    exec(code, namespace)
    solution_class = namespace.get("Solution")
    if isinstance(solution_class, type) and hasattr(solution_class, entry_point):
        target = getattr(solution_class(), entry_point)
    else:
        target = namespace[entry_point]
    return target(*arguments)


def _run_as_main(program_path: str, prelude: dict[str, Any]) -> None:
    # What `python3 prog.py` does, minus compiling, which the clock should not count:
    # the program runs as the module ``__main__`` (runpy's own way of doing this would
    # compile inside the timed region).
    with open(program_path, encoding="utf-8") as handle:
        code = compile(handle.read(), program_path, "exec")
    module = types.ModuleType("__main__")
    module.__dict__.update(prelude)
    module.__dict__.update(__file__=program_path, __builtins__=builtins)
    sys.modules["__main__"] = module
    sys.argv = [program_path]
    _clock["start"] = time.perf_counter()
    exec(code, module.__dict__)


def main(argv: list[str]) -> None:
    mode, program_path, timing_path, result_path, entry_point = argv[1:6]
    memory_mb, cpu_s, output_bytes = int(argv[6]), float(argv[7]), int(argv[8])
    prelude = _prelude()
    _set_limits(memory_mb, cpu_s, output_bytes)
    atexit.register(_write_timing, timing_path)
    if mode == "stdin":
        _run_as_main(program_path, prelude)
        return
    value = _call_entry_point(program_path, entry_point, prelude)
    _clock["end"] = time.perf_counter()
    text = json.dumps(value)
    with open(result_path, "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":
    main(sys.argv)
