"""Hostile programs: each gets the right verdict quickly, nothing escapes, nothing survives.

These run real programs in the real sandbox. Checks that depend on a layer (uid
separation, namespaces, seccomp) are skipped where the machine does not provide it; the
isolation report says which layers are active.
"""

from __future__ import annotations

import contextlib
import os
import socket
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from codestar.execution.engine import Engine
from codestar.execution.types import Limits, Program, Verdict
from codestar.problems.model import TestCase

REPO = Path(__file__).resolve().parents[2]


def run_one(
    engine: Engine, source: str, stdin: str = "", expected: str | None = None, **limits: float
) -> tuple[Verdict, str, str | None, float]:
    started = time.monotonic()
    result = engine.run(
        Program(textwrap.dedent(source)),
        [TestCase(stdin, expected)],
        limits=Limits(**{"timeout_s": 2.0, "memory_mb": 512, **limits}),  # type: ignore[arg-type]
    )
    outcome = result.outcomes[0]
    return outcome.verdict, outcome.output, outcome.error, time.monotonic() - started


def test_infinite_loop_times_out(strict: Engine) -> None:
    verdict, _, _, took = run_one(strict, "while True:\n    pass\n", timeout_s=0.5)
    assert verdict is Verdict.TIMEOUT and took < 3


def test_loop_that_ignores_signals_and_catches_everything_times_out(strict: Engine) -> None:
    source = """
        import signal
        for name in ("SIGTERM", "SIGINT", "SIGALRM", "SIGXCPU", "SIGHUP", "SIGUSR1"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        signal.alarm(0)
        while True:
            try:
                while True:
                    signal.alarm(0)
            except BaseException:
                pass
    """
    verdict, _, _, took = run_one(strict, source, timeout_s=0.5)
    assert verdict is Verdict.TIMEOUT and took < 3


def test_fractional_timeout_is_honoured(strict: Engine) -> None:
    verdict, _, _, took = run_one(strict, "import time\ntime.sleep(5)", timeout_s=0.3)
    assert verdict is Verdict.TIMEOUT and took < 1.5


def test_memory_bomb(strict: Engine) -> None:
    source = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 ** 7))\n"
    verdict, _, _, took = run_one(strict, source)
    assert verdict is Verdict.MEMORY_LIMIT and took < 5


def test_one_huge_allocation(strict: Engine) -> None:
    verdict, _, error, _ = run_one(strict, "x = bytearray(10 ** 10)")
    assert verdict is Verdict.MEMORY_LIMIT, error


def test_bounded_fork_bomb(strict: Engine) -> None:
    source = """
        import os, time
        children = 0
        for _ in range(300):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children += 1
        print(children)
    """
    verdict, output, error, took = run_one(strict, source, processes=16)
    assert verdict is Verdict.COMPLETED, error
    if "uid-separation" in strict.isolation.active:
        assert int(output) < 16
    assert took < 5


def test_ctypes_fork_leaves_nothing(strict: Engine) -> None:
    source = """
        import ctypes, time
        libc = ctypes.CDLL(None)
        if libc.fork() == 0:
            time.sleep(120)
        print("parent")
    """
    verdict, output, _, _ = run_one(strict, source)
    assert verdict is Verdict.COMPLETED and output.startswith("parent")


@pytest.mark.parametrize("setsid", [False, True])
def test_posix_spawn_of_a_long_sleeper_is_killed(strict: Engine, setsid: bool) -> None:
    source = f"""
        import os
        os.posix_spawn("/bin/sleep", ["sleep", "987"], {{}}, setsid={setsid})
        print("spawned")
    """
    verdict, output, error, _ = run_one(strict, source)
    assert verdict is Verdict.COMPLETED, error
    assert output == "spawned\n"


def test_writes_outside_the_scratch_directory_do_not_reach_the_host(strict: Engine) -> None:
    marker = f"codestar-escape-{uuid.uuid4().hex}"
    targets = [
        f"/tmp/{marker}",
        f"/var/tmp/{marker}",
        f"/dev/shm/{marker}",
        str(REPO / marker),
        f"{os.path.expanduser('~')}/{marker}",
        f"/{marker}",
    ]
    source = f"""
        import io, os
        written = 0
        for path in {targets!r}:
            for how in ("open", "io.open", "os.open"):
                target = path + "-" + how
                try:
                    if how == "open":
                        with open(target, "w") as handle:
                            handle.write("x")
                    elif how == "io.open":
                        with io.open(target, "w") as handle:
                            handle.write("x")
                    else:
                        fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o644)
                        os.write(fd, b"x")
                        os.close(fd)
                    written += 1
                except OSError:
                    pass
        with open("inside.txt", "w") as handle:
            handle.write("scratch is writable")
        print(written)
    """
    verdict, _, error, _ = run_one(strict, source)
    assert verdict is Verdict.COMPLETED, error
    for target in targets:
        for how in ("open", "io.open", "os.open"):
            assert not os.path.exists(f"{target}-{how}"), f"{target}-{how} escaped"


def test_no_network_even_to_the_hosts_loopback(strict: Engine) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(3)
    port = listener.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            connections.append(listener.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    source = f"""
        import socket
        reached = []
        for family, address in ((socket.AF_INET, ("127.0.0.1", {port})),
                                (socket.AF_INET6, ("::1", {port}))):
            try:
                s = socket.socket(family, socket.SOCK_STREAM)
                s.settimeout(1)
                s.connect(address)
                reached.append(address)
            except OSError as error:
                pass
        try:
            socket.create_connection(("example.com", 80), timeout=1)
            reached.append("example.com")
        except OSError:
            pass
        print(len(reached))
    """
    verdict, output, error, _ = run_one(strict, source)
    thread.join()
    listener.close()
    assert verdict is Verdict.COMPLETED, error
    assert output.strip() == "0"
    assert connections == []


def test_secrets_in_the_callers_environment_are_invisible(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"sk-canary-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    source = """
        import os
        seen = [repr(dict(os.environ))]
        for name in os.listdir("/proc"):
            for part in ("environ", "cmdline"):
                try:
                    with open(f"/proc/{name}/{part}", "rb") as handle:
                        seen.append(handle.read().decode(errors="replace"))
                except OSError:
                    pass
        print("\\n".join(seen))
    """
    with Engine(workers=1) as fresh:
        result = fresh.run(
            Program(textwrap.dedent(source)), [TestCase("")], limits=Limits(captured_chars=10**7)
        )
        outcome = result.outcomes[0]
        assert outcome.verdict is Verdict.COMPLETED, outcome.error
        assert canary not in outcome.output
        assert "PATH" in outcome.output  # the program did see an environment


def test_writing_to_the_real_stdout_fd_stays_in_the_program_output(strict: Engine) -> None:
    source = """
        import os, sys
        os.write(1, b"fd-one ")
        os.write(2, b"fd-two ")
        with open("/proc/self/fd/1", "a") as handle:
            handle.write("proc-fd ")
        print("print")
    """
    verdict, output, error, _ = run_one(strict, source)
    assert verdict is Verdict.COMPLETED, error
    assert "fd-one" in output and "print" in output


@pytest.mark.parametrize("target", ["os.getppid()", "1", "-1"])
def test_killing_the_parent_does_not_hurt_the_engine(strict: Engine, target: str) -> None:
    source = f"""
        import os, signal
        try:
            os.kill({target}, signal.SIGKILL)
        except OSError as error:
            print(type(error).__name__)
        print("alive")
    """
    run_one(strict, source)  # any verdict; the fixture checks the engine still works


def test_os_exit_codes(strict: Engine) -> None:
    verdict, _, error, _ = run_one(strict, "import os\nos._exit(3)")
    assert verdict is Verdict.RUNTIME_ERROR and "status 3" in (error or "")
    verdict, output, _, _ = run_one(
        strict, "import os\nos.write(1, b'7')\nos._exit(0)", expected="7"
    )
    assert verdict is Verdict.PASSED and output == "7"


def test_deep_recursion(strict: Engine) -> None:
    verdict, _, error, _ = run_one(strict, "def f(n):\n    return f(n + 1)\nf(0)")
    assert verdict is Verdict.RUNTIME_ERROR and "RecursionError" in (error or "")


def test_stack_overflow_in_c(strict: Engine) -> None:
    source = "import sys\nsys.setrecursionlimit(10 ** 9)\ndef f(n):\n    return f(n + 1) + 1\nf(0)"
    verdict, _, _, took = run_one(strict, source)
    assert verdict in (Verdict.RUNTIME_ERROR, Verdict.MEMORY_LIMIT, Verdict.TIMEOUT)
    assert took < 10


def test_two_hundred_megabytes_of_output(strict: Engine) -> None:
    source = (
        "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(200):\n    sys.stdout.write(chunk)\n"
    )
    verdict, output, _, took = run_one(strict, source, timeout_s=5)
    assert verdict is Verdict.OUTPUT_LIMIT and took < 5
    assert len(output) == 0


def test_output_limit_is_configurable(strict: Engine) -> None:
    source = "print('y' * 5000)"
    verdict, _, _, _ = run_one(strict, source, output_bytes=1000)
    assert verdict is Verdict.OUTPUT_LIMIT
    verdict, output, _, _ = run_one(strict, source, output_bytes=10000)
    assert verdict is Verdict.COMPLETED and len(output) == 5001


def test_programs_cannot_see_the_hosts_closed_home(strict: Engine) -> None:
    home = Path(os.path.expanduser("~"))
    if home.stat().st_mode & 0o005 or "mount-namespace" not in strict.isolation.active:
        pytest.skip("the home directory is open to others, or there is no mount namespace")
    secret = home / f"codestar-secret-{uuid.uuid4().hex}"
    secret.write_text("top secret")
    try:
        source = f"""
            import os
            try:
                print(sorted(os.listdir({str(home)!r})))
            except OSError as error:
                print(type(error).__name__)
            try:
                print(open({str(secret)!r}).read())
            except OSError as error:
                print(type(error).__name__)
        """
        _, output, _, _ = run_one(strict, source)
        assert secret.name not in output and "top secret" not in output
    finally:
        secret.unlink()


def test_active_layers_on_linux_as_root(engine: Engine) -> None:
    if os.geteuid() != 0:
        pytest.skip("the full set of layers needs root")
    assert set(engine.isolation.active) >= {
        "network-namespace",
        "pid-namespace",
        "mount-namespace",
        "uid-separation",
        "seccomp",
        "rlimits",
        "clean-environment",
        "scratch-directory",
    }


def test_engine_stays_healthy_after_thousands_of_runs(engine: Engine) -> None:
    me = Path(f"/proc/{os.getpid()}")
    engine.run_many([(Program("print(1)"), [TestCase("")])] * engine.workers)  # all started
    fds_before = len(os.listdir(me / "fd"))
    programs = [Program(f"print({i} + int(input()))") for i in range(2000)]
    results = engine.run_many([(p, [TestCase("1\n", str(i + 1))]) for i, p in enumerate(programs)])
    assert all(r.passed for r in results)
    assert len(os.listdir(me / "fd")) <= fds_before + 2
    zombies = [
        line
        for line in os.popen("ps -eo stat=,uid=").read().splitlines()
        if line.split()[0].startswith("Z") and int(line.split()[1]) in engine.program_uids
    ]
    assert zombies == []
