"""The hostile-program suite again, through `codestar check --json` (a subprocess each).

It includes the integrity probes of issue 8 that a single test can show: pathological
output (grading must stay linear), forged status messages (NaN, lone surrogates, deep
nesting), a closed status channel, and a program that fills /tmp.

Each program is graded against one test whose expected output is ``ok``: programs that
stay contained print ``ok`` where they can, so ``passed`` means "contained" for them.
Whatever a program prints or does, the command's stdout must stay one JSON object, and
nothing may reach the host or outlive the command.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

MARKER = f"codestar-cli-escape-{uuid.uuid4().hex}"
CANARY = f"sk-cli-canary-{uuid.uuid4().hex}"
SLEEP_SECONDS = "9871"

PROGRAMS: dict[str, tuple[str, set[str]]] = {
    "infinite-loop": ("while True:\n    pass\n", {"timeout"}),
    "loop-ignoring-signals": (
        """
        import signal
        for name in ("SIGTERM", "SIGINT", "SIGALRM", "SIGXCPU", "SIGHUP"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        while True:
            try:
                while True:
                    signal.alarm(0)
            except BaseException:
                pass
        """,
        {"timeout"},
    ),
    "memory-bomb": ("x = []\nwhile True:\n    x.append(bytearray(10 ** 7))\n", {"memory_limit"}),
    "fork-bomb": (
        """
        import os, time
        for _ in range(200):
            try:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
            except OSError:
                break
        print("ok")
        """,
        {"passed"},
    ),
    "ctypes-fork": (
        """
        import ctypes, time
        if ctypes.CDLL(None).fork() == 0:
            time.sleep(60)
        else:
            print("ok")
        """,
        {"passed"},
    ),
    "posix-spawn-sleeper": (
        f"""
        import os
        os.posix_spawn("/bin/sleep", ["sleep", "{SLEEP_SECONDS}"], {{}}, setsid=True)
        print("ok")
        """,
        {"passed"},
    ),
    "write-outside": (
        f"""
        import io, os
        for path in ("/tmp/{MARKER}", "/var/tmp/{MARKER}", "{Path.cwd() / MARKER}"):
            for opener in (lambda p: open(p, "w"), lambda p: io.open(p, "w")):
                try:
                    with opener(path) as handle:
                        handle.write("x")
                except OSError:
                    pass
            try:
                os.close(os.open(path + "-os", os.O_WRONLY | os.O_CREAT, 0o644))
            except OSError:
                pass
        print("ok")
        """,
        {"passed"},
    ),
    "sockets": (
        """
        import socket
        reached = 0
        for address in (("127.0.0.1", PORT), ("1.1.1.1", 53)):
            try:
                socket.create_connection(address, timeout=1)
                reached += 1
            except OSError:
                pass
        print("ok" if reached == 0 else "reached")
        """,
        {"passed"},
    ),
    "read-secrets": (
        f"""
        import os
        seen = repr(dict(os.environ))
        for name in os.listdir("/proc"):
            try:
                with open(f"/proc/{{name}}/environ", "rb") as handle:
                    seen += handle.read().decode(errors="replace")
            except OSError:
                pass
        print("leak" if "{CANARY}" in seen else "ok")
        """,
        {"passed"},
    ),
    "fake-json-on-stdout-fd": (
        'import os\nos.write(1, b\'{"passed": true}\\n\')\nos.write(2, b"noise")\n',
        {"wrong_answer"},
    ),
    "kill-the-parent": (
        "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n"
        "    pass\nprint('ok')\n",
        {"passed", "memory_limit", "runtime_error"},
    ),
    "os-exit": ("import os\nos._exit(3)\n", {"runtime_error"}),
    "deep-recursion": ("def f(n):\n    return f(n + 1)\nf(0)\n", {"runtime_error"}),
    "200-mb-of-output": (
        "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(200):\n    sys.stdout.write(chunk)\n",
        {"output_limit"},
    ),
    "pathological-output": ("print('1' * 400_000 + 'x')\nprint(' ' * 400_000)\n", {"wrong_answer"}),
    "forged-nan-status": (
        'import socket\nsocket.socket(fileno=3).send(b\'{"i": 0, "s": "ok", "e": "", "t": NaN}\')\n'
        "import time\ntime.sleep(0.2)\n",
        {"runtime_error"},
    ),
    "forged-surrogate-error": (
        "import socket\nsocket.socket(fileno=3).send("
        'b\'{"i": 0, "s": "error", "e": "\\\\udfff\\\\ud800", "t": 0}\')\n'
        "import time\ntime.sleep(0.2)\n",
        {"runtime_error"},
    ),
    "forged-deep-nesting": (
        "import socket, time\nsocket.socket(fileno=3).send(b'[' * 100000)\ntime.sleep(0.2)\n",
        {"runtime_error"},
    ),
    "closes-status-channel": ("import os\nos.close(3)\nwhile True:\n    pass\n", {"timeout"}),
    "fill-tmp": (
        """
        try:
            with open("/tmp/filler", "wb") as handle:
                while True:
                    handle.write(b"x" * (1 << 20))
        except OSError:
            pass
        print("ok")
        """,
        {"passed"},
    ),
}

#: Probes whose verdict must not depend on how busy the machine is get limits that load
#: cannot reach (a memory bomb on a loaded 2-core machine once took over 1 s to reach
#: 512 MB and was reported as a timeout).
TIMEOUTS = {"memory-bomb": "10"}

PROBLEM = """# Contained
Print ok.

Input:
```
go
```
Output:
```
ok
```
"""


def reject_constant(name: str) -> None:
    raise AssertionError(f"non-strict JSON: {name}")


def sleepers() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip() == f"sleep {SLEEP_SECONDS}"]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_hostile_program_through_the_cli(tmp_path: Path, name: str) -> None:
    source, verdicts = PROGRAMS[name]
    listener = socket.create_server(("127.0.0.1", 0))  # a real peer for "sockets"
    source = source.replace("PORT", str(listener.getsockname()[1]))
    (tmp_path / "problem.md").write_text(PROBLEM)
    (tmp_path / "prog.py").write_text(textwrap.dedent(source))
    env = dict(os.environ, OPENAI_API_KEY=CANARY)
    run = subprocess.run(
        [sys.executable, "-m", "codestar", "check", str(tmp_path / "problem.md"),
         str(tmp_path / "prog.py"), "--json", "--timeout", TIMEOUTS.get(name, "1"),
         "--memory", "512"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    listener.close()
    assert run.returncode in (0, 1), run.stderr
    # stdout is one strict JSON object (no NaN, no Infinity), whatever the program did
    payload = json.loads(run.stdout, parse_constant=reject_constant)
    assert payload["outcomes"][0]["verdict"] in verdicts, payload["outcomes"][0]
    assert CANARY not in run.stdout
    for base in ("/tmp", "/var/tmp", str(Path.cwd())):
        for suffix in ("", "-os"):
            assert not os.path.exists(f"{base}/{MARKER}{suffix}")
    if "uid-separation" in payload["isolation"]["active"]:
        assert sleepers() == []
