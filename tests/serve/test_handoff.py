"""The handoff channel carries a live TCP connection, and the request bytes already read from it, from one
process to another; the connection survives the giver closing its descriptor."""

from __future__ import annotations

import os
import socket

from idais_kg.serve.handoff import MAX_PENDING, Handoff


def connected_pair() -> tuple[socket.socket, socket.socket, socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    return listener, client, served


def test_a_connection_goes_whole_from_one_process_to_another() -> None:
    channel = Handoff()
    listener, client, served = connected_pair()
    try:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # part of a request, read by the giver
        read = served.recv(100)
        child = os.fork()
        if child == 0:  # the giver: hands the connection over, closes its descriptor, ends
            code = 0 if channel.give(served.fileno(), read) else 1
            served.close()
            os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        served.close()  # (this process's copy too: only the taken descriptor holds the connection now)
        taken = channel.take()
        assert taken is not None
        conn, pending = taken
        assert pending == b"GET / HTTP/1.1\r\nHost: x\r\n"
        client.sendall(b"\r\n")  # the rest of the request arrives on the taken socket
        conn.setblocking(True)
        assert conn.recv(100) == b"\r\n"
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        assert client.recv(100) == b"HTTP/1.1 204 No Content\r\n\r\n"
        conn.close()
        assert client.recv(100) == b""  # closed once its last descriptor is
        assert channel.take() is None  # nothing more on the channel
    finally:
        for sock in (listener, client, served):
            sock.close()
        channel.close()


def test_a_connection_with_nothing_pending_and_one_with_too_much() -> None:
    channel = Handoff()
    listener, client, served = connected_pair()
    try:
        assert channel.give(served.fileno(), b"") is True
        taken = channel.take()
        assert taken is not None and taken[1] == b""
        taken[0].close()
        assert channel.give(served.fileno(), b"x" * (MAX_PENDING + 1)) is False  # it stays where it is
        assert channel.take() is None
    finally:
        for sock in (listener, client, served):
            sock.close()
        channel.close()
