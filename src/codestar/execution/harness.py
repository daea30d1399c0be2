"""What runs inside a sandboxed child: execute one program on a run of tests.

The worker forks a child per program (and again after any test that did not end
cleanly); the child compiles the program once and runs its tests one after another:

* stdin programs run as ``python3 prog.py < input`` would: each test gets a fresh module
  that *is* ``sys.modules["__main__"]`` (so `pickle` and `multiprocessing` find the
  program's own classes and functions), a real file on fd 0 (so ``input()``,
  ``sys.stdin.buffer``, ``open(0)`` and ``for line in sys.stdin`` all work) and a real
  file on fd 1; a program that leaves a thread running ends its child after the test,
  so the thread cannot print into the next test's output;
* functional programs are executed once; each test calls the entry point (a fresh
  ``Solution()`` per test) with the JSON arguments and writes the JSON return value.

Nothing touches the file system: fd 0 is a memfd holding the input; a stdin program's
fd 1 is a memfd the child hands to the worker over the status socket *before* the test
starts (the first with a start message, each next one with the status of the test
before), so the worker can read the output even if the program dies mid-test
(``print(x); os._exit(0)``). A functional result travels inside the status message (or,
when large, in a memfd sent with it). After each test the child sends one status
message. It exits after the last test, and right after any test that raised, so that
the next test starts from a clean process. It never grades: the worker does,
with the expected outputs the child never sees.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import fcntl
import functools
import inspect
import json
import os
import resource
import socket
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

PROGRAM_FILE = "prog.py"
FUNCTIONAL_MODULE = "solution"
#: LeetCode-style judges allow deep recursion; `python3 prog.py` keeps the default.
FUNCTIONAL_RECURSION_LIMIT = 50_000
#: Functional results up to this size travel inside the status message.
INLINE_RESULT_CHARS = 32 * 1024


_MISSING = object()


class _Channel:
    """The child's end of the status socket (a SOCK_SEQPACKET pair: one message each)."""

    def __init__(self, fd: int) -> None:
        self.socket = socket.socket(fileno=fd)

    def start(self, index: int, output_fd: int) -> None:
        """Hand the worker the memfd that will hold test ``index``'s output."""
        socket.send_fds(self.socket, [json.dumps({"i": index, "start": 1}).encode()], [output_fd])

    def report(self, message: dict[str, Any], fd: int | None = None) -> None:
        """A test's status; ``fd`` rides along (the next test's output memfd, or a
        functional result too large to inline)."""
        data = json.dumps(message).encode()
        if fd is None:
            self.socket.sendall(data)
        else:
            socket.send_fds(self.socket, [data], [fd])


def _above_stdio(fd: int) -> int:
    """``fd`` moved to 3 or above (the program may have closed 0, 1 or 2)."""
    if fd > 2:
        return fd
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 3)
    os.close(fd)
    return moved


def new_memfd(name: str, data: bytes = b"") -> int:
    """A memory file holding ``data``, positioned at its start, on a descriptor above 2."""
    fd = _above_stdio(os.memfd_create(name, 0))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _error_line(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return lines[-1].strip() if lines else type(error).__name__


def _classify(error: BaseException) -> tuple[str, str]:
    """Status and message for an exception that ended a test."""
    if isinstance(error, SystemExit):
        code = error.code
        if code is None or code == 0:
            return "ok", ""
        return "error", f"SystemExit: {code}"
    if isinstance(error, MemoryError):
        return "memory", "MemoryError"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return "output", "output limit exceeded"
    return "error", _error_line(error)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    raise TypeError(f"return value of type {type(value).__name__} is not JSON-serializable")


def _place(fd: int, target: int) -> None:
    """Make ``fd`` the descriptor ``target`` (the program may have closed ``target``)."""
    if fd != target:
        os.dup2(fd, target)
        os.close(fd)


def _open_stdio(data: bytes, output_fd: int | None) -> None:
    """Fresh fds 0 and 1 for a test, and fresh text streams on them.

    fd 0 holds ``data``; fd 1 is ``output_fd`` (a memfd the worker also holds) or, when
    None, /dev/null. fd 2 is /dev/null throughout.
    """
    _place(new_memfd("stdin", data), 0)
    if output_fd is None:
        _place(_above_stdio(os.open(os.devnull, os.O_WRONLY)), 1)
    else:
        os.dup2(output_fd, 1)
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if sys.stderr is None or sys.stderr.closed:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def _finish_stdio() -> None:
    """Flush whatever the program left as stdout, however it replaced it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except ValueError:  # closed by the program
            pass


def _join_threads(before: set[threading.Thread]) -> None:
    """Wait for the program's non-daemon threads, as the interpreter does at exit."""
    for thread in threading.enumerate():
        if thread not in before and not thread.daemon and thread.is_alive():
            thread.join()


def _set_cpu_budget(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _takes_self(function: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False
    return bool(parameters) and parameters[0] == "self"


def _resolve_entry(
    namespace: dict[str, Any], entry: str, prelude: dict[str, Any]
) -> Callable[[], Callable[..., Any]]:
    """A factory that returns the callable to test (a bound method of a fresh instance).

    Only what the program defined counts: ``add`` must not resolve to the prelude's
    ``operator.add``.
    """
    namespace = {k: v for k, v in namespace.items() if prelude.get(k, _MISSING) is not v}
    solution = namespace.get("Solution")
    if isinstance(solution, type) and hasattr(solution, entry):
        return lambda: getattr(solution(), entry)
    function = namespace.get(entry)
    if callable(function) and not isinstance(function, type):
        if _takes_self(function):
            # A model wrote the `Solution` method as a top-level function: call it as
            # the method it was meant to be.
            return lambda: functools.partial(function, None)
        return lambda: function
    for value in list(namespace.values()):
        if (
            isinstance(value, type)
            and value.__module__ == FUNCTIONAL_MODULE
            and hasattr(value, entry)
        ):
            owner = value
            return lambda: getattr(owner(), entry)
    raise NameError(
        f"entry point {entry!r} is not defined: expected a class Solution with a method "
        f"{entry!r} or a function {entry!r}"
    )


def run_tests(
    *,
    source: str,
    kind: str,
    entry: str | None,
    inputs: Sequence[bytes],
    indices: Sequence[int],
    status_fd: int,
    prelude: dict[str, Any],
    cpu_seconds: float,
) -> NoReturn:
    """Run the program on ``inputs[i]`` for each i in ``indices``; never returns."""
    channel = _Channel(status_fd)
    try:
        code = compile(source, os.path.abspath(PROGRAM_FILE), "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        channel.report({"i": indices[0], "s": "load", "e": _error_line(error), "t": 0.0})
        os._exit(0)
    if kind == "functional":
        _run_functional(code, entry or "", inputs, indices, channel, prelude, cpu_seconds)
    else:
        _run_stdin(code, inputs, indices, channel, cpu_seconds)
    _finish_stdio()
    os._exit(0)


def _fresh_namespace(name: str) -> dict[str, Any]:
    """The globals of a new module ``name``, registered in `sys.modules` under that name."""
    module = types.ModuleType(name)
    namespace = module.__dict__  # the prelude's names are builtins (`prelude.install`)
    namespace["__builtins__"] = builtins
    namespace["__file__"] = os.path.abspath(PROGRAM_FILE)
    sys.modules[name] = module
    return namespace


def _run_stdin(
    code: Any,
    inputs: Sequence[bytes],
    indices: Sequence[int],
    channel: _Channel,
    cpu_seconds: float,
) -> None:
    # Each test's output memfd reaches the worker before the test runs: the first one in
    # a start message, the next ones with the status of the test before.
    output_fd = new_memfd("stdout")
    channel.start(indices[0], output_fd)
    for position, index in enumerate(indices):
        _open_stdio(inputs[index], output_fd)
        os.close(output_fd)
        _set_cpu_budget(cpu_seconds)
        namespace = _fresh_namespace("__main__")
        before = set(threading.enumerate())
        status, message = "ok", ""
        start = time.perf_counter()
        try:
            exec(code, namespace)
            _join_threads(before)
            _finish_stdio()
        except BaseException as error:  # the program's failure is data
            status, message = _classify(error)
            try:
                _finish_stdio()
            except BaseException as flush_error:
                if status == "ok":
                    status, message = _classify(flush_error)
        elapsed = time.perf_counter() - start
        report: dict[str, Any] = {"i": index, "s": status, "e": message, "t": elapsed}
        running = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if status != "ok" or running:
            report["x"] = 1  # this child ends here; the next test gets a fresh one
            channel.report(report)
            os._exit(0)
        if position + 1 == len(indices):
            channel.report(report)
            return
        output_fd = new_memfd("stdout")
        channel.report(report, output_fd)


def _run_functional(
    code: Any,
    entry: str,
    inputs: Sequence[bytes],
    indices: Sequence[int],
    channel: _Channel,
    prelude: dict[str, Any],
    cpu_seconds: float,
) -> None:
    sys.setrecursionlimit(FUNCTIONAL_RECURSION_LIMIT)
    _open_stdio(b"", None)
    namespace = _fresh_namespace(FUNCTIONAL_MODULE)
    try:
        exec(code, namespace)
        factory = _resolve_entry(namespace, entry, prelude)
    except BaseException as error:
        status, message = _classify(error)
        if status == "ok":  # a SystemExit(0) while loading is still no entry point
            message = "SystemExit while loading the program"
        channel.report({"i": indices[0], "s": "load", "e": message, "t": 0.0})
        os._exit(0)
    for index in indices:
        _set_cpu_budget(cpu_seconds)
        status, message, result_fd = "ok", "", None
        report: dict[str, Any] = {"i": index}
        start = time.perf_counter()
        try:
            lines = inputs[index].decode("utf-8", "surrogatepass").split("\n")
            arguments = [json.loads(line) for line in lines if line.strip()]
            result = factory()(*arguments)
            elapsed = time.perf_counter() - start
            try:
                text = json.dumps(result, default=_jsonable, sort_keys=True)
            except TypeError:
                text = json.dumps(result, default=_jsonable)
            if len(text) <= INLINE_RESULT_CHARS:
                report["r"] = text
            else:
                result_fd = new_memfd("return", text.encode("utf-8", "surrogatepass"))
            _finish_stdio()
        except BaseException as error:
            elapsed = time.perf_counter() - start
            status, message = _classify(error)
            if status == "ok":
                status, message = "error", "SystemExit raised instead of returning"
        report.update(s=status, e=message, t=elapsed)
        channel.report(report, result_fd)
        if result_fd is not None:
            os.close(result_fd)
        if status != "ok":
            os._exit(0)
