"""Grading integrity: a program can never see the answers, stall the grader or crash a run.

Each class of attack from the red-team review (issue 8) through the public API, on the
shared engine; the `strict` fixture then checks that no sandboxed process survived and
that a correct program still passes. Every result must also be strict JSON, as the CLI
prints it. Checks that need a layer (uid separation, the memory cgroup, seccomp) are
skipped where the machine does not provide it.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
import uuid

import pytest

from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Program, ProgramResult, Verdict
from codestar.problems.model import TestCase

LIMITS = Limits(timeout_s=2.0, memory_mb=512)

#: Prints every token that starts with its argument's prefix and that it can find in its
#: own process: frames, the garbage collector's objects, and all its anonymous memory
#: (through /proc/self/mem, or ctypes where the sandbox makes that file unreadable).
SCANNER = r"""
import ctypes, gc, re, sys
prefix = sys.stdin.readline().strip()
found = set()
pattern = re.compile(re.escape(prefix).encode() + rb"[0-9a-f-]{8,}")
def look(value):
    if isinstance(value, bytes | bytearray | memoryview):
        found.update(m.decode() for m in pattern.findall(bytes(value)))
    elif isinstance(value, str):
        found.update(m.decode() for m in pattern.findall(value.encode("utf-8", "replace")))
frame = sys._getframe()
while frame is not None:
    for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
        look(value)
    frame = frame.f_back
for value in gc.get_objects():
    look(value)
    if isinstance(value, dict | list | tuple):
        for item in list(value.values() if isinstance(value, dict) else value):
            look(item)
try:
    memory = open("/proc/self/mem", "rb", 0)
except OSError:
    memory = None
with open("/proc/self/maps") as maps:
    for line in maps:
        span, perms, _, _, inode = line.split()[:5]
        # anonymous memory (heap, stack, arenas) is where objects live; mapped files
        # can raise SIGBUS past their end, and [vvar] and [vsyscall] on read
        if not perms.startswith("r") or inode != "0" or line.rstrip().endswith(("]", "]")):
            if not line.rstrip().endswith(("[heap]", "[stack]")):
                continue
        start, end = (int(x, 16) for x in span.split("-"))
        try:
            if memory is None:
                look(ctypes.string_at(start, end - start))
            else:
                memory.seek(start)
                look(memory.read(end - start))
        except (OSError, OverflowError, ValueError):
            pass
print("\n".join(sorted(found)))
"""


def strict_json(result: ProgramResult) -> None:
    """The result serializes as strict JSON (no NaN, no lone surrogates)."""
    text = json.dumps(result.to_dict(), allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")


def run(
    engine: Engine, source: str, tests: list[TestCase], limits: Limits = LIMITS
) -> tuple[ProgramResult, float]:
    started = time.monotonic()
    result = engine.run(Program(textwrap.dedent(source)), tests, limits=limits)
    strict_json(result)
    return result, time.monotonic() - started


# -- 1. no test data in the untrusted process


def test_a_program_finds_no_expected_output_in_its_own_process(strict: Engine) -> None:
    prefix = f"ANSWER-{uuid.uuid4().hex[:6]}-"
    earlier = [TestCase("", f"{prefix}{uuid.uuid4()}") for _ in range(5)]
    strict.run_many([(Program("print(1)"), earlier)] * strict.workers)  # every worker
    hidden = [TestCase(f"{prefix}\n", f"{prefix}{uuid.uuid4()}") for _ in range(5)]
    result, _ = run(strict, SCANNER, hidden, Limits(timeout_s=20.0, memory_mb=1024))
    assert [o.verdict for o in result.outcomes] == [Verdict.WRONG_ANSWER] * 5, result
    printed = "".join(o.output for o in result.outcomes)
    for test in earlier + hidden:
        assert test.expected not in printed


def test_the_scanner_does_find_what_is_in_its_memory(strict: Engine) -> None:
    """The control for the test above: a token in the program's own input is found."""
    token = f"INPUT-{uuid.uuid4().hex[:6]}-{uuid.uuid4()}"
    prefix = token[: len("INPUT-") + 7]
    source = SCANNER.replace("prefix = sys.stdin.readline().strip()", f"prefix = {prefix!r}")
    result, _ = run(strict, source, [TestCase(f"{token}\n")], Limits(timeout_s=20.0))
    assert result.outcomes[0].verdict is Verdict.COMPLETED, result.outcomes[0].error
    assert token in result.outcomes[0].output


# -- 2. nothing the program does can hang the grader

STALLS = {
    "closes-its-status-channel-and-loops": "import os\nos.close(3)\nwhile True:\n    pass\n",
    "closes-every-descriptor-and-sleeps": "import os, time\nos.closerange(0, 99)\ntime.sleep(60)",
    "grandchild-holds-the-channel": """
        import os, time
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        print("ok", flush=True)
        os._exit(0)
    """,
    "sends-an-empty-frame-and-loops": """
        import socket
        socket.socket(fileno=3).send(b"")
        while True:
            pass
    """,
    "floods-the-channel": """
        import os
        while True:
            try:
                os.write(3, b"x" * 60000)
            except OSError:
                pass
    """,
}


@pytest.mark.parametrize("name", sorted(STALLS))
def test_abusing_the_status_channel_ends_within_the_time_limit(strict: Engine, name: str) -> None:
    tests = [TestCase("", "ok"), TestCase("", "ok")]
    result, took = run(strict, STALLS[name], tests, Limits(timeout_s=1.0, memory_mb=512))
    allowed = {Verdict.TIMEOUT, Verdict.RUNTIME_ERROR, Verdict.PASSED, Verdict.WRONG_ANSWER}
    assert {o.verdict for o in result.outcomes} <= allowed, result
    assert took < 2 * (1.0 + 1.0) + 3, f"{name} held the grader for {took:.1f} s"


def test_a_grandchild_holding_the_channel_does_not_change_the_verdict(strict: Engine) -> None:
    result, _ = run(strict, STALLS["grandchild-holds-the-channel"], [TestCase("", "ok")])
    assert result.outcomes[0].verdict is Verdict.PASSED, result.outcomes[0]


# -- 4. a forged status message is the program's runtime error, never the engine's

FORGED = {
    "deep-nesting": b"[" * 200_000,
    "deep-nesting-in-an-object": b'{"i": 0, "s": "ok", "e": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "nan-time": b'{"i": 0, "s": "ok", "e": "", "t": NaN}',
    "infinite-time": b'{"i": 0, "s": "ok", "e": "", "t": Infinity}',
    "huge-float": b'{"i": 0, "s": "ok", "e": "", "t": 1e999}',
    "huge-integer": b'{"i": 0, "s": "ok", "e": "", "t": 1' + b"0" * 5000 + b"}",
    "huge-index": b'{"i": 1' + b"0" * 400 + b', "s": "ok", "e": "", "t": 0}',
    "not-utf8": b'{"i": 0, "s": "error", "e": "\xff\xfe", "t": 0}',
    "lone-surrogate-error": b'{"i": 0, "s": "error", "e": "\\ud800 bad", "t": 0}',
    "unknown-status": b'{"i": 0, "s": "passed", "e": "", "t": 0}',
    "not-an-object": b'"ok"',
    "error-is-a-list": b'{"i": 0, "s": "error", "e": [1, 2], "t": 0}',
    "start-without-a-descriptor": b'{"i": 0, "start": 1}',
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_a_forged_status_message_is_a_runtime_error(strict: Engine, name: str) -> None:
    source = f"""
        import os, socket, time
        socket.socket(fileno=3).send({FORGED[name]!r})
        time.sleep(0.2)
        print("ok")
    """
    result, took = run(strict, source, [TestCase("", "ok"), TestCase("", "ok")])
    for outcome in result.outcomes:
        # a forged "ok" of test 0 before printing is graded on what was printed by then
        assert outcome.verdict in {Verdict.RUNTIME_ERROR, Verdict.WRONG_ANSWER, Verdict.PASSED}
        assert outcome.error is None or "\ud800" not in outcome.error
    assert result.outcomes[0].verdict is not Verdict.PASSED
    assert took < 6


def test_a_forged_ok_cannot_claim_a_pass(strict: Engine) -> None:
    source = """
        import socket
        channel = socket.socket(fileno=3)
        for index in range(3):
            channel.send(b'{"i": %d, "s": "ok", "e": "", "t": 0}' % index)
        import time; time.sleep(0.2)
    """
    result, _ = run(strict, source, [TestCase("", "secret")] * 3)
    assert result.passed_count == 0, result


# -- state a program can fill is reset between jobs


def test_a_full_tmp_does_not_break_the_next_job(strict: Engine) -> None:
    if "per-job-tmpfs" not in strict.isolation.active:
        pytest.skip("no per-job tmpfs without a mount namespace")
    fill = """
        import os
        for directory in ("/tmp", "/dev/shm", "/var/tmp", "."):
            try:
                with open(os.path.join(directory, "filler"), "wb") as handle:
                    while True:
                        handle.write(b"x" * (1 << 20))
            except OSError:
                pass
        print("full")
    """
    check = """
        import os
        left = [d for d in ("/tmp", "/dev/shm", "/var/tmp") if os.path.exists(d + "/filler")]
        with open("/tmp/probe", "wb") as handle:
            handle.write(b"y" * (1 << 20))
        print("clean" if not left else left)
    """
    big = Limits(timeout_s=10.0, memory_mb=256, output_bytes=1 << 20)
    for _ in range(strict.workers):  # whichever worker runs the check filled its own
        run(strict, fill, [TestCase("")], big)
    for _ in range(strict.workers):
        result, _ = run(strict, check, [TestCase("", "clean")])
        assert result.passed, result.outcomes[0]


# -- 5. no writable host path


def test_no_world_writable_host_directory_is_writable(strict: Engine) -> None:
    if "read-only-host" not in strict.isolation.active:
        pytest.skip("the host is read-only only in a mount namespace")
    marker = f"codestar-host-{uuid.uuid4().hex}"
    writable = []
    for parent in ("/", *sorted(os.listdir("/"))):
        top = os.path.join("/", parent)
        if top in ("/proc", "/sys") or not os.path.isdir(top):
            continue
        writable.append(top)
    source = f"""
        import os
        for top in {writable!r}:
            for directory, subdirs, _ in os.walk(top):
                if directory.count("/") > 3:
                    subdirs.clear()
                try:
                    with open(os.path.join(directory, {marker!r}), "w") as handle:
                        handle.write("x")
                except OSError:
                    pass
        print("done")
    """
    result, _ = run(strict, source, [TestCase("")], Limits(timeout_s=20.0))
    assert result.outcomes[0].verdict is Verdict.COMPLETED, result.outcomes[0].error
    for top in writable:
        for directory, subdirs, files in os.walk(top):
            if directory.count("/") > 3 or directory.startswith(("/proc", "/sys")):
                subdirs.clear()
            assert marker not in files, f"{directory} was writable from the sandbox"


# -- 6. memory limits hold for memfds and shared memory


def test_memfd_pages_count_against_the_memory_limit(strict: Engine) -> None:
    if not any(layer.startswith("memory-cgroup") for layer in strict.isolation.active):
        pytest.skip("no memory cgroup on this machine (memfds are bounded by count and size)")
    source = """
        import os
        fds = []
        for _ in range(64):
            fd = os.memfd_create("pin")
            os.write(fd, b"x" * (32 << 20))
            fds.append(fd)
        print(len(fds))
    """
    result, _ = run(strict, source, [TestCase("")], Limits(timeout_s=20.0, memory_mb=256))
    outcome = result.outcomes[0]
    assert outcome.verdict is Verdict.MEMORY_LIMIT, outcome


# -- 7. no namespace through clone or clone3


def test_clone_with_namespace_flags_is_denied(strict: Engine) -> None:
    if "seccomp" not in strict.isolation.active:
        pytest.skip("no seccomp")
    source = """
        import ctypes, errno, os, subprocess, threading
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        results = []
        for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                     0x20000000, 0x40000000):
            pid = libc.syscall(56, ctypes.c_ulong(flag | 17), 0, 0, 0, 0)
            if pid == 0:
                os._exit(0)
            results.append(errno.errorcode.get(ctypes.get_errno(), "?") if pid < 0 else "ran")
        results.append(libc.syscall(435, 0, 0) < 0 and errno.errorcode[ctypes.get_errno()])
        thread = threading.Thread(target=results.append, args=("thread",))
        thread.start()
        thread.join()
        results.append(subprocess.run(["/bin/echo", "spawned"], capture_output=True,
                                      text=True).stdout.strip())
        print(" ".join(map(str, results)))
    """
    if os.uname().machine != "x86_64":
        pytest.skip("the raw syscall numbers in this program are x86-64's")
    result, _ = run(strict, source, [TestCase("")])
    outcome = result.outcomes[0]
    assert outcome.verdict is Verdict.COMPLETED, outcome.error
    assert outcome.output.split() == ["EPERM"] * 7 + ["ENOSYS", "thread", "spawned"]


# -- 8. correct programs pass as under python3 prog.py


def test_a_thread_left_running_does_not_print_into_the_next_test(strict: Engine) -> None:
    source = """
        import sys, threading, time
        data = sys.stdin.read().strip()
        def late():
            time.sleep(0.2)
            print("late from", data, flush=True)
        if data == "a":
            threading.Thread(target=late, daemon=True).start()
        print(data)
        if data == "b":
            time.sleep(0.5)
    """
    tests = [TestCase("a", "a"), TestCase("b", "b"), TestCase("a", "a"), TestCase("b", "b")]
    result, _ = run(strict, source, tests)
    assert result.passed, [o.output for o in result.outcomes]


def test_main_is_the_programs_module_for_pickle_and_multiprocessing(strict: Engine) -> None:
    source = """
        import multiprocessing, pickle, sys

        class Point:
            def __init__(self, x):
                self.x = x

        def square(value):
            return value * value

        if __name__ == "__main__":
            assert sys.modules["__main__"].Point is Point
            point = pickle.loads(pickle.dumps(Point(int(input()))))
            with multiprocessing.Pool(2) as pool:
                print(point.x, sum(pool.map(square, range(10))))
    """
    result, _ = run(strict, source, [TestCase("7\n", "7 285")] * 2, Limits(timeout_s=10.0))
    assert result.passed, result.outcomes[0]
