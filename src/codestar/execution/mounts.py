"""The file system a sandboxed program sees: the host read-only, fresh tmpfs where it writes.

Called in the worker's own mount namespace (see `codestar.execution.sandbox`):

* `make_host_read_only` remounts every host mount read-only in the namespace (``/proc``
  and the cgroup file systems aside: the first is replaced, the second are the worker's
  own to write, and only root may write either), so no host path is writable from the
  sandbox, world-writable directories included;
* `hide_closed_directories` covers directories closed to others (such as ``/root``) with
  an empty tmpfs and binds the interpreter's own paths back, read-only;
* `Scratch` covers each world-writable directory (``/tmp``, ``/var/tmp``, ``/dev/shm``,
  ``/run/lock``, any other 1777 directory near the root) with a tmpfs, and replaces them
  all with fresh ones before each job, so what one program leaves there (or fills them
  with) never reaches the next.

It does not enter namespaces or decide whether to: that is `codestar.execution.sandbox`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import stat
import sys
from dataclasses import dataclass, field

from codestar.execution.isolation import MS_BIND, MS_NODEV, MS_NOSUID, MS_REC, libc, mount

MS_RDONLY = 1
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

#: Mount options that must be kept when remounting (the kernel refuses to drop locked ones).
_KEPT_OPTIONS = {
    "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": 8, "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME,
}  # fmt: skip

#: File systems left writable: replaced (proc) or written by the worker (cgroups).
_LEFT_WRITABLE = {"proc", "cgroup", "cgroup2"}

#: World-writable directories programs commonly expect; others near the root are found.
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue")

#: Size of each per-job tmpfs other than /tmp (which gets the job's memory limit).
SMALL_TMPFS_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MountPoint:
    path: str
    fstype: str
    flags: int


def _unescape(path: str) -> str:
    """Mountinfo escapes space, tab, newline and backslash as octal: ``\\040``."""
    if "\\" not in path:
        return path
    return path.encode().decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def mount_points() -> list[MountPoint]:
    """The mounts of this namespace, parents before children."""
    result = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.split()
            separator = fields.index("-")
            flags = 0
            for option in fields[5].split(","):
                flags |= _KEPT_OPTIONS.get(option, 0)
            result.append(MountPoint(_unescape(fields[4]), fields[separator + 1], flags))
    return result


def remount_read_only(path: str, flags: int = 0) -> None:
    mount("none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags, None)


def make_host_read_only() -> list[str]:
    """Remount every host mount read-only; the mount points that refused."""
    refused = []
    for point in mount_points():
        if point.fstype in _LEFT_WRITABLE or point.path.startswith(("/proc/", "/sys/fs/cgroup")):
            continue
        try:
            remount_read_only(point.path, point.flags)
        except OSError:
            refused.append(point.path)
    return refused


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


def world_writable_directories(depth: int = 2) -> list[str]:
    """`WORLD_WRITABLE` (those that exist) and any directory others may write to within
    ``depth`` levels of the root, outside /proc and /sys; symlinks resolved, outermost
    only (a tmpfs on /tmp hides /tmp/shared)."""
    found = {os.path.realpath(p) for p in WORLD_WRITABLE if os.path.isdir(p)}
    level = ["/"]
    for _ in range(depth):
        deeper = []
        for parent in level:
            with contextlib.suppress(OSError), os.scandir(parent) as entries:
                for entry in entries:
                    if entry.path in ("/proc", "/sys") or not entry.is_dir(follow_symlinks=False):
                        continue
                    with contextlib.suppress(OSError):
                        if entry.stat(follow_symlinks=False).st_mode & stat.S_IWOTH:
                            found.add(entry.path)
                    deeper.append(entry.path)
        level = deeper
    outer: list[str] = []
    for path in sorted(found):
        if not any(_under(path, top) for top in outer):
            outer.append(path)
    return outer


def _bind_read_only(fd: int, path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)
    mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
    remount_read_only(path)


def hide_closed_directories(overlays: list[str]) -> None:
    """Cover the ancestors of interpreter paths that others may not enter; bind them back.

    ``overlays`` (the world-writable directories) are skipped: `Scratch` covers them.
    """
    needed = _needed_paths()
    tops = []
    for path in needed:
        top = _closed_ancestor(path)
        if top and top not in tops and top not in overlays:
            tops.append(top)
    keep = [p for p in needed if any(_under(p, top) for top in tops)]
    fds = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep}
    for top in tops:
        mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for path, fd in fds.items():
        _bind_read_only(fd, path)
        os.close(fd)
    for top in tops:  # read-only once the mount points of the binds exist
        remount_read_only(top, MS_NOSUID | MS_NODEV)


@dataclass
class Scratch:
    """The per-job tmpfs on each world-writable directory.

    Interpreter paths under one of them (a virtual environment in /tmp) are bound back,
    read-only, after each renewal, from descriptors opened before the first cover.
    """

    directories: list[str]
    _keep: dict[str, int] = field(default_factory=dict)
    _sizes: dict[str, int] = field(default_factory=dict)
    _covered: bool = False

    def __post_init__(self) -> None:
        for path in _needed_paths():
            if any(_under(path, top) for top in self.directories):
                self._keep[path] = os.open(path, os.O_PATH | os.O_DIRECTORY)

    def renew(self, tmp_bytes: int) -> None:
        """Fresh, empty tmpfs on every directory that is not still pristine (``/tmp``
        sized ``tmp_bytes``): an untouched one costs a `statvfs`, a renewal ~75 µs."""
        renewed = False
        for path in self.directories:
            size = tmp_bytes if path == "/tmp" else SMALL_TMPFS_BYTES
            if self._covered and self._sizes.get(path) == size and _pristine(path):
                continue
            if self._covered:
                libc().umount2(path.encode(), ctypes.c_int(MNT_DETACH))
            options = f"size={size},nr_inodes=16384,mode=1777"
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
            self._sizes[path] = size
            renewed = True
        self._covered = True
        if renewed:
            for path, fd in self._keep.items():
                if not os.path.ismount(path):
                    _bind_read_only(fd, path)


def _pristine(path: str) -> bool:
    """True when the tmpfs on ``path`` holds nothing and still is root's, mode 1777."""
    try:
        usage = os.statvfs(path)
        info = os.stat(path)
    except OSError:
        return False
    return (
        usage.f_files - usage.f_ffree <= 1
        and info.st_uid == 0
        and stat.S_IMODE(info.st_mode) == 0o1777
    )
