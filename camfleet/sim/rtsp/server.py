"""A simulated camera's RTSP service: the listener that follows the device's faults, the method
handlers (OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_/SET_PARAMETER) and the auth gate.

Why here: this is the dialogue of device-apis.md §4 in one place: OPTIONS without auth (once
activated), DESCRIBE behind digest, SETUP over TCP interleaved or unicast UDP (``client_port=``:
a server port pair on the device's own address, sending only to a loopback client, else ``403``;
multicast gets ``461 Unsupported Transport``), PLAY with RTP-Info. An unreachable device closes its listening socket
(connects are refused) and resets open connections; behind a dead link (``Faults.blackholed``) a
:class:`~camfleet.sim.blackhole.Blackhole` takes the port instead, so connects time out. A timer
checks every 0.5 s, and a connection accepted in that window is reset at once; the listener
re-opens on the same port. ``play_stall`` never answers PLAY (a frozen encoder that stalls).

Reproduce by hand::

    .venv/bin/python -m camfleet.sim.rtsp --host 127.0.0.9 --port 8554 &
    ffprobe -rtsp_transport tcp -show_streams rtsp://admin:Passw0rd-1@127.0.0.9:8554/Streaming/Channels/101
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable

from camfleet.sim.blackhole import Blackhole
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.media import Clip, MediaError, StreamSpec, cached_clip, clip_for
from camfleet.sim.rtsp.auth import RtspDigest
from camfleet.sim.rtsp.connection import RtspConnection
from camfleet.sim.rtsp.messages import KNOWN_NOT_ALLOWED, PUBLIC, Reply, Request, clean_url, split_track, target
from camfleet.sim.rtsp.resolvers import Resolver
from camfleet.sim.rtsp.sdp import Style, build_sdp
from camfleet.sim.rtsp.session import Session
from camfleet.sim.rtsp.udp import UdpPair, UdpRefused

log = logging.getLogger("camfleet.sim.rtsp")

DEFAULT_SESSION_TIMEOUT_S = 60
_RETRY_S = 0.5  # a port briefly held (listen again, blackhole): tried again after this
_WATCH_INTERVAL_S = 10.0  # a safety net only: every change of the faults is followed at once (Faults.subscribe)


class RtspServer:
    """A simulated camera's RTSP service on ``host:port`` (RTP interleaved over TCP, or unicast UDP).

    ``users`` returns the current username → password map; an empty map means the
    device is not activated and every request gets 401. ``resolve`` maps a URL's
    path and query to a stream (see :func:`hikvision_resolver`, :func:`dahua_resolver`).
    """

    def __init__(
        self,
        host: str,
        port: int,
        realm: str,
        users: Callable[[], dict[str, str]],
        resolve: Resolver,
        faults: Faults,
        server_header: str | None = None,
        *,
        style: Style = "hikvision",
        allow_basic: bool = False,
        session_timeout: int = DEFAULT_SESSION_TIMEOUT_S,
    ) -> None:
        self.host = host
        self._port = port
        self.auth = RtspDigest(realm, users, allow_basic)
        self.resolve = resolve
        self.faults = faults
        self.server_header = server_header
        self.style: Style = style
        self.session_timeout = session_timeout
        self.connections: set[RtspConnection] = set()
        self._listener: asyncio.Server | None = None
        self._blackhole: Blackhole | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._reopening: asyncio.Task[None] | None = None
        self._running = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        return self._port

    @property
    def listening(self) -> bool:
        return self._listener is not None

    @property
    def playing(self) -> int:
        """How many sessions are sending RTP now."""
        return sum(1 for c in self.connections if c.session is not None and c.session.playing)

    async def start(self) -> None:
        self._running = True
        self._loop = asyncio.get_running_loop()
        if not self.faults.unreachable:
            await self._listen()
        self.faults.subscribe(self._faults_changed)
        self._arm(_WATCH_INTERVAL_S)

    async def stop(self) -> None:
        self._running = False
        self.faults.unsubscribe(self._faults_changed)
        if self._watch is not None:
            self._watch.cancel()
        if self._reopening is not None:
            self._reopening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reopening
        self._close_listener()
        self._close_blackhole()
        workers = [c.worker for c in self.connections if c.worker is not None]
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await asyncio.sleep(0)  # let connection_lost run and cancel the workers
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(
            lambda: RtspConnection(self), self.host, self._port, reuse_address=True
        )
        self._port = self._listener.sockets[0].getsockname()[1]
        log.debug("rtsp listening on %s:%s", self.host, self._port)

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _close_blackhole(self) -> None:
        if self._blackhole is not None:
            self._blackhole.close()
            self._blackhole = None

    def _arm(self, delay: float) -> None:
        """Check reachability after ``delay`` (sooner than a check already due replaces it)."""
        if not self._running:
            return
        loop = asyncio.get_running_loop()
        if self._watch is not None:
            if self._watch.when() <= loop.time() + delay:
                return
            self._watch.cancel()
        self._watch = loop.call_later(delay, self._check_reachable)

    def _faults_changed(self) -> None:
        """The device's faults changed (a fault set or cleared, its link router down or back): follow
        at once. Polling 10,000 idle cameras twice a second cost a tenth of a simulator's CPU."""
        if self._running and self._loop is not None:
            self._loop.call_soon_threadsafe(self._arm, 0)  # changes may come from another thread

    def _check_reachable(self) -> None:
        """Close the listener while the device is unreachable (true refusal, or a blackhole behind a
        dead link), re-open after."""
        self._watch = None
        if not self._running:
            return
        retry = False
        if self.faults.unreachable:
            if self._listener is not None:
                self._close_listener()
            for conn in list(self.connections):
                conn.reset()
            if self.faults.blackholed and self._blackhole is None and self._port:
                try:
                    self._blackhole = Blackhole(self.host, self._port)
                except OSError as exc:  # the port is briefly held: try again soon
                    log.warning("rtsp %s:%s cannot blackhole yet: %s", self.host, self._port, exc)
                    retry = True
            elif not self.faults.blackholed:
                self._close_blackhole()
        elif self._listener is None and self._reopening is None:
            self._close_blackhole()
            self._reopening = asyncio.get_running_loop().create_task(self._reopen())
        self._arm(_RETRY_S if retry else _WATCH_INTERVAL_S)

    async def _reopen(self) -> None:
        try:
            await self._listen()
        except OSError as exc:  # port briefly taken: try again soon
            log.warning("rtsp %s:%s cannot listen again yet: %s", self.host, self._port, exc)
            if self._running:
                self._arm(_RETRY_S)
        finally:
            self._reopening = None

    # ---- request handling

    async def handle(self, conn: RtspConnection, req: Request) -> Reply:
        if req.cseq is None:
            return Reply(400)
        if req.version != "RTSP/1.0":
            return Reply(505)
        if req.url != "*" and not req.url.lower().startswith("rtsp://"):
            return Reply(400)
        if "require" in req.headers:
            return Reply(551, [("Unsupported", req.headers["require"])])
        if req.method in KNOWN_NOT_ALLOWED:
            return Reply(405, [("Allow", PUBLIC)])
        handler = _HANDLERS.get(req.method)
        if handler is None:
            return Reply(501)
        activated = bool(self.auth.users())
        if req.method != "OPTIONS" or not activated:
            verdict = self.auth.check(req.method, req.headers.get("authorization"))
            if verdict != "ok" or self.faults.has(Fault.locked):
                return Reply(401, self.auth.challenge(stale=verdict == "stale"))
        return await handler(self, conn, req)

    def _session_of(self, conn: RtspConnection, req: Request) -> Session | Reply:
        sid = req.headers.get("session", "").split(";")[0].strip()
        if conn.session is None or sid != conn.session.id:
            return Reply(454)
        return conn.session

    async def _clip(self, spec: StreamSpec | Callable[[], Clip]) -> Clip:
        if not isinstance(spec, StreamSpec):
            return await asyncio.to_thread(spec)  # a recorder's footage: made on demand, off the loop
        clip = cached_clip(spec)
        # First use of a spec runs ffmpeg; keep the loop (and every other camera) responsive meanwhile.
        return clip if clip is not None else await asyncio.to_thread(clip_for, spec)

    async def _options(self, conn: RtspConnection, req: Request) -> Reply:
        return Reply(200, [("Public", PUBLIC)])

    async def _describe(self, conn: RtspConnection, req: Request) -> Reply:
        url = clean_url(req.url)
        spec = self.resolve(target(url))
        if spec is None:
            return Reply(404)
        try:
            clip = await self._clip(spec)
        except MediaError as exc:
            log.error("rtsp %s: %s", self.host, exc)
            return Reply(500)
        base = url if url.endswith("/") else url + "/"
        sdp = build_sdp(clip, base, self.style, str(secrets.randbelow(10**12)), self.host)
        headers = [("Content-Type", "application/sdp"), ("Content-Base", base)]
        return Reply(200, headers, sdp.encode())

    async def _setup(self, conn: RtspConnection, req: Request) -> Reply:
        url = clean_url(req.url)
        stream_url, track = split_track(url)
        spec = self.resolve(target(stream_url))
        if spec is None or track not in (None, 0 if self.style == "dahua" else 1):
            return Reply(404)
        offers = [t.strip() for t in req.headers.get("transport", "").split(",") if t.strip()]
        # The client's order decides (RFC 2326 §12.39); multicast is not offered by these cameras.
        offer = next((t for t in offers if _UDP.match(t) or t.upper().startswith("RTP/AVP/TCP")), None)
        if offer is None or "multicast" in offer.lower():
            return Reply(461)
        udp_ports = _UDP.match(offer)
        channel = 0
        if udp_ports is None:
            m = re.search(r"interleaved=(\d+)(?:-(\d+))?", offer)
            channel = int(m.group(1)) if m else 0
            if channel > 254:
                return Reply(400)
        if "session" in req.headers:
            found = self._session_of(conn, req)
            if isinstance(found, Reply):
                return found
            found.close()
        if conn.session is not None:  # one session per connection: the new one replaces it, ports released
            conn.session.close()
        clip = await self._clip(spec)
        udp: UdpPair | None = None
        if udp_ports is not None:
            udp = await self._udp_pair(conn, offer, udp_ports)
            if udp is None:
                return Reply(403)
        conn.session = session = Session(conn, clip, url, channel, udp)
        if udp is not None and udp_ports is not None:
            kind, (low, high) = udp_ports.group(1), udp.server_ports
            transport = (
                f"{kind};unicast;client_port={udp.client_rtp}-{udp.client_rtcp};server_port={low}-{high};"
                f'ssrc={session.ssrc:08x};mode="play"'
            )
        else:
            transport = f'RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1};ssrc={session.ssrc:08x};mode="play"'
        headers = [("Session", f"{session.id};timeout={self.session_timeout}"), ("Transport", transport)]
        return Reply(200, headers)

    async def _udp_pair(self, conn: RtspConnection, offer: str, ports: re.Match[str]) -> UdpPair | None:
        """Server ports for a UDP offer, sending to the client's own address (or its ``destination=``)
        only if that is loopback: the simulator never sends a packet off the machine."""
        low = int(ports.group(2))
        high = int(ports.group(3)) if ports.group(3) else low + 1
        dest = re.search(r"destination=([^;]+)", offer, re.IGNORECASE)
        peer = conn.transport.get_extra_info("peername") if conn.transport is not None else None
        client = dest.group(1) if dest else (peer[0] if peer else "")
        if not (0 < low < 65536 and 0 < high < 65536):
            return None
        try:
            return await UdpPair.open(self.host, client, (low, high))
        except UdpRefused as exc:
            log.warning("rtsp %s: SETUP over UDP refused: %s", self.host, exc)
            return None

    async def _play(self, conn: RtspConnection, req: Request) -> Reply:
        session = self._session_of(conn, req)
        if isinstance(session, Reply):
            return session
        if self.faults.has(Fault.play_stall):  # the encoder is stuck: PLAY is never answered
            await asyncio.Event().wait()
        info = f"url={session.url};seq={session.seq};rtptime={session.rtptime(session.tick_no)}"
        headers = [
            ("Session", session.id),
            ("Range", "npt=now-" if self.style == "dahua" else "npt=0.000-"),
            ("RTP-Info", info),
        ]
        return Reply(200, headers, then=session.play)

    async def _pause(self, conn: RtspConnection, req: Request) -> Reply:
        session = self._session_of(conn, req)
        if isinstance(session, Reply):
            return session
        session.pause()
        return Reply(200, [("Session", session.id)])

    async def _teardown(self, conn: RtspConnection, req: Request) -> Reply:
        session = self._session_of(conn, req)
        if isinstance(session, Reply):
            return session
        session.close()
        conn.session = None
        return Reply(200, [("Session", session.id)], close=True)

    async def _parameter(self, conn: RtspConnection, req: Request) -> Reply:
        """GET_/SET_PARAMETER: the keep-alive; with a Session header it must be ours."""
        if "session" not in req.headers:
            return Reply(200)
        session = self._session_of(conn, req)
        if isinstance(session, Reply):
            return session
        return Reply(200, [("Session", f"{session.id};timeout={self.session_timeout}")])


#: A unicast UDP offer: ``RTP/AVP`` or ``RTP/AVP/UDP`` with the client's RTP(-RTCP) ports.
_UDP = re.compile(r"^(RTP/AVP(?:/UDP)?);(?=.*\bclient_port=(\d{1,5})(?:-(\d{1,5}))?)", re.IGNORECASE)

_HANDLERS = {
    "OPTIONS": RtspServer._options,
    "DESCRIBE": RtspServer._describe,
    "SETUP": RtspServer._setup,
    "PLAY": RtspServer._play,
    "PAUSE": RtspServer._pause,
    "TEARDOWN": RtspServer._teardown,
    "GET_PARAMETER": RtspServer._parameter,
    "SET_PARAMETER": RtspServer._parameter,
}
