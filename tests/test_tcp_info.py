# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The kernel's word on a new connection (``_tcp_info.retransmitted``), on real loopback sockets.

A listening socket with a backlog of 0 holds one connection it has not accepted; the SYN of a
second is dropped while the first waits, and the second's kernel sends it again a second later.
Once the first is accepted the second completes, and it is the one that counts a retransmission.
"""

from __future__ import annotations

import errno
import select
import socket
import sys
import time

import pytest

from replicate_async._tcp_info import retransmitted

linux = pytest.mark.skipif(sys.platform != "linux", reason="only Linux says (TCP_INFO)")

WITHIN = 15.0  # seconds: the SYN is resent 1 s, then 3 s after the first


@linux
def test_a_connection_whose_syn_was_dropped_counts_a_retransmission() -> None:
    server = socket.create_server(("127.0.0.1", 0), backlog=0)
    first = socket.create_connection(server.getsockname())  # fills the accept queue
    second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    second.setblocking(False)
    accepted: list[socket.socket] = []
    try:
        assert second.connect_ex(server.getsockname()) in (0, errno.EINPROGRESS)
        deadline = time.monotonic() + WITHIN
        while not retransmitted(second):  # the kernel's own count, not a guess from the time
            assert time.monotonic() < deadline, "the dropped SYN was never sent again"
            select.select([], [], [], 0.05)
        accepted.append(server.accept()[0])  # room in the queue: the next SYN gets through
        _, writable, _ = select.select([], [second], [], WITHIN)
        assert writable == [second]
        assert second.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0  # connected
        accepted.append(server.accept()[0])
        assert retransmitted(second) is True
        assert retransmitted(first) is False  # its handshake went through at once
    finally:
        for sock in (first, second, server, *accepted):
            sock.close()


def test_no_socket_or_another_object_says_nothing() -> None:
    assert retransmitted(None) is False
    assert retransmitted(object()) is False


def test_a_platform_without_tcp_info_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import replicate_async._tcp_info as tcp_info

    monkeypatch.setattr(tcp_info, "_OPTION", None)
    with socket.socket() as sock:
        assert retransmitted(sock) is False
