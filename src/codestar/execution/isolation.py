"""Isolation layers for untrusted programs: namespaces, mounts, seccomp, uids, rlimits.

A worker process calls `enter_sandbox` once at start-up; every program it runs is a
forked child that calls `confine_child` before executing untrusted code. What each layer
gives, and when it is active:

=====================  ==================================================  ===============
layer                  what it gives                                       needs
=====================  ==================================================  ===============
network-namespace      no network at all (a namespace with only a down     Linux, root or
                       loopback: 127.0.0.1 of the host is unreachable)     user namespaces
pid-namespace          the engine and every other host process are         same
                       invisible; a test's leftovers are killed by name
mount-namespace        private tmpfs on /tmp, /var/tmp, /dev/shm; home     same
                       directories that are closed to others stay hidden
uid-separation         each worker's programs run as their own unused      Linux as root
                       uid: no writes to the host's files, no signals to
                       the engine, a real per-uid process limit
seccomp                a syscall filter: no ptrace, mount, unshare, bpf,   libseccomp
                       io_uring, keyctl..., no sockets but AF_UNIX
rlimits                address space, CPU seconds, processes, file size,   POSIX
                       no core files
clean-environment      programs (and the worker) see a fixed minimal       always
                       environment: no API keys
scratch-directory      each job runs in a fresh directory, removed after   always
=====================  ==================================================  ===============

What this module does not do: it neither decides verdicts nor talks to the engine.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import resource
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

IsolationMode = Literal["auto", "namespaces", "minimal"]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

#: Directories everyone may write to on a usual Linux host; the sandbox overlays them.
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")

#: Syscalls untrusted programs never need; they fail with EPERM.
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "chroot", "unshare", "setns", "kexec_load", "kexec_file_load", "reboot", "init_module",
    "finit_module", "delete_module", "bpf", "perf_event_open", "keyctl", "add_key",
    "request_key", "swapon", "swapoff", "syslog", "acct", "quotactl", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm", "settimeofday",
    "clock_settime", "adjtimex", "sethostname", "setdomainname", "lookup_dcookie",
    "fanotify_init", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
)  # fmt: skip

AF_UNIX = 1


#: The environment every worker and program gets; nothing of the caller's leaks in.
def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The fixed environment of workers and programs (no secrets by construction)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/tmp",
    }
    env.update(extra or {})
    return env


@dataclass(frozen=True, slots=True)
class IsolationReport:
    """Which isolation layers are active, and why the others are not."""

    mode: str
    active: tuple[str, ...] = ()
    inactive: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"mode": self.mode, "active": list(self.active), "inactive": dict(self.inactive)}


_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def prctl(option: int, value: int) -> None:
    _check(libc().prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(libc().unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    result = libc().mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    _check(result, f"mount {source} on {target}")


def _write_file(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


# --------------------------------------------------------------------------- namespaces


def _needed_paths() -> list[str]:
    """Directories the interpreter reads from, which must stay visible in the sandbox."""
    candidates = {sys.base_prefix, sys.prefix, sys.exec_prefix}
    candidates.add(os.path.dirname(os.path.realpath(sys.executable)))
    candidates.update(path for path in sys.path if path)
    result = []
    for path in candidates:
        real = os.path.realpath(path)
        if real != "/" and os.path.isdir(real):
            result.append(real)
    # keep only the outermost of nested paths
    result.sort()
    outer: list[str] = []
    for path in result:
        if not any(path == o or path.startswith(o.rstrip("/") + "/") for o in outer):
            outer.append(path)
    return outer


def _closed_ancestor(path: str) -> str | None:
    """The first ancestor of ``path`` that others may not enter (like /root), if any."""
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        try:
            mode = os.stat(ancestor).st_mode
        except OSError:
            return None
        if not mode & stat.S_IXOTH:
            return ancestor
    return None


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _setup_mounts() -> None:
    """Private /proc, tmpfs overlays and hidden closed home directories.

    Interpreter paths under an overlaid directory are bound back in place, through file
    descriptors opened before the overlay (``/proc/self/fd/N`` stays valid after it).
    """
    mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    overlays = [path for path in WORLD_WRITABLE if os.path.isdir(path)]
    needed = _needed_paths()
    for path in needed:
        top = _closed_ancestor(path)
        if top and top not in overlays:
            overlays.append(top)
    keep = [p for p in needed if any(_under(p, top) for top in overlays)]
    fds = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep}
    for top in overlays:
        mode = "1777" if top in WORLD_WRITABLE else "0755"
        mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, f"size=1g,mode={mode}")
    for path, fd in fds.items():
        os.makedirs(path, mode=0o755, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        os.close(fd)


def enter_namespaces(*, as_root: bool) -> None:
    """Unshare mount, pid, network, IPC and UTS namespaces (and a user one if not root).

    The pid namespace applies to children: the caller must fork, and the child (pid 1
    of the new namespace) must call `finish_namespaces`.
    """
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if as_root:
        unshare(flags)
        return
    uid, gid = os.getuid(), os.getgid()
    unshare(flags | CLONE_NEWUSER)
    _write_file("/proc/self/setgroups", "deny")
    _write_file("/proc/self/uid_map", f"0 {uid} 1")
    _write_file("/proc/self/gid_map", f"0 {gid} 1")


def finish_namespaces() -> None:
    """In pid 1 of the new namespaces: mounts, then a /proc of this pid namespace."""
    _setup_mounts()
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


# --------------------------------------------------------------------------- seccomp

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1


def _scmp_act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class _ScmpArgCmp(ctypes.Structure):
    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


def install_seccomp(denied: Iterable[str] = DENIED_SYSCALLS) -> None:
    """Load a syscall filter that denies ``denied`` and non-AF_UNIX sockets.

    Raises OSError when libseccomp is missing or the kernel refuses the filter.
    """
    name = ctypes.util.find_library("seccomp")
    if not name:
        raise OSError(errno.ENOENT, "libseccomp is not installed")
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = (ctypes.c_uint32,)
    lib.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
    lib.seccomp_rule_add_array.argtypes = (
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p,
    )  # fmt: skip
    lib.seccomp_load.argtypes = (ctypes.c_void_p,)
    lib.seccomp_release.argtypes = (ctypes.c_void_p,)
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.EINVAL, "seccomp_init failed")
    try:
        deny = _scmp_act_errno(errno.EPERM)
        for syscall in denied:
            number = lib.seccomp_syscall_resolve_name(syscall.encode())
            if number < 0:  # unknown on this architecture
                continue
            if lib.seccomp_rule_add_array(ctx, deny, number, 0, None) != 0:
                raise OSError(errno.EINVAL, f"seccomp rule for {syscall} refused")
        socket_nr = lib.seccomp_syscall_resolve_name(b"socket")
        if socket_nr >= 0:
            not_unix = _ScmpArgCmp(0, SCMP_CMP_NE, AF_UNIX, 0)
            result = lib.seccomp_rule_add_array(
                ctx, _scmp_act_errno(errno.EACCES), socket_nr, 1, ctypes.byref(not_unix)
            )
            if result != 0:
                raise OSError(errno.EINVAL, "seccomp rule for socket refused")
        if lib.seccomp_load(ctx) != 0:
            raise OSError(errno.EPERM, "the kernel refused the seccomp filter")
    finally:
        lib.seccomp_release(ctx)


# --------------------------------------------------------------------------- children


@dataclass(frozen=True, slots=True)
class ChildLimits:
    """The rlimits of one child process (already resolved to integers)."""

    memory_bytes: int
    cpu_seconds: int
    processes: int
    file_bytes: int


def apply_rlimits(limits: ChildLimits, *, set_processes: bool) -> None:
    """Apply the child's rlimits; a limit the platform lacks is skipped."""
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_CORE, 0),
    ]
    if hasattr(resource, "RLIMIT_AS"):
        pairs.append((resource.RLIMIT_AS, limits.memory_bytes))
    if set_processes and hasattr(resource, "RLIMIT_NPROC"):
        pairs.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in pairs:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (and the same gid) with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
