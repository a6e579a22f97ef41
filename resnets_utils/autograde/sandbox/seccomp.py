"""A seccomp filter: what a grading job may never do, root or not, with or without Landlock.

:func:`install` makes these system calls fail with EPERM in the calling process and all it
starts, for good:

- new processes (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``): a fork bomb ends at
  one. Threads still work: ``clone3``, whose flags a filter cannot read, gets ENOSYS, and the
  C library then creates the thread with ``clone``;
- calls that act on *another* process: signals, priority, CPU affinity, resource limits,
  memory policy and scheduling are allowed on the job's own process only (its pid, fixed
  into the filter), ``ptrace``, ``process_vm_*``, ``kcmp``, ``pidfd_getfd`` not at all;
- real-time scheduling (only SCHED_OTHER, SCHED_BATCH and SCHED_IDLE), devices made with
  ``mknod``, sockets (``socket`` for any family; ``socketpair`` of AF_UNIX only, which makes
  no address another job could reach), ``io_uring`` (its operations bypass this filter);
- memory outside the limits (``memfd_create``, ``memfd_secret``, ``userfaultfd``) and
  the machine's own controls: reboot, kexec and modules, mount and namespaces, clocks,
  host names, swap, quotas, BPF, perf, kernel keys, the kernel log.

System calls of another architecture's ABI (32-bit, x32) fail too. Filters exist for x86-64
and ARM64 (numbers from each kernel's system call table).
"""

from __future__ import annotations

import ctypes
import os
import platform

# Where the kernel's struct seccomp_data holds what a filter reads.
_NR, _ARCH, _ARGS = 0, 4, 16
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# System call numbers; a name missing for an architecture does not exist there.
_X86_64 = dict(
    fork=57, vfork=58, clone=56, clone3=435, reboot=169, kexec_load=246, kexec_file_load=320, init_module=175,
    finit_module=313, delete_module=176, mount=165, umount2=166, pivot_root=155, chroot=161, swapon=167,
    swapoff=168, unshare=272, setns=308, ptrace=101, process_vm_readv=310, process_vm_writev=311, kcmp=312,
    pidfd_getfd=438, pidfd_send_signal=424, memfd_create=319, memfd_secret=447, userfaultfd=323, bpf=321,
    perf_event_open=298, keyctl=250, add_key=248, request_key=249, acct=163, settimeofday=164,
    clock_settime=227, clock_adjtime=305, adjtimex=159, sethostname=170, setdomainname=171, iopl=172,
    ioperm=173, open_by_handle_at=304, name_to_handle_at=303, quotactl=179, fanotify_init=300,
    io_uring_setup=425, io_uring_enter=426, io_uring_register=427, mknod=133, mknodat=259,
    sched_setscheduler=144, sched_setparam=142, sched_setattr=314, setpriority=141, sched_setaffinity=203,
    socket=41, socketpair=53, kill=62, tkill=200, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297,
    prlimit64=302, ioprio_set=251, migrate_pages=256, move_pages=279, syslog=103, vhangup=153,
    lookup_dcookie=212, uselib=134,
)  # fmt: skip
_AARCH64 = dict(
    clone=220, clone3=435, reboot=142, kexec_load=104, kexec_file_load=294, init_module=105, finit_module=273,
    delete_module=106, mount=40, umount2=39, pivot_root=41, chroot=51, swapon=224, swapoff=225, unshare=97,
    setns=268, ptrace=117, process_vm_readv=270, process_vm_writev=271, kcmp=272, pidfd_getfd=438,
    pidfd_send_signal=424, memfd_create=279, memfd_secret=447, userfaultfd=282, bpf=280, perf_event_open=241,
    keyctl=219, add_key=217, request_key=218, acct=89, settimeofday=170, clock_settime=112, clock_adjtime=266,
    adjtimex=171, sethostname=161, setdomainname=162, open_by_handle_at=265, name_to_handle_at=264,
    quotactl=60, fanotify_init=262, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
    mknodat=33, sched_setscheduler=119, sched_setparam=118, sched_setattr=274, setpriority=140,
    sched_setaffinity=122, socket=198, socketpair=199, kill=129, tkill=130, tgkill=131, rt_sigqueueinfo=138,
    rt_tgsigqueueinfo=240, prlimit64=261, ioprio_set=30, migrate_pages=238, move_pages=239, syslog=116,
    vhangup=58,
)  # fmt: skip
_NUMBERS = {"x86_64": _X86_64, "aarch64": _AARCH64}

# Always refused.
DENIED = (
    "fork vfork reboot kexec_load kexec_file_load init_module finit_module delete_module mount umount2 "
    "pivot_root chroot swapon swapoff unshare setns ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd "
    "pidfd_send_signal memfd_create memfd_secret userfaultfd bpf perf_event_open keyctl add_key request_key acct "
    "settimeofday clock_settime clock_adjtime adjtimex sethostname setdomainname iopl ioperm open_by_handle_at "
    "name_to_handle_at quotactl fanotify_init io_uring_setup io_uring_enter io_uring_register sched_setattr "
    "socket tkill syslog vhangup lookup_dcookie uselib"
).split()

OWN, OWN_GROUP = "own", "own group"  # the job's pid, and minus it (its process group), in a rule
_S_IFMT, _S_IFCHR, _S_IFBLK = 0o170000, 0o020000, 0o060000
_SCHED_RESET_ON_FORK = 0x40000000
# Allowed only when every (argument, mask, allowed values) holds; "not" lists refused values instead.
CONDITIONAL = {
    "clone": [(0, _CLONE_THREAD, "set")],  # threads only
    "kill": [(0, None, (0, OWN, OWN_GROUP))],
    "tgkill": [(0, None, (OWN,))],
    "rt_sigqueueinfo": [(0, None, (OWN,))],
    "rt_tgsigqueueinfo": [(0, None, (OWN,))],
    "setpriority": [(0, None, (0, 1)), (1, None, (0, OWN))],  # PRIO_PROCESS or PRIO_PGRP, of itself
    "ioprio_set": [(0, None, (1, 2)), (1, None, (0, OWN))],
    "sched_setaffinity": [(0, None, (0, OWN))],
    "sched_setparam": [(0, None, (0, OWN))],
    "sched_setscheduler": [(0, None, (0, OWN)), (1, ~_SCHED_RESET_ON_FORK & 0xFFFFFFFF, (0, 3, 5))],
    "prlimit64": [(0, None, (0, OWN))],
    "migrate_pages": [(0, None, (0, OWN))],
    "move_pages": [(0, None, (0, OWN))],
    "mknod": [(1, _S_IFMT, ("not", _S_IFCHR, _S_IFBLK))],
    "mknodat": [(2, _S_IFMT, ("not", _S_IFCHR, _S_IFBLK))],
    "socketpair": [(0, None, (1,))],  # AF_UNIX
}

_LD_ABS, _ALU_AND, _JA, _JEQ, _JGE, _JSET, _RET = 0x20, 0x54, 0x05, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Instruction))]


def available() -> bool:
    """Whether this machine's architecture has a filter here."""
    return platform.machine() in _NUMBERS


def protections() -> list[str]:
    """What :func:`install` enforces here, in words."""
    if not available():
        return []
    return [
        "no new processes (seccomp)",
        "no sockets, and no signals, priorities or limits set on other processes (seccomp)",
        "no real-time scheduling, devices, memfd, io_uring, reboot, mount or namespaces (seccomp)",
    ]


def _argument(index: int) -> int:
    return _ARGS + 8 * index  # the low 32 bits (little-endian): every argument checked here is an int or flags


def _rule(number: int, conditions, pid: int) -> list[tuple]:
    """Instructions for one conditional system call: allow when every condition holds, else EPERM."""
    body = []
    for argument, mask, allowed in conditions:
        body.append((_LD_ABS, 0, 0, _argument(argument)))
        if mask is not None and allowed != "set":
            body.append((_ALU_AND, 0, 0, mask))
        if allowed == "set":  # the mask's bit must be set
            body += [(_JSET, 1, 0, mask), (_RET, 0, 0, _ERRNO | _EPERM)]
            continue
        refused = allowed[0] == "not"
        values = [_value(v, pid) for v in (allowed[1:] if refused else allowed)]
        # Each equal value jumps past the others (allowed) or to the refusal (refused).
        for index, value in enumerate(values):
            to_end = len(values) - index - 1
            body.append((_JEQ, to_end + 1, 0, value))
        if refused:
            body += [(_JA, 0, 0, 1), (_RET, 0, 0, _ERRNO | _EPERM)]
        else:
            body.append((_RET, 0, 0, _ERRNO | _EPERM))
    body.append((_RET, 0, 0, _ALLOW))
    return [(_JEQ, 0, len(body), number), *body, (_LD_ABS, 0, 0, _NR)]


def _value(value, pid: int) -> int:
    if value == OWN:
        return pid
    if value == OWN_GROUP:
        return (-pid) & 0xFFFFFFFF
    return value


def program(machine: str, pid: int) -> list[tuple[int, int, int, int]]:
    """The filter for the job whose pid is ``pid``: (code, jump if true, jump if false, constant)."""
    numbers = _NUMBERS[machine]
    deny = (_RET, 0, 0, _ERRNO | _EPERM)
    code = [(_LD_ABS, 0, 0, _ARCH), (_JEQ, 1, 0, _AUDIT_ARCH[machine]), deny, (_LD_ABS, 0, 0, _NR)]
    if machine == "x86_64":
        code += [(_JGE, 0, 1, _X32_BIT), deny]
    code += [(_JEQ, 0, 1, numbers["clone3"]), (_RET, 0, 0, _ERRNO | _ENOSYS)]
    for name in DENIED:
        if name in numbers:
            code += [(_JEQ, 0, 1, numbers[name]), deny]
    for name, conditions in CONDITIONAL.items():
        if name in numbers:
            code += _rule(numbers[name], conditions, pid)
    for _, jt, jf, _ in code:
        assert jt < 256 and jf < 256  # every jump is local to its rule
    return code + [(_RET, 0, 0, _ALLOW)]


def install() -> bool:
    """Install the filter on this thread (and what it starts); False where there is none for this machine."""
    if not available():
        return False
    code = program(platform.machine(), os.getpid())
    instructions = (_Instruction * len(code))(*[_Instruction(*line) for line in code])
    filter_program = _Program(len(code), instructions)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(filter_program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    return True
