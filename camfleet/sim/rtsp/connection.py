"""One client TCP connection to a simulated camera's RTSP service: it frames requests (skipping the
client's interleaved RTCP), answers them one at a time in order, owns at most one
:class:`~camfleet.sim.rtsp.session.Session`, and closes after the session timeout without a
keep-alive.

Why a Protocol with one small worker: reading is callback-driven (no task waits on a socket);
the worker exists so replies keep their order while a DESCRIBE waits for ffmpeg or the ``slow``
fault. A device that loses power resets the connection (RST), it does not close it politely.

Reproduce by hand (the server of ``python -m camfleet.sim.rtsp``)::

    printf 'OPTIONS * RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\nOPTIONS * RTSP/1.0\\r\\nCSeq: 2\\r\\n\\r\\n' | nc 127.0.0.9 8554
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import socket
import struct
from typing import Protocol, cast

from camfleet.sim.faults import Faults
from camfleet.sim.rtsp.messages import MAX_BODY, MAX_HEADER, REASONS, Reply, Request, parse_request
from camfleet.sim.rtsp.session import Session

log = logging.getLogger("camfleet.sim.rtsp")


class Host(Protocol):
    """What a connection needs of the server it belongs to."""

    host: str
    faults: Faults
    session_timeout: int
    server_header: str | None
    connections: set[RtspConnection]

    async def handle(self, conn: RtspConnection, req: Request) -> Reply: ...


class RtspConnection(asyncio.Protocol):
    """One client TCP connection: frames requests, answers them in order, owns at most one session."""

    def __init__(self, server: Host) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.queue: asyncio.Queue[Request | Reply] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.session: Session | None = None
        self.last_request = 0.0
        self.timer: asyncio.TimerHandle | None = None

    @property
    def faults(self) -> Faults:
        return self.server.faults

    # ---- transport events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not an asyncio.Transport subclass, so no isinstance check).
        self.transport = cast(asyncio.Transport, transport)
        if self.server.faults.unreachable:
            self.reset()
            return
        self.server.connections.add(self)
        loop = asyncio.get_running_loop()
        self.last_request = loop.time()
        self.timer = loop.call_at(self.last_request + self.server.session_timeout, self._check_idle)
        self.worker = loop.create_task(self._serve())

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        if self.session is not None:
            self.session.close()  # releases its UDP ports too
        if self.timer is not None:
            self.timer.cancel()
        if self.worker is not None:
            self.worker.cancel()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.buffer[0] == 0x24:  # interleaved data from the client (RTCP receiver reports): skip
                if len(self.buffer) < 4:
                    return
                size = 4 + int.from_bytes(self.buffer[2:4], "big")
                if len(self.buffer) < size:
                    return
                del self.buffer[:size]
                continue
            end = self.buffer.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end, sep = self.buffer.find(b"\n\n"), 2
            if end < 0:
                if len(self.buffer) > MAX_HEADER:
                    self.queue.put_nowait(Reply(400, close=True))
                    self.buffer.clear()
                return
            request = parse_request(bytes(self.buffer[:end]))
            if request is None:
                del self.buffer[: end + sep]
                self.queue.put_nowait(Reply(400))
                continue
            length = request.headers.get("content-length", "0")
            size = int(length) if length.isdigit() else 0
            if size > MAX_BODY:  # no RTSP request a camera accepts carries more than a small body
                self.queue.put_nowait(Reply(400, close=True))
                self.buffer.clear()
                return
            if len(self.buffer) < end + sep + size:
                return
            request.body = bytes(self.buffer[end + sep : end + sep + size])
            del self.buffer[: end + sep + size]
            self.queue.put_nowait(request)

    # ---- helpers

    def reset(self) -> None:
        """Drop the connection with a TCP reset, as a device that just lost power or link does."""
        transport = self.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    def _check_idle(self) -> None:
        """Close the connection once the session timeout passes without a request (keep-alive)."""
        loop = asyncio.get_running_loop()
        due = self.last_request + self.server.session_timeout
        if loop.time() >= due:
            log.debug("rtsp %s: no keep-alive for %ss, closing", self.server.host, self.server.session_timeout)
            self.timer = None
            if self.transport is not None:
                self.transport.close()
        else:
            self.timer = loop.call_at(due, self._check_idle)

    async def _serve(self) -> None:
        while True:
            item = await self.queue.get()
            await self.server.faults.delay()
            if self.server.faults.unreachable:
                self.reset()
                return
            if isinstance(item, Reply):
                reply, cseq = item, None
            else:
                self.last_request = asyncio.get_running_loop().time()
                cseq = item.cseq
                try:
                    reply = await self.server.handle(self, item)
                except Exception:  # the client gets what a device would say, never a traceback
                    log.exception("rtsp %s: %s %s failed", self.server.host, item.method, item.url)
                    reply = Reply(500)
            self._send(reply, cseq)
            if reply.close:
                if self.transport is not None:
                    self.transport.close()
                return
            if reply.then is not None:
                reply.then()

    def _send(self, reply: Reply, cseq: str | None) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        lines = [f"RTSP/1.0 {reply.status} {REASONS.get(reply.status, 'Error')}"]
        if cseq is not None:
            lines.append(f"CSeq: {cseq}")
        if self.server.server_header:
            lines.append(f"Server: {self.server.server_header}")
        lines += [f"{k}: {v}" for k, v in reply.headers]
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        if reply.body:
            lines.append(f"Content-Length: {len(reply.body)}")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + reply.body)
