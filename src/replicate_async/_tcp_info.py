# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""What the kernel knows of a new TCP connection: whether its handshake had to be retried.

A server whose accept queue is full drops the SYNs that arrive meanwhile; the client's kernel
sends them again a second later, and the connection then counts a retransmission. That is the
sign a pool filling at full speed overwhelms the server (`GatedConnector` narrows its gate on
it), and only Linux tells it: ``TCP_INFO``'s ``tcpi_total_retrans``, a field of the layout's
first 104 bytes, unchanged since Linux 2.6. Elsewhere nothing is known, and nothing is said.
"""

from __future__ import annotations

import socket
import struct
import sys
from typing import Any, Final

#: ``struct tcp_info``'s ``tcpi_total_retrans``: its offset, and the bytes read up to its end.
_TOTAL_RETRANS: Final = 100
_READ: Final = 104
_OPTION: Final = getattr(socket, "TCP_INFO", None) if sys.platform == "linux" else None


def retransmitted(sock: Any) -> bool:
    """Whether the TCP connection *sock* (a socket, or asyncio's view of one) has resent
    anything, its SYN included; False where the kernel does not say (or *sock* is no socket)."""
    if _OPTION is None or sock is None:
        return False
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _OPTION, _READ)
    except (OSError, AttributeError, TypeError):
        return False
    if len(info) < _READ:
        return False
    return bool(struct.unpack_from("=I", info, _TOTAL_RETRANS)[0])
