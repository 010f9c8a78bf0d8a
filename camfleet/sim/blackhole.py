"""A port that swallows connection attempts, as a device across a dead radio link does: the
client's SYN is never answered and its connect times out, where a device that is merely off (or
a port that is closed) answers at once with a refusal.

How, on loopback: a listening socket with a backlog of 0, whose single queue slot is taken by one
connection of our own that is never accepted. Linux drops a SYN that reaches a listener whose
accept queue is full (``ListenOverflows``; ``tcp_abort_on_overflow`` is 0 by default), so the
client retransmits until its own timeout. Nothing leaves the machine and no firewall rule is
needed.

Reproduce by hand::

    .venv/bin/camfleet sim fault lr-02-01 link_down --state .state/sim
    curl -m 3 http://<a camera behind lr-02-01>/ISAPI/System/deviceInfo   # timed out, not refused
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket

log = logging.getLogger("camfleet.sim")


class Blackhole:
    """``host:port`` listening with a full accept queue: every new connect times out."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._fillers: list[socket.socket] = []
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(0)
            # One connection fills the queue of a backlog-0 listener; the second one's SYN is already
            # dropped (it retries quietly in the kernel until we close it). Loopback: no waiting.
            for _ in range(2):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                filler.setblocking(False)
                code = filler.connect_ex((host, port))
                if code not in (0, errno.EINPROGRESS):
                    filler.close()
                    raise OSError(code, f"cannot fill the queue of {host}:{port}")
                self._fillers.append(filler)
        except OSError:
            self.close()
            raise
        log.debug("blackhole on %s:%s", host, port)

    def close(self) -> None:
        for s in (*self._fillers, self._sock):
            with contextlib.suppress(OSError):
                s.close()
        self._fillers.clear()
