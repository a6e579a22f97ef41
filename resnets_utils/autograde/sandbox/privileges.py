"""A grading job run by root gives up root: its own user, no capabilities, no way back.

When the grader runs as root (in a container, on CI), each job's child, while still root,
gives its folders to a user of its own, **uid and gid 2,000,000,000 + the child's process id**
(a range no account uses, so no two jobs running at once share a user, and none shares the
grader's), then drops every capability from its bounding set, leaves every group, takes
that uid and gid for good and sets no-new-privileges. Run by anyone else, a job keeps the
grader's user, which has no powers to drop.

The job must still reach the Python installation and its own folders. Where a folder above one
is closed to other users (``/root`` holding pyenv's Pythons, a private temporary folder), the
child gets a mount namespace of its own in which that folder is an empty read-only tmpfs
holding just the paths the job uses, each bound there as it is.
"""

from __future__ import annotations

import ctypes
import os
import stat
from pathlib import Path

UID_BASE = 2_000_000_000

_PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, _PR_SET_NO_NEW_PRIVS = 24, 47, 4, 38
_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18,
)  # fmt: skip
_libc = ctypes.CDLL(None, use_errno=True)


def dropping() -> bool:
    """Whether jobs started by this process give up root."""
    return os.geteuid() == 0


def protections() -> list[str]:
    """What :func:`drop` enforces, in words (nothing unless this process is root)."""
    return ["an unprivileged user of its own with no capabilities"] if dropping() else []


def job_uid() -> int:
    """The user this process takes (its pid is unique among the running jobs)."""
    return UID_BASE + os.getpid()


def give(folders: list[str], uid: int) -> None:
    """Make ``uid`` the owner of ``folders`` and all they hold (links themselves, never their targets)."""
    for folder in folders:
        os.chown(folder, uid, uid, follow_symlinks=False)
        os.chmod(folder, 0o700)  # the job's alone: no other job (another uid) may even look inside
        for parent, folders_in, files in os.walk(folder):
            for name in folders_in + files:
                os.chown(os.path.join(parent, name), uid, uid, follow_symlinks=False)


def _closed(folder: Path) -> bool:
    """Whether a user who neither owns ``folder`` nor is in its group cannot pass through it."""
    return not os.stat(folder).st_mode & stat.S_IXOTH


def readable_view(paths: list[str]) -> list[str]:
    """Let another user reach ``paths`` (as their own permissions allow): each closed folder above
    one becomes, in a mount namespace of this process's own, a read-only tmpfs holding only those
    paths (bound there). Returns the folders so replaced (none needed: nothing changes)."""
    wanted: dict[Path, list[Path]] = {}
    for path in paths:
        real = Path(os.path.realpath(path))
        if not real.exists():
            continue
        for ancestor in list(reversed(real.parents)):
            if _closed(ancestor):
                wanted.setdefault(ancestor, []).append(real)
                break
    if not wanted:
        return []
    _call(_libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing done here reaches the machine's mounts
    for closed, inside in wanted.items():
        kept = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in inside}  # reachable once covered
        _mount("tmpfs", str(closed), "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, "mode=0755,size=64k")
        for path, fd in kept.items():
            for folder in reversed(path.parents):
                if closed in folder.parents:
                    folder.mkdir(mode=0o755, exist_ok=True)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                path.mkdir(mode=0o755, exist_ok=True)
            else:
                path.touch(mode=0o644, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", str(path), None, _MS_BIND | _MS_REC)
            os.close(fd)
        _mount(None, str(closed), None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    return [str(folder) for folder in wanted]


def drop(uid: int) -> None:
    """Become ``uid`` (and gid ``uid``), with no capabilities in any set, for good."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _call(_libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0), "prctl(PR_CAPBSET_DROP)")
    _call(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT)")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # a uid other than 0 clears the permitted and effective sets
    _call(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    if any(capabilities().values()) or os.getresuid() != (uid, uid, uid):
        raise OSError(f"the job still has privileges: {capabilities()}")


def capabilities() -> dict[str, int]:
    """This process's capability sets, as /proc reports them."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:")):
            name, value = line.split(":")
            found[name] = int(value, 16)
    return found


def _mount(source, target, kind, flags: int, data=None) -> None:
    encoded = [None if text is None else text.encode() for text in (source, target, kind, data)]
    _call(_libc.mount(encoded[0], encoded[1], encoded[2], ctypes.c_ulong(flags), encoded[3]), f"mount {target}")


def _call(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
