"""What the operating system denies a query worker: the network (a seccomp filter) and unbounded memory (RLIMIT_AS).

The guard refuses ``SERVICE`` and foreign graphs before a query reaches a worker; this module is the second line,
which holds when the guard reads a query differently from the engine. Each worker installs it on itself before it
reads anything, so it covers the worker, every thread the engine starts and every process it could spawn.

Why seccomp: a process may filter its own system calls without any privilege (once it sets ``no_new_privs``) and
as root alike, so the sandbox needs nothing from how the server was started. A network namespace needs root or
user namespaces (often disabled in containers and hardened kernels); Landlock's network rules cover only TCP
bind and connect, not UDP, raw or other socket families. The filter is built with libseccomp (through
``pyseccomp``) rather than hand-written BPF, which would have to get the architecture checks right by hand.

What it denies: ``socket()`` for every address family but ``AF_UNIX`` (``EACCES``), and io_uring, whose
``IORING_OP_SOCKET`` and ``IORING_OP_CONNECT`` would open and connect sockets without calling ``socket()``.
System calls of a foreign architecture (the 32-bit ``int 0x80`` entry and its ``socketcall``) meet libseccomp's
default for them, which kills the process. A worker inherits no socket to begin with: its only descriptors are
the pipes to the server.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
from typing import Any

from idais_kg.errors import IdaisError

log = logging.getLogger(__name__)
IO_URING = ("io_uring_setup", "io_uring_enter", "io_uring_register")
OPT_OUT = "start the server with --no-sandbox (Settings.sandbox=False) to run ad-hoc queries without it"


class SandboxUnavailable(IdaisError):
    """The seccomp filter cannot be installed here; the server refuses to run its workers unsandboxed."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the query workers cannot be denied the network: {reason}; {OPT_OUT}")


def build_filter() -> Any:
    """The filter, ready to load; raises SandboxUnavailable where it cannot be had (not Linux, no libseccomp).

    The server calls this at start-up too, so that a missing libseccomp is one clear error there rather than a
    worker that fails to start.
    """
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"seccomp exists on Linux only, and this is {sys.platform}")
    try:
        import pyseccomp
    except (
        ImportError,
        RuntimeError,
        OSError,
    ) as exc:  # pyseccomp raises RuntimeError when libseccomp is absent
        raise SandboxUnavailable(f"libseccomp cannot be loaded ({exc}); install libseccomp2") from None
    try:
        syscalls = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        syscalls.set_attr(
            pyseccomp.Attr.CTL_NNP, 1
        )  # no_new_privs: what lets an unprivileged process load it
        syscalls.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)  # every thread of the process, not only the caller
        # The whole 64-bit argument is compared, so only a domain the kernel reads as AF_UNIX gets through.
        unix_only = pyseccomp.Arg(0, pyseccomp.NE, socket.AF_UNIX)
        syscalls.add_rule(pyseccomp.ERRNO(errno.EACCES), "socket", unix_only)
        for name in IO_URING:
            syscalls.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
    except OSError as exc:
        raise SandboxUnavailable(f"libseccomp refused the filter ({exc})") from None
    return syscalls


def deny_network() -> None:
    """Install the filter on this process, for good (a seccomp filter cannot be removed)."""
    syscalls = build_filter()
    try:
        syscalls.load()
    except OSError as exc:
        raise SandboxUnavailable(f"the kernel refused the seccomp filter ({exc})") from None


def virtual_size() -> int | None:
    """The process's virtual memory in bytes (what RLIMIT_AS counts), or None where /proc does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def bound_memory(extra: int) -> int | None:
    """Cap this process's address space at what it uses now plus ``extra`` bytes; return the cap.

    Called once the dataset is loaded, so that the bound is what a query may add, whatever the dataset's size.
    RLIMIT_AS counts virtual memory, which is what an allocation needs; past the cap, Rust's allocator aborts the
    process ("memory allocation of N bytes failed") and Python raises MemoryError. The hard limit is lowered too,
    so the cap cannot be raised again from inside.
    """
    import resource  # POSIX only, as the workers' sandbox is

    base = virtual_size()
    if base is None:
        log.warning("query worker: no /proc/self/status, so its memory is not bounded")
        return None
    cap = base + extra
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap
