"""Isolation layers for untrusted programs: namespaces, seccomp, uids, rlimits.

The worker enters its namespaces once at start-up (`codestar.execution.sandbox`); its
zygote installs the syscall filter; every child applies its rlimits and drops to its uid
before executing untrusted code (`codestar.execution.zygote`). What each layer gives:

=====================  ==================================================  ===============
layer                  what it gives                                       needs
=====================  ==================================================  ===============
network-namespace      no network at all (a namespace with only a down     Linux, root or
                       loopback: 127.0.0.1 of the host is unreachable)     user namespaces
pid-namespace          the engine and every other host process are         same
                       invisible; a test's leftovers are killed by name
mount-namespace        home directories closed to others stay hidden       same
read-only-host         every host mount is read-only in the sandbox        same
per-job-tmpfs          a fresh tmpfs on each world-writable directory      same
                       (/tmp, /var/tmp, /dev/shm, /run/lock...) per job
uid-separation         each worker's programs run as their own unused      Linux as root
                       uid: no writes to the host's files, no signals to
                       the engine, a real per-uid process limit
zygote                 children are forked from a process that never       Linux
                       held test data; outputs are compared outside them
seccomp                a syscall filter: no ptrace, mount, unshare, bpf,   libseccomp
                       io_uring, keyctl..., no clone with namespace
                       flags, no clone3, no sockets but AF_UNIX
memory-cgroup-v1/v2    one memory limit on all of a job's memory, memfd    root or a
                       and tmpfs pages included, no swap                   delegated cgroup
memfd-limits           (without a cgroup) 64 open files of at most the     POSIX
                       output limit each bound what memfds can pin
rlimits                address space, CPU seconds, processes, file size,   POSIX
                       open files, no core files
clean-environment      programs (and the worker) see a fixed minimal       always
                       environment: no API keys
scratch-directory      each job runs in a fresh directory, removed after   always
=====================  ==================================================  ===============

What this module does not do: it neither decides verdicts nor talks to the engine; the
file system view is `codestar.execution.mounts`, the memory cgroup
`codestar.execution.cgroup`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import resource
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

IsolationMode = Literal["auto", "namespaces", "minimal"]

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
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
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

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

#: Every namespace flag `clone` can take (CLONE_NEWTIME exists only for clone3/unshare).
NAMESPACE_FLAGS = (
    CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
    CLONE_NEWNET,
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


def enter_namespaces(*, as_root: bool) -> None:
    """Unshare mount, pid, network, IPC and UTS namespaces (and a user one if not root).

    The pid namespace applies to children: the caller must fork, and the child (pid 1
    of the new namespace) must call `mount_proc` after setting up its mounts.
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


def mount_proc() -> None:
    """In pid 1 of the new namespaces: a /proc of this pid namespace."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


# --------------------------------------------------------------------------- seccomp

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7


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
    """Load a syscall filter that denies ``denied``, non-AF_UNIX sockets and namespaces.

    Namespaces can be created through `unshare` (in ``denied``), `clone` with a
    ``CLONE_NEW*`` flag (denied by inspecting its flags argument) and `clone3`, whose flags
    live in memory a filter cannot read: it fails with ENOSYS, on which glibc (2.34+)
    falls back to `clone` for threads and `posix_spawn`.

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
        _deny_namespace_clones(lib, ctx)
        if lib.seccomp_load(ctx) != 0:
            raise OSError(errno.EPERM, "the kernel refused the seccomp filter")
    finally:
        lib.seccomp_release(ctx)


def _deny_namespace_clones(lib: ctypes.CDLL, ctx: int) -> None:
    """`clone` with any namespace flag fails with EPERM; `clone3` with ENOSYS."""
    clone3 = lib.seccomp_syscall_resolve_name(b"clone3")
    if clone3 >= 0 and lib.seccomp_rule_add_array(
        ctx, _scmp_act_errno(errno.ENOSYS), clone3, 0, None
    ):
        raise OSError(errno.EINVAL, "seccomp rule for clone3 refused")
    clone = lib.seccomp_syscall_resolve_name(b"clone")
    if clone < 0:
        return
    for flag in NAMESPACE_FLAGS:  # one rule per flag: rules are or-ed, arguments and-ed
        has_flag = _ScmpArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag)
        deny = _scmp_act_errno(errno.EPERM)
        if lib.seccomp_rule_add_array(ctx, deny, clone, 1, ctypes.byref(has_flag)) != 0:
            raise OSError(errno.EINVAL, "seccomp rule for clone refused")


# --------------------------------------------------------------------------- children


@dataclass(frozen=True, slots=True)
class ChildLimits:
    """The rlimits of one child process (already resolved to integers)."""

    memory_bytes: int
    cpu_seconds: int
    processes: int
    file_bytes: int
    open_files: int = 1024


def apply_rlimits(limits: ChildLimits, *, set_processes: bool) -> None:
    """Apply the child's rlimits; a limit the platform lacks is skipped."""
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, limits.open_files),
    ]
    if hasattr(resource, "RLIMIT_AS"):
        pairs.append((resource.RLIMIT_AS, limits.memory_bytes))
    if set_processes and hasattr(resource, "RLIMIT_NPROC"):
        pairs.append((resource.RLIMIT_NPROC, limits.processes))
    for which, value in pairs:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (value, value))


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def drop_capabilities() -> None:
    """Give up every capability (for children that keep the worker's uid: in a user
    namespace that uid is root there, and could read the worker's memory)."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(libc().capset(ctypes.byref(header), data), "capset")


CLONE_PARENT = 0x00008000
#: The raw `clone` syscall by machine (its first argument is the flags on all of these).
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "riscv64": 220}


def fork_sibling() -> int:
    """`fork`, except that the child is a child of our *parent* (``CLONE_PARENT``).

    A raw syscall: the child runs on in this interpreter like after `os.fork`, but without
    Python's at-fork hooks (the caller must be single-threaded and reseed `random`).
    Returns the child's pid (0 in the child); OSError where unsupported.
    """
    number = _SYS_CLONE.get(os.uname().machine)
    if number is None:
        raise OSError(errno.ENOSYS, "no raw clone on this machine")
    call = libc().syscall
    call.restype = ctypes.c_long
    flags = CLONE_PARENT | 17  # SIGCHLD to the parent on exit, as for fork
    pid = call(ctypes.c_long(number), ctypes.c_ulong(flags), *[ctypes.c_ulong(0)] * 4)
    if pid < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"clone: {os.strerror(code)}")
    return int(pid)


def drop_privileges(uid: int) -> None:
    """Become ``uid`` (and the same gid) with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
