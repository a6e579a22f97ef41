"""A seccomp filter that stops a process from starting new processes: a fork bomb ends at one.

Once :func:`forbid_new_processes` returns True, ``fork``, ``vfork`` and ``clone`` without
``CLONE_THREAD`` fail with EPERM in this process and its threads, for good, whoever runs it
(root included: RLIMIT_NPROC would not hold there). New threads still work: ``clone3``, whose
flags a filter cannot read, fails with ENOSYS, and the C library then creates the thread with
``clone``. System calls of another architecture's ABI (32-bit, x32) fail with EPERM.
"""

from __future__ import annotations

import ctypes
import platform

# What the kernel's struct seccomp_data holds where a filter reads it.
_NR, _ARCH, _ARG0 = 0, 4, 16
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000
# audit architecture, and the system call numbers of fork, vfork, clone and clone3 (None: absent)
_ABIS = {
    "x86_64": (0xC000003E, 57, 58, 56, 435),
    "aarch64": (0xC00000B7, None, None, 220, 435),
}

_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Instruction))]


def available() -> bool:
    """Whether this machine's architecture has a filter here."""
    return platform.machine() in _ABIS


def protections() -> list[str]:
    """What :func:`forbid_new_processes` enforces here, in words."""
    return ["no new processes (seccomp)"] if available() else []


def _program(machine: str) -> list[tuple[int, str | int, str | int, int]]:
    """The filter as (code, jump if true, jump if false, constant); jumps name a label."""
    arch, fork, vfork, clone, clone3 = _ABIS[machine]
    code = [(_LD_ABS, 0, 0, _ARCH), (_JEQ, 0, "deny", arch), (_LD_ABS, 0, 0, _NR)]
    if machine == "x86_64":
        code.append((_JGE, "deny", 0, _X32_BIT))
    code += [(_JEQ, "deny", 0, number) for number in (fork, vfork) if number is not None]
    code += [(_JEQ, "nosys", 0, clone3), (_JEQ, 0, "allow", clone), (_LD_ABS, 0, 0, _ARG0)]
    code += [(_JSET, "allow", "deny", _CLONE_THREAD)]
    labels = {"allow": _ALLOW, "deny": _ERRNO | _EPERM, "nosys": _ERRNO | _ENOSYS}
    positions = {label: len(code) + index for index, label in enumerate(labels)}
    resolved = []
    for index, (op, true, false, constant) in enumerate(code):
        jumps = [positions[j] - index - 1 if isinstance(j, str) else j for j in (true, false)]
        resolved.append((op, *jumps, constant))
    return resolved + [(_RET, 0, 0, value) for value in labels.values()]


def forbid_new_processes() -> bool:
    """Install the filter on this thread (and what it starts); False where there is none for this machine."""
    if not available():
        return False
    code = _program(platform.machine())
    instructions = (_Instruction * len(code))(*[_Instruction(*line) for line in code])
    program = _Program(len(code), instructions)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    return True
