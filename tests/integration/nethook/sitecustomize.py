"""Imported by every Python process started with this folder on ``PYTHONPATH`` (the CLI, ansible-playbook
and its workers): each TCP/UDP connect to an address outside 127.0.0.0/8 (and ::1) is written to the file
``$CAMFLEET_NETLOG`` names, then let through. A test runs a command this way and asserts the file stays
empty: the command never reached a device at its real address.

Plain sockets and asyncio both end in ``socket.socket.connect``/``connect_ex`` (asyncio's selector loop
calls ``sock.connect`` on a non-blocking socket), so wrapping those two sees every outgoing connection.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_LOG = os.environ.get("CAMFLEET_NETLOG")
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _note(sock: socket.socket, address: object) -> None:
    if not _LOG or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    try:
        loopback = ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        loopback = str(host) == "localhost"
    if not loopback:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {host!r} {address!r}\n")


def connect(self: socket.socket, address: object) -> None:
    _note(self, address)
    return _connect(self, address)  # type: ignore[arg-type]


def connect_ex(self: socket.socket, address: object) -> int:
    _note(self, address)
    return _connect_ex(self, address)  # type: ignore[arg-type]


if _LOG:
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
