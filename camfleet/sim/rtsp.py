"""A camera's RTSP/1.0 server on loopback: digest auth, vendor-like SDP, real H.264/H.265 over TCP.

Stream probes, NVRs and ffprobe must see what they see on a real Hikvision or
Dahua camera, so this server speaks the same dialogue (device-apis.md §4):
OPTIONS without auth, DESCRIBE behind HTTP Digest (MD5, no qop offered, qop
accepted), an SDP in the vendor's style, SETUP over TCP interleaved only (UDP
and multicast get ``461 Unsupported Transport``), PLAY with RTP-Info and then
RTP paced in real time at the stream's frame rate, FU-A/FU fragmentation,
parameter sets before every keyframe, an RTCP sender report every 5 s, and a
session that dies after its advertised timeout without a keep-alive.

Everything runs on one asyncio loop with no thread per client: a connection is
an :class:`asyncio.Protocol` with one small worker task for its requests, and a
playing session is a chain of ``loop.call_at`` timers that writes one frame per
tick from RTP payloads shared by every session of the same clip.

Faults (``camfleet.sim.faults``) are read on every connection, request and frame:

- ``offline`` / ``link_down`` / bricked / upstream down (``Faults.unreachable``):
  the listening socket is closed, so connects are *refused*; open connections
  are reset. A per-server timer checks every 0.5 s; a connection accepted in
  that window is reset at once. The listener re-opens on the same port when
  the fault clears.
- ``hang``: connections are accepted and never answered.
- ``slow``: every reply waits ``delay_s``.
- ``frozen``: every reply is normal, PLAY says 200, but no RTP is sent.
- ``locked``: every request that needs auth gets 401, right password or not.

Reproduce by hand::

    .venv/bin/python -m camfleet.sim.rtsp --host 127.0.0.9 --port 8554 &
    ffprobe -rtsp_transport tcp -show_streams rtsp://admin:Passw0rd-1@127.0.0.9:8554/Streaming/Channels/101
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import email.utils
import functools
import hashlib
import hmac
import logging
import re
import secrets
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from camfleet.sim.faults import Fault, Faults
from camfleet.sim.media import Clip, MediaError, StreamSpec, cached_clip, clip_for

log = logging.getLogger(__name__)

Resolver = Callable[[str], StreamSpec | None]
Style = Literal["hikvision", "dahua"]

#: What Hikvision lists in ``Public`` (Dahua's list is the same set).
PUBLIC = "OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER"
_KNOWN_NOT_ALLOWED = {"ANNOUNCE", "RECORD", "REDIRECT"}
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "RTSP Version not supported",
    551: "Option not supported",
}
PAYLOAD_TYPE = 96
CLOCK_RATE = 90_000
#: Largest RTP payload; NAL units above it are fragmented (FU-A / H.265 FU), as cameras do for a 1500 MTU.
MTU_PAYLOAD = 1400
DEFAULT_SESSION_TIMEOUT_S = 60
_MAX_HEADER = 16 * 1024
_MAX_BODY = 64 * 1024
#: Frames are dropped (and the stream resumes at the next keyframe) while a slow reader has this much queued.
_MAX_WRITE_BUFFER = 1 << 20
_SR_INTERVAL_S = 5
_NONCE_LIFETIME_S = 300
_WATCH_INTERVAL_S = 0.5  # 1,000 idle cameras cost ~2 % of a core at this rate
#: ``$``, channel, length, then the 12-byte RTP header: V=2, M|PT, seq, timestamp, SSRC.
_RTP = struct.Struct("!BBHBBHII")
_NTP_EPOCH = 2_208_988_800
_METHOD = re.compile(r"[A-Za-z_]+")  # GET_PARAMETER has an underscore
_HIK_MEDIA_HEADER = "494D4B48010100000400000100000000000000000000000000000000000000000000000000000000"


# --------------------------------------------------------------------------- URL families


def hikvision_resolver(main: StreamSpec, sub: StreamSpec | None = None, channel: int = 1) -> Resolver:
    """Hikvision live URLs: ``/Streaming/Channels/101`` (main), ``/102`` (sub).

    Case-insensitive, an ``/ISAPI`` prefix and a query such as ``?transportmode=unicast``
    are tolerated, as are the legacy ``/h264/ch1/main/av_stream`` and ``/h264/ch1/sub/av_stream``.
    Playback URLs (``/Streaming/tracks/101?starttime=...``, what an NVR's search returns)
    play the same clip: the simulator has no recorded footage, only a stream a client can read.
    """
    streams = {channel * 100 + 1: main, **({channel * 100 + 2: sub} if sub else {})}
    legacy = {"main": main, **({"sub": sub} if sub else {})}
    channels = re.compile(r"^(?:/isapi)?/streaming/(?:channels|tracks)/(\d+)/?$")
    old = re.compile(rf"^/h264/ch{channel}/(main|sub)/av_stream/?$")

    def resolve(target: str) -> StreamSpec | None:
        path = urlsplit(target).path.lower()
        if m := channels.match(path):
            return streams.get(int(m.group(1)))
        if m := old.match(path):
            return legacy.get(m.group(1))
        return None

    return resolve


def dahua_resolver(main: StreamSpec, sub: StreamSpec | None = None, channel: int = 1) -> Resolver:
    """Dahua live URLs: ``/cam/realmonitor?channel=1&subtype=0`` (main), ``subtype=1`` (sub).

    ``subtype`` defaults to 0; extra parameters (``unicast=true&proto=Onvif``) are ignored.
    Playback (``/cam/playback?channel=1&starttime=...``) plays the same clip as live.
    """
    streams = {"0": main, **({"1": sub} if sub else {})}

    def resolve(target: str) -> StreamSpec | None:
        parts = urlsplit(target)
        if parts.path.rstrip("/").lower() not in ("/cam/realmonitor", "/cam/playback"):
            return None
        query = {k.lower(): v[-1].strip("/") for k, v in parse_qs(parts.query).items()}
        if query.get("channel") != str(channel):
            return None
        return streams.get(query.get("subtype", "0"))

    return resolve


# --------------------------------------------------------------------------- RTP payloads shared by sessions


@dataclass(frozen=True)
class RtpFrame:
    """The RTP payloads of one access unit (parameter sets first on keyframes); marker goes on the last."""

    payloads: tuple[bytes, ...]
    keyframe: bool


def _fragment(nal: bytes, h264: bool, mtu: int) -> list[bytes]:
    """Single NAL unit packet, or FU-A (RFC 6184) / FU (RFC 7798) fragments."""
    if len(nal) <= mtu:
        return [nal]
    if h264:
        head, kind, body = bytes([(nal[0] & 0xE0) | 28]), nal[0] & 0x1F, nal[1:]
    else:
        head, kind, body = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]]), (nal[0] >> 1) & 0x3F, nal[2:]
    step = mtu - len(head) - 1
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    last = len(chunks) - 1
    return [
        head + bytes([(0x80 if i == 0 else 0) | (0x40 if i == last else 0) | kind]) + c for i, c in enumerate(chunks)
    ]


@functools.cache
def rtp_frames(clip: Clip, mtu: int = MTU_PAYLOAD) -> tuple[RtpFrame, ...]:
    """Packetize a clip once; every session of that clip reuses the same bytes."""
    h264 = clip.spec.codec == "h264"
    frames = []
    for unit in clip.frames:
        nals = (*clip.parameter_sets, *unit.nals) if unit.keyframe else unit.nals
        frames.append(RtpFrame(tuple(p for nal in nals for p in _fragment(nal, h264, mtu)), unit.keyframe))
    return tuple(frames)


# --------------------------------------------------------------------------- RTSP messages


@dataclass
class Request:
    method: str
    url: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def cseq(self) -> str | None:
        return self.headers.get("cseq")


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    close: bool = False
    then: Callable[[], None] | None = None  # run once the reply is on the wire (PLAY starts RTP)


def parse_request(head: bytes) -> Request | None:
    """Request line and headers; ``None`` when they are not RTSP at all."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _METHOD.fullmatch(parts[0]) or not parts[2].startswith("RTSP/"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0].upper(), parts[1], parts[2], headers)


def _digest_fields(header: str) -> dict[str, str]:
    return {k.lower(): v1 if v1 else v2 for k, v1, v2 in re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))', header)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class RtspDigest:
    """RFC 2617 digest as cameras do it: MD5, no qop offered, qop=auth accepted; Basic only if allowed.

    Nonces are stateless (an HMAC of their issue time), so a thousand cameras
    keep no nonce table and a client may reuse a nonce with ``nc`` + 1.
    """

    def __init__(self, realm: str, users: Callable[[], dict[str, str]], allow_basic: bool = False) -> None:
        self.realm = realm
        self.users = users
        self.allow_basic = allow_basic
        self._secret = secrets.token_bytes(16)

    def _nonce(self, issued: int) -> str:
        stamp = f"{issued:08x}"
        return hmac.new(self._secret, stamp.encode(), "sha256").hexdigest()[:24] + stamp

    def _nonce_age(self, nonce: str) -> float | None:
        """Seconds since issue, or None when the nonce is not one of ours."""
        if len(nonce) != 32:
            return None
        try:
            issued = int(nonce[24:], 16)
        except ValueError:
            return None
        return time.time() - issued if hmac.compare_digest(self._nonce(issued), nonce) else None

    def challenge(self, stale: bool = False) -> list[tuple[str, str]]:
        nonce = self._nonce(int(time.time()))
        headers = [("WWW-Authenticate", f'Digest realm="{self.realm}", nonce="{nonce}", stale="{str(stale).upper()}"')]
        if self.allow_basic:
            headers.append(("WWW-Authenticate", f'Basic realm="{self.realm}"'))
        return headers

    def check(self, method: str, authorization: str | None) -> Literal["ok", "stale", "denied"]:
        users = self.users()
        if not users or not authorization:
            return "denied"
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() == "basic" and self.allow_basic:
            try:
                user, _, password = base64.b64decode(rest.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return "denied"
            ok = user in users and hmac.compare_digest(users[user].encode(), password.encode())
            return "ok" if ok else "denied"
        if scheme.lower() != "digest":
            return "denied"
        f = _digest_fields(rest)
        user, nonce, uri, response = f.get("username", ""), f.get("nonce", ""), f.get("uri"), f.get("response", "")
        if user not in users or uri is None or f.get("realm") != self.realm:
            return "denied"
        if f.get("algorithm", "MD5").upper() != "MD5":
            return "denied"
        age = self._nonce_age(nonce)
        if age is None:
            return "denied"
        ha1 = _md5(f"{user}:{self.realm}:{users[user]}")
        ha2 = _md5(f"{method}:{uri}")
        qop = f.get("qop")
        if qop:
            expected = _md5(f"{ha1}:{nonce}:{f.get('nc', '')}:{f.get('cnonce', '')}:{qop}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        if not hmac.compare_digest(expected, response.lower()):
            return "denied"
        return "stale" if age > _NONCE_LIFETIME_S else "ok"


# --------------------------------------------------------------------------- SDP


def _split_track(url: str) -> tuple[str, int | None]:
    """``.../101/trackID=1`` → (``.../101``, 1); Dahua's ``...subtype=0/trackID=0`` works the same."""
    if m := re.search(r"/trackID=(\d+)/?$", url, re.IGNORECASE):
        return url[: m.start()], int(m.group(1))
    return url.rstrip("/"), None


def _target(url: str) -> str:
    """Path and query of an rtsp:// URL (what a resolver is given)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _clean_url(url: str) -> str:
    """The URL without credentials, as a camera echoes it in Content-Base."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()


def build_sdp(clip: Clip, base: str, style: Style, session_id: str, host: str) -> str:
    """An SDP in the vendor's style (device-apis.md §4.2); ``base`` ends with ``/``."""
    spec = clip.spec
    rtpmap = f"a=rtpmap:{PAYLOAD_TYPE} {clip.encoding_name}/{CLOCK_RATE}"
    if style == "dahua":
        lines = [
            "v=0",
            f"o=- {session_id} {session_id} IN IP4 {host}",
            "s=Media Server",
            "c=IN IP4 0.0.0.0",
            "t=0 0",
            "a=control:*",
            "a=packetization-supported:DH",
            "a=rtppayload-supported:DH",
            "a=range:npt=now-",
            f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
            "a=control:trackID=0",
            f"a=framerate:{spec.fps:.6f}",
            rtpmap,
            f"a=fmtp:{PAYLOAD_TYPE} {clip.fmtp}",
            "a=recvonly",
        ]
    else:
        # Hikvision: absolute control URLs, x-dimensions; its H.265 SDPs often carry no fmtp at all,
        # so clients must take VPS/SPS/PPS from the stream (which is sent before every keyframe).
        if clip.vps is None:
            fmtp = [
                f"a=fmtp:{PAYLOAD_TYPE} profile-level-id={clip.profile_level_id}; packetization-mode=1; "
                f"sprop-parameter-sets={clip.sprop_parameter_sets}"
            ]
        else:
            fmtp = []
        lines = [
            "v=0",
            f"o=- {session_id} {session_id} IN IP4 {host}",
            "s=Media Presentation",
            "e=NONE",
            f"b=AS:{spec.bitrate_kbps + 50}",
            "t=0 0",
            f"a=control:{base}",
            f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
            "c=IN IP4 0.0.0.0",
            f"b=AS:{spec.bitrate_kbps}",
            "a=recvonly",
            f"a=x-dimensions:{spec.width},{spec.height}",
            f"a=framerate:{spec.fps}",
            f"a=control:{base}trackID=1",
            rtpmap,
            *fmtp,
            f"a=Media_header:MEDIAINFO={_HIK_MEDIA_HEADER};",
            "a=appversion:1.0",
        ]
    return "\r\n".join(lines) + "\r\n"


# --------------------------------------------------------------------------- sessions


class Session:
    """One PLAYable stream on one TCP connection, paced by a chain of loop timers (no task)."""

    def __init__(self, conn: RtspConnection, clip: Clip, url: str, channel: int) -> None:
        self.conn = conn
        self.clip = clip
        self.frames = rtp_frames(clip)
        self.url = url
        self.channel = channel
        self.id = str(secrets.randbelow(9 * 10**8) + 10**8)
        self.ssrc = secrets.randbits(32)
        self.seq = secrets.randbits(16)
        self.ts_base = secrets.randbits(32)
        self.tick_no = 0  # frame slots since PLAY; drives the clip position and the RTP clock
        self.t0 = 0.0
        self.handle: asyncio.Handle | None = None
        self.need_key = True
        self.packets = 0
        self.octets = 0
        self.last_sr = -_SR_INTERVAL_S * 1.0

    @property
    def playing(self) -> bool:
        return self.handle is not None

    def rtptime(self, tick: int) -> int:
        return (self.ts_base + tick * CLOCK_RATE // self.clip.spec.fps) & 0xFFFFFFFF

    def play(self) -> None:
        if self.handle is None:
            loop = asyncio.get_running_loop()
            self.t0 = loop.time() - self.tick_no / self.clip.spec.fps
            self.need_key = True
            self.handle = loop.call_soon(self._tick)

    def pause(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _tick(self) -> None:
        conn, fps = self.conn, self.clip.spec.fps
        faults = conn.server.faults
        if faults.unreachable:
            self.handle = None
            conn.reset()
            return
        transport = conn.transport
        if transport is None or transport.is_closing():
            self.handle = None
            return
        frame = self.frames[self.tick_no % len(self.frames)]
        if faults.has(Fault.frozen) or transport.get_write_buffer_size() > _MAX_WRITE_BUFFER:
            self.need_key = True
        elif frame.keyframe or not self.need_key:
            self.need_key = False
            transport.write(self._packets(frame, self.rtptime(self.tick_no)))
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.packets and now - self.last_sr >= _SR_INTERVAL_S:
            self.last_sr = now
            transport.write(self._sender_report(self.rtptime(self.tick_no)))
        self.tick_no += 1
        due = self.t0 + self.tick_no / fps
        if due < now - 1.0:  # the loop stalled for over a second: skip ahead rather than burst
            self.t0 = now - self.tick_no / fps
            due = now
        self.handle = loop.call_at(due, self._tick)

    def _packets(self, frame: RtpFrame, ts: int) -> bytes:
        pack, ch, seq, ssrc = _RTP.pack, self.channel, self.seq, self.ssrc
        parts: list[bytes] = []
        last = len(frame.payloads) - 1
        for i, payload in enumerate(frame.payloads):
            mark = 0x80 if i == last else 0
            parts.append(pack(0x24, ch, len(payload) + 12, 0x80, mark | PAYLOAD_TYPE, seq, ts, ssrc))
            parts.append(payload)
            seq = (seq + 1) & 0xFFFF
            self.octets += len(payload)
        self.packets += len(frame.payloads)
        self.seq = seq
        return b"".join(parts)

    def _sender_report(self, ts: int) -> bytes:
        ntp = time.time() + _NTP_EPOCH
        sec = int(ntp)
        frac = int((ntp - sec) * (1 << 32)) & 0xFFFFFFFF
        body = struct.pack(
            "!BBHIIIIII", 0x80, 200, 6, self.ssrc, sec & 0xFFFFFFFF, frac, ts, self.packets, self.octets & 0xFFFFFFFF
        )
        return struct.pack("!BBH", 0x24, self.channel + 1, len(body)) + body


# --------------------------------------------------------------------------- connections


class RtspConnection(asyncio.Protocol):
    """One client TCP connection: frames requests, answers them in order, owns at most one session."""

    def __init__(self, server: RtspServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.queue: asyncio.Queue[Request | Reply] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.session: Session | None = None
        self.last_request = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # ---- transport events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
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
            self.session.pause()
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
                if len(self.buffer) > _MAX_HEADER:
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
            if size > _MAX_BODY:  # no RTSP request a camera accepts carries more than a small body
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


# --------------------------------------------------------------------------- the server


class RtspServer:
    """A simulated camera's RTSP service on ``host:port`` (TCP interleaved only).

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
        self._watch: asyncio.TimerHandle | None = None
        self._reopening: asyncio.Task[None] | None = None
        self._running = False

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
        if not self.faults.unreachable:
            await self._listen()
        self._watch = asyncio.get_running_loop().call_later(_WATCH_INTERVAL_S, self._check_reachable)

    async def stop(self) -> None:
        self._running = False
        if self._watch is not None:
            self._watch.cancel()
        if self._reopening is not None:
            self._reopening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reopening
        self._close_listener()
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

    def _check_reachable(self) -> None:
        """Close the listener while the device is unreachable (true refusal), re-open after."""
        if not self._running:
            return
        if self.faults.unreachable:
            if self._listener is not None:
                self._close_listener()
            for conn in list(self.connections):
                conn.reset()
        elif self._listener is None and self._reopening is None:
            self._reopening = asyncio.get_running_loop().create_task(self._reopen())
        self._watch = asyncio.get_running_loop().call_later(_WATCH_INTERVAL_S, self._check_reachable)

    async def _reopen(self) -> None:
        try:
            await self._listen()
        except OSError as exc:  # port briefly taken: try again on the next check
            log.warning("rtsp %s:%s cannot listen again yet: %s", self.host, self._port, exc)
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
        if req.method in _KNOWN_NOT_ALLOWED:
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

    async def _clip(self, spec: StreamSpec) -> Clip:
        clip = cached_clip(spec)
        # First use of a spec runs ffmpeg; keep the loop (and every other camera) responsive meanwhile.
        return clip if clip is not None else await asyncio.to_thread(clip_for, spec)

    async def _options(self, conn: RtspConnection, req: Request) -> Reply:
        return Reply(200, [("Public", PUBLIC)])

    async def _describe(self, conn: RtspConnection, req: Request) -> Reply:
        url = _clean_url(req.url)
        spec = self.resolve(_target(url))
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
        url = _clean_url(req.url)
        stream_url, track = _split_track(url)
        spec = self.resolve(_target(stream_url))
        if spec is None or track not in (None, 0 if self.style == "dahua" else 1):
            return Reply(404)
        offers = [t.strip() for t in req.headers.get("transport", "").split(",") if t.strip()]
        tcp = next((t for t in offers if t.upper().startswith("RTP/AVP/TCP") and "multicast" not in t.lower()), None)
        if tcp is None:
            return Reply(461)
        m = re.search(r"interleaved=(\d+)(?:-(\d+))?", tcp)
        channel = int(m.group(1)) if m else 0
        if channel > 254:
            return Reply(400)
        if "session" in req.headers:
            found = self._session_of(conn, req)
            if isinstance(found, Reply):
                return found
            found.pause()
        clip = await self._clip(spec)
        conn.session = session = Session(conn, clip, url, channel)
        transport = f'RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1};ssrc={session.ssrc:08x};mode="play"'
        headers = [("Session", f"{session.id};timeout={self.session_timeout}"), ("Transport", transport)]
        return Reply(200, headers)

    async def _play(self, conn: RtspConnection, req: Request) -> Reply:
        session = self._session_of(conn, req)
        if isinstance(session, Reply):
            return session
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
        session.pause()
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


# --------------------------------------------------------------------------- by hand


async def _serve_forever(args: argparse.Namespace) -> None:
    main = StreamSpec("h264", 1280, 720, 15, 30, 1024)
    sub = StreamSpec("h264", 640, 360, 10, 20, 256)
    resolve = dahua_resolver(main, sub) if args.style == "dahua" else hikvision_resolver(main, sub)
    for spec in (main, sub):
        await asyncio.to_thread(clip_for, spec)
    server = RtspServer(
        args.host, args.port, "1868cb21d4df", lambda: {args.user: args.password}, resolve, Faults(), style=args.style
    )
    await server.start()
    print(f"rtsp://{args.user}:{args.password}@{args.host}:{server.port}/", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="One simulated camera's RTSP server, for trying clients by hand.")
    parser.add_argument("--host", default="127.0.0.9")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--style", choices=["hikvision", "dahua"], default="hikvision")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="Passw0rd-1")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(parser.parse_args()))


if __name__ == "__main__":
    main()
