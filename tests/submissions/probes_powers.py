"""identity_block's cell probes every power a grading job must not have (the list is PROBE's), and
defines the right function only if each one is refused; otherwise it raises, naming what was granted.
The other cells are as handed out.

tests/test_grader.py also runs PROBE alone in the sandbox and checks each power one by one.
"""

SCORE = 3
NEEDS = ("seccomp", "landlock", "x86_64")  # PROBE calls system calls by their x86-64 numbers

# Sets GRANTED: {power: what happened} for each power the job was given.
PROBE = r"""
import ctypes as _ctypes
import errno as _errno
import os as _os

_libc = _ctypes.CDLL(None, use_errno=True)
_parent = _os.getppid()
_RESULTS = {}


def _syscall(name, number, *arguments):
    _RESULTS[name] = "granted" if _libc.syscall(number, *arguments) >= 0 else _errno.errorcode[_ctypes.get_errno()]


def _python(name, call):
    try:
        call()
        _RESULTS[name] = "granted"
    except OSError as error:
        _RESULTS[name] = _errno.errorcode.get(error.errno, str(error))


_syscall("reboot", 169, 0, 0, 0, 0)  # EINVAL (a wrong magic number) where allowed, EPERM where refused
_syscall("kexec_load", 246, 0, 0, 0, 0)
_syscall("real-time scheduling", 144, 0, 1, _ctypes.byref(_ctypes.c_int(1)))  # SCHED_FIFO, priority 1
_syscall("setpriority of another process", 141, 0, _parent, 19)
_syscall("prlimit of another process", 302, _parent, 7, 0, _ctypes.byref((_ctypes.c_ulong * 2)()))
_python("CPU affinity of another process", lambda: _os.sched_setaffinity(_parent, {0}))
_python("a signal to another process", lambda: _os.kill(_parent, 0))
_python("a device made with mknod", lambda: _os.mknod("probe-device", 0o020600, _os.makedev(1, 3)))
_syscall("a UDP socket", 41, 2, 2, 0)
_syscall("a TCP socket", 41, 2, 1, 0)
_syscall("a named Unix socket", 41, 1, 1, 0)
_syscall("memfd_create", 319, b"probe", 0)
_syscall("ptrace", 101, 16, _parent, 0, 0)  # PTRACE_ATTACH
_syscall("mount", 165, b"none", b".", b"tmpfs", 0, 0)
_syscall("unshare", 272, 0x10020000)  # a user and a mount namespace
_syscall("io_uring_setup", 425, 4, _ctypes.byref((_ctypes.c_char * 120)()))
_syscall("bpf", 321, 0, 0, 0)
_python("a new process", lambda: _os._exit(0) if _os.fork() == 0 else None)
_python("reading /dev/zero", lambda: open("/dev/zero", "rb").read(1))
_python("listing /dev", lambda: _os.listdir("/dev"))
_python("writing /dev/shm", lambda: open("/dev/shm/probe", "wb").write(b"x"))
_RESULTS["root's user"] = "granted" if _os.geteuid() == 0 else "EPERM"
_status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
_RESULTS["capabilities"] = "granted" if int(_status["CapEff"], 16) or int(_status["CapBnd"], 16) else "EPERM"
_RESULTS["new privileges"] = "granted" if int(_status["NoNewPrivs"]) == 0 else "EPERM"
# EINVAL (reboot's magic), EFAULT (a null pointer) and the like: the call itself was allowed.
GRANTED = {name: what for name, what in _RESULTS.items() if what not in ("EPERM", "EACCES")}
"""


def build(kit):
    check = "\nif GRANTED:\n    raise RuntimeError(f'granted: {GRANTED}')\n\n\n"
    return kit.stubbed(identity_block=PROBE + check + kit.solution("identity_block"))
