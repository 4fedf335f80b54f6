"""Connections handed from one pre-forked worker to another, with the bytes of a request already read from them.

A worker serves many connections, and evaluates a query on the thread that serves them all (see ``forked``). When
one query runs long, the worker gives its other connections away, so that they are not kept waiting behind it and
are not lost if the query must be stopped: each goes, as a file descriptor (``SCM_RIGHTS``) with whatever the
worker had read from it but not yet answered, in one datagram on a socket pair that the supervisor made before it
forked. Any worker that still accepts connections takes the datagram, as it would take a new connection from the
listening socket, and feeds the bytes to its parser before it reads the socket itself. The connection is never
closed on the way: the giving worker closes only its own descriptor, and a TCP connection ends when its last
descriptor closes.
"""

from __future__ import annotations

import array
import contextlib
import errno
import os
import socket

MARK = b"C"  # every datagram starts with it, so that one with no pending bytes is not empty
MAX_PENDING = 64 * 1024  # bytes of unanswered requests a connection may carry with it; a longer one stays


class Handoff:
    """The socket pair connections travel on: any worker sends on one end and takes from the other."""

    def __init__(self) -> None:
        self.sender, self.receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for end in (self.sender, self.receiver):
            end.setblocking(False)
            end.set_inheritable(False)  # (fork keeps it all the same; no exec'd program gets it)
        self.sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * MAX_PENDING)

    def give(self, fd: int, pending: bytes) -> bool:
        """Send the connection ``fd`` with the bytes read from it but not answered; False if it cannot go now
        (the channel is full, or ``pending`` is longer than MAX_PENDING), and then it stays where it is."""
        if len(pending) > MAX_PENDING:
            return False
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]).tobytes())]
        try:
            self.sender.sendmsg([MARK, pending], rights, socket.MSG_DONTWAIT)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EMSGSIZE):
                return False
            raise
        return True

    def take(self) -> tuple[socket.socket, bytes] | None:
        """A connection another worker gave, and the bytes to read before its socket; None if there is none."""
        size = socket.CMSG_SPACE(array.array("i").itemsize)
        try:
            data, ancillary, flags, _ = self.receiver.recvmsg(len(MARK) + MAX_PENDING, size)
        except (BlockingIOError, InterruptedError):
            return None
        fds = array.array("i")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if not fds:
            return None
        for extra in fds[1:]:  # (one is ever sent)
            with contextlib.suppress(OSError):
                os.close(extra)
        conn = socket.socket(fileno=fds[0])
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):  # (cannot happen: give() bounds the datagram)
            conn.close()
            return None
        conn.setblocking(False)
        return conn, data[len(MARK) :]

    def close(self) -> None:
        """Close both ends in this process."""
        self.sender.close()
        self.receiver.close()
