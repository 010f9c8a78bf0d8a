"""The exporter's listening socket: optional TLS, and a deadline on reading each request's head.

Why: aiohttp has no header read timeout; its only guard is the keep-alive timeout (3,630 s in
aiohttp 3.14), so a client that connects and sends nothing, or half a request line, or one byte
a second, held its connection for an hour (150 s with older releases: issue 15, item 7). Here a
request's head (request line and headers) must arrive whole within ``head_timeout_s`` of the
connection being accepted, or of its first byte on a kept-alive connection; a TLS handshake
gets the same bound. Otherwise the connection is closed. An idle kept-alive connection between
two scrapes (no byte of a new request yet) is closed after ``idle_timeout_s``, aiohttp's
keep-alive timeout. The requests the exporter serves are GETs without a body, so the head is
the whole request; a body, if sent, gets aiohttp's ``lingering_time`` after the answer, no more.

The server is one asyncio loop, not a thread per connection: a connection waiting for its head
holds a few KiB and a file descriptor, never a thread, and cannot starve a scrape; the
deadline is what bounds how many a slow or hostile client can hold.

By hand (the connection closes after 10 s)::

    .venv/bin/camfleet exporter --inventory inventory/ngoc-lac &
    (printf 'GET /met'; sleep 60) | nc -v 127.0.0.1 9830
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web

#: The end of a request's head (``\n\n`` too: parsers accept bare newlines).
HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class HeadDeadline(asyncio.Protocol):
    """Wraps aiohttp's per-connection protocol; closes the connection when a request's head is late."""

    def __init__(self, inner: asyncio.Protocol, timeout: float, on_timeout: Callable[[], None]) -> None:
        self.inner = inner
        self.timeout = timeout
        self.on_timeout = on_timeout
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.tail = b""  # the last bytes seen while a head is arriving (an end may span two reads)
        #: Loop time the current request began to arrive (connection accepted, or its first byte on a
        #: kept-alive connection): the server starts a probe's budget here, not when its handler runs.
        self.head_started = 0.0

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self.head_started = loop.time()
        self.timer = loop.call_later(self.timeout, self._expired)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.tail = b""

    def _expired(self) -> None:
        self.timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.on_timeout()
            self.transport.abort()  # nothing to say to a client that did not finish asking

    # asyncio.Protocol, forwarded -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.inner.connection_made(transport)
        self._arm()  # a connection that never sends a byte is a head that never arrives

    def data_received(self, data: bytes) -> None:
        if self.timer is None and data:
            self._arm()  # the first byte of a next request on a kept-alive connection
        if self.timer is not None:
            seen = self.tail + data
            ends = [i for i in (seen.rfind(end) for end in HEAD_ENDS) if i >= 0]
            if ends:
                self._disarm()
                # Bytes after the head (a pipelined request) restart the clock for that request.
                rest = seen[max(ends) :].lstrip(b"\r\n")
                if rest:
                    self._arm()
                    self.tail = rest[-3:]
            else:
                self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GuardedSite(web.BaseSite):
    """Like aiohttp's ``TCPSite``, with :class:`HeadDeadline` on every connection."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        head_timeout_s: float,
        on_timeout: Callable[[], None] = lambda: None,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = 1024,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=backlog)
        self._host, self._port = host, port
        self._head_timeout_s = head_timeout_s
        self._on_timeout = on_timeout

    @property
    def name(self) -> str:
        return f"{'https' if self._ssl_context else 'http'}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        timeout, on_timeout = self._head_timeout_s, self._on_timeout

        def factory() -> asyncio.Protocol:
            return HeadDeadline(server(), timeout, on_timeout)

        kwargs: dict[str, Any] = {}
        if self._ssl_context is not None:
            kwargs["ssl_handshake_timeout"] = timeout
        self._server = await asyncio.get_running_loop().create_server(
            factory,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=True,
            **kwargs,
        )
