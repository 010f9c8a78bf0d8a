"""A frame-verified RTSP stream probe: cheap enough to run against a whole town every 15 s.

"The camera answers" is not "the camera sends pictures": a frozen encoder still
answers DESCRIBE and PLAY. So the probe goes all the way (device-apis.md §4):
OPTIONS pipelined with a first DESCRIBE (one write, one round trip), DESCRIBE
again with HTTP Digest (one authenticated attempt, never a retry loop that
would trip the device's login lock-out), SETUP over TCP interleaved,
PLAY, then reads RTP until ``frames`` complete keyframes have arrived, keeps
counting for ``measure_s`` to measure the frame rate (from RTP timestamps) and
the bitrate, and ends with TEARDOWN.

It costs about 1 ms of CPU one probe at a time and ~0.5 ms in a burst of
hundreds, where ffprobe costs ~100 ms (``bench/stream_probe.py``): one :class:`asyncio.Protocol` per probe, no stream
reader, RTP headers read with ``struct.unpack_from`` straight out of the
receive buffer, payloads never copied (only an SPS is), and NAL units inspected
only until the wanted keyframes are in; after that a packet costs a header
unpack and two additions.

Everything is bounded by ``timeout``: the result always comes back inside it
(plus scheduling noise), with ``success`` False and a short machine-friendly
:class:`Reason` when the device misbehaves. Only programming errors (a URL
that is not ``rtsp://``) raise.

Reproduce by hand against the simulator::

    .venv/bin/python -m camfleet.sim.rtsp --host 127.0.0.9 --port 8554 &
    .venv/bin/python -m camfleet.probes.rtsp rtsp://127.0.0.9:8554/Streaming/Channels/102 -u admin -p Passw0rd-1
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import functools
import hashlib
import json
import re
import secrets
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import cast
from urllib.parse import unquote, urlsplit

from camfleet.probes.h264 import SpsError, SpsInfo, parse_sps

#: A fleet runs a handful of stream profiles, so the same SPS bytes come back probe after probe.
_cached_sps: Callable[[str, bytes], SpsInfo] = functools.lru_cache(maxsize=512)(parse_sps)

USER_AGENT = "camfleet-probe/1"
DEFAULT_PORT = 554
#: After PLAY, frames must arrive within the rest of the budget; less than this left is a timeout, not a freeze.
MIN_FRAME_WAIT_S = 0.5
#: Time kept back at the end of the budget for writing TEARDOWN and rendering the result.
TEARDOWN_RESERVE_S = 0.15
#: The fps/bitrate window drains the socket first after this, then whenever DRAIN_BYTES would have
#: queued at the rate seen so far (see ``StreamProbe._measure``).
DRAIN_S = 0.2
DRAIN_BYTES = 48 * 1024
_MAX_HEADER = 16 * 1024
_MAX_BODY = 64 * 1024
_RTP_HEAD = struct.Struct("!BBHI")  # V/P/X/CC, M/PT, sequence, timestamp
_DIGEST_FIELD = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))')
_INTERLEAVED = re.compile(r"interleaved=(\d+)(?:-(\d+))?", re.IGNORECASE)
_H264_KEY = frozenset({5})
_H265_KEY = frozenset(range(16, 22))  # IRAP: BLA, IDR, CRA


class Reason(StrEnum):
    """Why a probe failed; used as a metric label, so the set is small and stable."""

    refused = "refused"  # TCP connection refused: nothing listens (device off, port closed)
    unreachable = "unreachable"  # no route / host down (other connect errors)
    reset = "reset"  # the device reset the connection
    closed = "closed"  # the device closed the connection before the probe was done
    timeout = "timeout"  # no (complete) answer within the budget: hung or too slow
    auth = "auth"  # credentials refused (wrong password, not activated, locked out)
    not_found = "not_found"  # 404: no such stream path
    redirect = "redirect"  # 301/302: the URL moved (not followed)
    bad_status = "bad_status"  # another unexpected RTSP status (see detail)
    bad_reply = "bad_reply"  # not RTSP, or an SDP/header the probe cannot read
    unsupported_codec = "unsupported_codec"  # the video track is not H.264 or H.265
    unsupported_transport = "unsupported_transport"  # 461: no RTP over TCP interleaved
    no_video = "no_video"  # the SDP has no video track
    no_frames = "no_frames"  # PLAY answered 200 but no RTP arrived, or PLAY never answered: frozen stream
    no_keyframe = "no_keyframe"  # RTP arrived but not the wanted keyframes within the budget


@dataclass
class StreamResult:
    """What one probe saw. Times are seconds; measured values are None when they could not be measured."""

    success: bool
    reason: Reason | None = None
    detail: str = ""  # one human line: what the device said or did
    codec: str | None = None  # 'h264' | 'h265'
    width: int | None = None
    height: int | None = None
    fps_measured: float | None = None  # from RTP timestamps of complete frames
    bitrate_bps_measured: float | None = None  # video payload bits per second over the same frames
    time_to_first_frame_s: float | None = None  # PLAY sent → first complete keyframe
    connect_s: float | None = None  # TCP connect
    describe_s: float | None = None  # OPTIONS+DESCRIBE sent (pipelined) → SDP, 401 round trip included
    duration_s: float = 0.0  # the whole probe, up to TEARDOWN sent
    frames_received: int = 0  # complete access units
    keyframes_received: int = 0  # counted until the wanted number was reached
    bytes_received: int = 0  # RTP payload bytes of the video track
    packets_lost: int = 0  # RTP sequence gaps
    keyframe_seen: bool = False
    status: int | None = None  # last RTSP status received
    fps_declared: float | None = None  # SDP a=framerate, else the SPS VUI timing
    sps_source: str | None = None  # 'sdp' | 'inband' | 'x-dimensions'

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ProbeFailed(Exception):
    """Device misbehaviour found during the dialogue; turned into a result, never raised to callers."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# --------------------------------------------------------------------------- URL, replies, digest


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    url: str  # without user info: what goes on the request line and into the digest uri
    username: str
    password: str


def parse_target(url: str, username: str = "", password: str = "") -> Target:
    """Split an ``rtsp://`` URL; credentials in the URL are used only when none are given."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "rtsp" or not parts.hostname:
        raise ValueError(f"not an rtsp:// URL with a host: {url!r}")
    port = parts.port or DEFAULT_PORT
    if not username and parts.username:
        username, password = unquote(parts.username), unquote(parts.password or "")
    host = parts.hostname
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    clean = parts._replace(netloc=netloc).geturl()
    return Target(host, port, clean, username, password)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    challenges: list[str] = field(default_factory=list)  # every WWW-Authenticate value
    body: bytes = b""

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


def parse_head(head: bytes) -> Reply:
    """Status line and headers of an RTSP reply (``head`` excludes the blank line)."""
    lines = head.decode("utf-8", "replace").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("RTSP/") or not (parts[1].isdigit() and len(parts[1]) == 3):
        raise ProbeFailed(Reason.bad_reply, f"bad status line {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    challenges: list[str] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = name.strip().lower(), value.strip()
        if key == "www-authenticate":
            challenges.append(value)
        headers[key] = value
    return Reply(int(parts[1]), headers, challenges)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class Credentials:
    """RFC 2617 Digest (MD5, qop=auth when offered) or Basic, computed afresh for every method and URI."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self.scheme: str | None = None
        self.fields: dict[str, str] = {}
        self.nc = 0
        self.ha1 = ("", "")

    def learn(self, challenges: list[str]) -> bool:
        """Take the Digest challenge (preferred) or Basic; False when neither is usable."""
        for value in challenges:
            scheme, _, rest = value.partition(" ")
            if scheme.lower() == "digest":
                fields = {k.lower(): a or b for k, a, b in _DIGEST_FIELD.findall(rest)}
                if "nonce" in fields and fields.get("algorithm", "MD5").upper() == "MD5":
                    self.scheme, self.fields, self.nc = "digest", fields, 0
                    return True
        if any(v.lower().startswith("basic") for v in challenges):
            self.scheme = "basic"
            return True
        return False

    @staticmethod
    def stale(challenges: list[str]) -> bool:
        return any(re.search(r'stale\s*=\s*"?true', v, re.IGNORECASE) for v in challenges)

    def _ha1(self, realm: str) -> str:
        if self.ha1[0] != realm:  # one realm per probe: hash the secret once, not per request
            self.ha1 = (realm, _md5(f"{self.username}:{realm}:{self.password}"))
        return self.ha1[1]

    def header(self, method: str, uri: str) -> str | None:
        if self.scheme == "basic":
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return f"Basic {token}"
        if self.scheme != "digest":
            return None
        f = self.fields
        realm, nonce = f.get("realm", ""), f["nonce"]
        ha1 = self._ha1(realm)
        ha2 = _md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
        if "auth" in [q.strip() for q in f.get("qop", "").split(",")]:
            self.nc += 1
            nc, cnonce = f"{self.nc:08x}", secrets.token_hex(8)
            response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            parts += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            parts.append(f'response="{_md5(f"{ha1}:{nonce}:{ha2}")}"')
        if "opaque" in f:
            parts.append(f'opaque="{f["opaque"]}"')
        return "Digest " + ", ".join(parts)


# --------------------------------------------------------------------------- SDP


@dataclass
class VideoTrack:
    codec: str
    payload_type: int
    clock_rate: int
    control_url: str
    play_url: str
    sps: bytes | None = None
    width: int | None = None  # a=x-dimensions (Hikvision), used only when no SPS can be read
    height: int | None = None
    framerate: float | None = None


def _join(base: str, control: str) -> str:
    """Resolve an SDP control attribute (device-apis.md §4.1): absolute wins; else append to base with one '/'."""
    if control.lower().startswith("rtsp://") or control.lower().startswith("rtsps://"):
        return control
    if not control or control == "*":
        return base
    return base.rstrip("/") + "/" + control.lstrip("/")


def _clean_base(base: str) -> str:
    """Tolerate a doubled scheme or none at all (seen on some firmwares)."""
    while base.lower().startswith("rtsp://rtsp://"):
        base = base[7:]
    return base if "://" in base else "rtsp://" + base


def parse_sdp(sdp: str, base: str) -> VideoTrack:
    """The first video track of an SDP, with its control URL resolved against ``base`` (Content-Base)."""
    session: list[str] = []
    media: list[list[str]] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            media.append([line])
        elif media:
            media[-1].append(line)
        else:
            session.append(line)
    if not media:
        raise ProbeFailed(Reason.bad_reply, "SDP has no m= line")
    video = next((m for m in media if m[0].startswith("m=video")), None)
    if video is None:
        raise ProbeFailed(Reason.no_video, "SDP has no video track")
    fmt = video[0].split()
    if len(fmt) < 4 or not fmt[3].isdigit():
        raise ProbeFailed(Reason.bad_reply, f"bad media line {video[0][:60]!r}")
    pt = int(fmt[3])
    attrs: dict[str, str] = {}
    for line in video[1:]:
        if line.startswith("a="):
            name, _, value = line[2:].partition(":")
            attrs.setdefault(name.lower(), value.strip())
    rtpmap = next((ln[9:] for ln in video if ln.lower().startswith(f"a=rtpmap:{pt} ")), None)
    if rtpmap is None:
        raise ProbeFailed(Reason.unsupported_codec if pt < 96 else Reason.bad_reply, f"no a=rtpmap for payload {pt}")
    encoding = rtpmap.strip().split()[-1].split("/")
    name = encoding[0].upper()
    codec = {"H264": "h264", "H265": "h265", "HEVC": "h265"}.get(name)
    if codec is None:
        raise ProbeFailed(Reason.unsupported_codec, f"video is {name}")
    clock = int(encoding[1]) if len(encoding) > 1 and encoding[1].isdigit() else 90_000
    session_control = next((ln[10:] for ln in session if ln.startswith("a=control:")), "*")
    track = VideoTrack(codec, pt, clock, _join(base, attrs.get("control", "*")), _join(base, session_control))
    fmtp_line = next((ln for ln in video if ln.lower().startswith(f"a=fmtp:{pt} ")), "")
    fmtp = {}
    for item in fmtp_line.partition(" ")[2].split(";"):
        key, _, value = item.strip().partition("=")
        fmtp[key.lower()] = value.strip()
    track.sps = _sps_from_fmtp(codec, fmtp)
    if m := re.fullmatch(r"(\d+)\s*,\s*(\d+)", attrs.get("x-dimensions", "")):
        track.width, track.height = int(m.group(1)), int(m.group(2))
    with contextlib.suppress(ValueError):
        track.framerate = float(attrs["framerate"]) if "framerate" in attrs else None
    return track


def _sps_from_fmtp(codec: str, fmtp: dict[str, str]) -> bytes | None:
    values = fmtp.get("sprop-parameter-sets", "").split(",") if codec == "h264" else [fmtp.get("sprop-sps", "")]
    for value in values:
        try:
            nal = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if nal and (nal[0] & 0x1F == 7 if codec == "h264" else (nal[0] >> 1) & 0x3F == 33):
            return nal
    return None


# --------------------------------------------------------------------------- RTP


class FrameCounter:
    """Per-packet work on the video track: frame boundaries, keyframes, in-band SPS; nothing copied but the SPS."""

    def __init__(self, codec: str, payload_type: int, want_keyframes: int, need_sps: bool, now: Callable[[], float]):
        self.h264 = codec == "h264"
        self.pt = payload_type
        self.want = want_keyframes
        self.now = now
        self.sps: bytes | None = None
        self.need_sps = need_sps
        self.inspect = True  # read NAL types until the keyframes (and an SPS, if needed) are in
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.fragment: bytearray | None = None  # an FU-fragmented SPS being put together
        self.packets = self.bytes = self.lost = 0
        self.frames = self.keyframes = self.frame_bytes = 0
        self.last_seq = -1
        self.au_ts = -1
        self.au_key = False
        self.au_bytes = 0
        self.first_ts = self.last_ts = 0  # unwrapped timestamps of complete frames
        self.first_arrival = self.last_arrival = 0.0
        self.first_key_at: float | None = None

    def packet(self, buf: bytearray, start: int, end: int) -> None:
        if end - start < 12:
            return
        b0, b1, seq, ts = _RTP_HEAD.unpack_from(buf, start)
        if b0 >> 6 != 2 or b1 & 0x7F != self.pt:
            return
        off = start + 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension
            if off + 4 > end:
                return
            off += 4 + 4 * ((buf[off + 2] << 8) | buf[off + 3])
        if b0 & 0x20:  # padding
            end -= buf[end - 1]
        if off >= end:
            return
        size = end - off
        self.packets += 1
        self.bytes += size
        if self.last_seq >= 0:
            gap = (seq - self.last_seq - 1) & 0xFFFF
            if gap < 0x8000:
                self.lost += gap
        self.last_seq = seq
        if ts != self.au_ts:
            if self.au_bytes:  # the previous frame's marker packet was lost: close it anyway
                self._frame_end()
            self.au_ts = ts
        self.au_bytes += size
        if self.inspect:
            self._nal(buf, off, end)
        if b1 & 0x80:
            self._frame_end()

    def _frame_end(self) -> None:
        now = self.now()
        if self.frames == 0:
            self.first_ts = self.last_ts = self.au_ts
            self.first_arrival = now
        else:
            step = (self.au_ts - self.last_ts) & 0xFFFFFFFF
            if step < 0x80000000:  # ignore reordered/old timestamps
                self.last_ts += step
        self.last_arrival = now
        self.frames += 1
        self.frame_bytes += self.au_bytes
        self.au_bytes = 0
        if self.au_key:
            self.au_key = False
            self.keyframes += 1
            if self.first_key_at is None:
                self.first_key_at = now
            if self.keyframes >= self.want and (self.sps is not None or not self.need_sps):
                self.inspect = False
                if not self.done.done():
                    self.done.set_result(None)

    def _nal(self, buf: bytearray, off: int, end: int) -> None:
        if self.h264:
            kind = buf[off] & 0x1F
            if kind == 28 and off + 1 < end:  # FU-A
                fu = buf[off + 1]
                self._unit(fu & 0x1F, buf, off, end, fu, bytes([(buf[off] & 0xE0) | (fu & 0x1F)]), off + 2)
            elif kind == 24:  # STAP-A
                self._aggregate(buf, off + 1, end)
            else:
                self._unit(kind, buf, off, end)
        else:
            kind = (buf[off] >> 1) & 0x3F
            if kind == 49 and off + 2 < end:  # FU
                fu = buf[off + 2]
                head = bytes([(buf[off] & 0x81) | ((fu & 0x3F) << 1), buf[off + 1]])
                self._unit(fu & 0x3F, buf, off, end, fu, head, off + 3)
            elif kind == 48:  # aggregation packet
                self._aggregate(buf, off + 2, end)
            else:
                self._unit(kind, buf, off, end)

    def _aggregate(self, buf: bytearray, pos: int, end: int) -> None:
        while pos + 2 < end:
            size = (buf[pos] << 8) | buf[pos + 1]
            pos += 2
            if size == 0 or pos + size > end:
                return
            kind = buf[pos] & 0x1F if self.h264 else (buf[pos] >> 1) & 0x3F
            self._unit(kind, buf, pos, pos + size)
            pos += size

    def _unit(
        self, kind: int, buf: bytearray, off: int, end: int, fu: int = -1, head: bytes = b"", body: int = 0
    ) -> None:
        """One NAL unit (``fu`` ≥ 0: a fragment of one, with its rebuilt header and body offset)."""
        if kind in (_H264_KEY if self.h264 else _H265_KEY):
            self.au_key = True
        elif self.need_sps and self.sps is None and kind == (7 if self.h264 else 33):
            if fu < 0:
                self.sps = bytes(buf[off:end])
            elif fu & 0x80:
                self.fragment = bytearray(head) + buf[body:end]
            elif self.fragment is not None:
                self.fragment += buf[body:end]
                if fu & 0x40:
                    self.sps, self.fragment = bytes(self.fragment), None

    def rates(self, clock: int) -> tuple[float | None, float | None]:
        """(fps, bits/s) over the complete frames: RTP timestamps first, arrival times as a fallback."""
        if self.frames < 2:
            return None, None
        span = (self.last_ts - self.first_ts) / clock
        if span <= 0:
            span = self.last_arrival - self.first_arrival
        if span <= 0:
            return None, None
        fps = (self.frames - 1) / span
        # Each frame stands for one frame interval, so bytes per frame times frames per second.
        return fps, 8 * self.frame_bytes * fps / self.frames


# --------------------------------------------------------------------------- the wire


class Wire(asyncio.Protocol):
    """One RTSP connection: replies to the one outstanding request, interleaved RTP to a FrameCounter."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiters: deque[asyncio.Future[Reply]] = deque()  # one per request sent, oldest first
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.rtp_channel = -1
        self.counter: FrameCounter | None = None
        self.playing = False
        self.desyncs = 0
        self.woken: asyncio.Future[None] | None = None  # set by the next data_received (or connection loss)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not an asyncio.Transport subclass, so no isinstance check).
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        failure = ProbeFailed(Reason.reset if isinstance(exc, ConnectionResetError) else Reason.closed, str(exc or ""))
        self._fail(failure)
        if not self.lost.done():
            self.lost.set_result(None)
        self._wake()
        self.transport = None

    def _fail(self, failure: ProbeFailed) -> None:
        if self.waiters:
            head = self.waiters.popleft()
            if not head.done():
                head.set_exception(failure)
        # Pipelined requests behind the failed one are never awaited: cancel them, so nothing logs an error.
        while self.waiters:
            self.waiters.popleft().cancel()

    def request(self, *texts: str) -> list[asyncio.Future[Reply]]:
        """Send one or more (pipelined) requests in one write; a future per reply, in order."""
        if self.transport is None or self.transport.is_closing():
            raise ProbeFailed(Reason.closed, "connection closed by the device")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in texts]
        self.waiters.extend(futures)
        self.transport.write("".join(texts).encode())
        return futures

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        n = len(buf)
        pos = 0
        try:
            while pos < n:
                if buf[pos] == 0x24:  # '$' channel length(2) payload
                    if n - pos < 4:
                        break
                    end = pos + 4 + ((buf[pos + 2] << 8) | buf[pos + 3])
                    if end > n:
                        break
                    if buf[pos + 1] == self.rtp_channel and self.counter is not None:
                        self.counter.packet(buf, pos + 4, end)
                    pos = end
                    continue
                if n - pos < 5:
                    break
                if buf[pos : pos + 5] != b"RTSP/":
                    if not self.playing:
                        raise ProbeFailed(Reason.bad_reply, f"not RTSP: {bytes(buf[pos : pos + 24])!r}")
                    # Lost sync inside the stream: skip to the next '$' (go2rtc does the same).
                    self.desyncs += 1
                    nxt = buf.find(b"$", pos + 1)
                    pos = n if nxt < 0 else nxt
                    continue
                head_end = buf.find(b"\r\n\r\n", pos)
                if head_end < 0:
                    if n - pos > _MAX_HEADER:
                        raise ProbeFailed(Reason.bad_reply, "reply header too long")
                    break
                reply = parse_head(bytes(buf[pos:head_end]))
                length = reply.get("content-length", "0")
                if not length.isdigit() or int(length) > _MAX_BODY:
                    raise ProbeFailed(Reason.bad_reply, f"bad Content-Length {length[:20]!r}")
                body_end = head_end + 4 + int(length)
                if body_end > n:
                    break
                reply.body = bytes(buf[head_end + 4 : body_end])
                pos = body_end
                if self.waiters:  # an unsolicited reply (no request waiting) is dropped
                    waiter = self.waiters.popleft()
                    if not waiter.done():
                        waiter.set_result(reply)
        except ProbeFailed as failure:
            self._fail(failure)
            buf.clear()
            if self.transport is not None:
                self.transport.abort()
            return
        if pos:
            del buf[:pos]
        self._wake()

    def _wake(self) -> None:
        if self.woken is not None and not self.woken.done():
            self.woken.set_result(None)

    def next_data(self) -> asyncio.Future[None]:
        """A future done at the next ``data_received`` or when the connection goes."""
        self.woken = asyncio.get_running_loop().create_future()
        return self.woken

    def close(self) -> None:
        """Drop the connection now; a TEARDOWN just written has already left (small, on an idle socket)."""
        if self.transport is not None:
            self.transport.abort()


# --------------------------------------------------------------------------- the probe


class StreamProbe:
    """One probe's dialogue; :func:`probe_stream` is the public face."""

    def __init__(self, target: Target, frames: int, measure_s: float, user_agent: str) -> None:
        self.target = target
        self.want = frames
        self.measure_s = measure_s
        self.user_agent = user_agent
        self.auth = Credentials(target.username, target.password)
        self.result = StreamResult(success=False)
        self.wire: Wire | None = None
        self.cseq = 0
        self.session: str | None = None
        self.step = "connect"
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()

    def format(self, method: str, url: str, *extra: str, auth: bool = True) -> str:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {self.user_agent}", *extra]
        if self.session is not None:
            lines.append(f"Session: {self.session}")
        header = self.auth.header(method, url) if auth else None
        if header is not None:
            lines.append(f"Authorization: {header}")
        return "\r\n".join(lines) + "\r\n\r\n"

    async def reply(self, method: str, future: asyncio.Future[Reply]) -> Reply:
        self.step = method
        reply = await future
        self.result.status = reply.status
        return reply

    async def send(self, method: str, url: str, *extra: str, auth: bool = True) -> Reply:
        assert self.wire is not None
        (future,) = self.wire.request(self.format(method, url, *extra, auth=auth))
        return await self.reply(method, future)

    async def send_authed(self, method: str, url: str, *extra: str, sent: asyncio.Future[Reply] | None = None) -> Reply:
        """Send (or take the reply of an unauthenticated request ``sent`` already); on 401 retry once,
        and only if the refused attempt was unauthenticated or its nonce was stale."""
        if sent is not None:
            had_auth, reply = False, await self.reply(method, sent)
        else:
            had_auth = self.auth.scheme is not None
            reply = await self.send(method, url, *extra)
        if reply.status == 401 and self.target.username:
            if had_auth and not Credentials.stale(reply.challenges):
                raise ProbeFailed(Reason.auth, f"{method} refused the credentials of {self.target.username!r}")
            if self.auth.learn(reply.challenges):
                reply = await self.send(method, url, *extra)
        if reply.status in (401, 403):
            who = repr(self.target.username) if self.target.username else "no user"
            raise ProbeFailed(Reason.auth, f"{method} answered {reply.status} for {who}")
        return reply

    @staticmethod
    def check(method: str, reply: Reply) -> None:
        if reply.status == 200:
            return
        if reply.status == 404:
            raise ProbeFailed(Reason.not_found, f"{method} answered 404")
        if reply.status in (301, 302, 303, 307):
            raise ProbeFailed(Reason.redirect, f"{method} redirects to {reply.get('location')!r}")
        if reply.status == 461:
            raise ProbeFailed(Reason.unsupported_transport, f"{method}: RTP over TCP refused (461)")
        raise ProbeFailed(Reason.bad_status, f"{method} answered {reply.status}")

    async def run(self, deadline: float) -> None:
        t = self.target
        r = self.result
        self.step = "connect"
        _, wire = await self.loop.create_connection(Wire, t.host, t.port)
        self.wire = wire
        r.connect_s = self.loop.time() - self.started

        # OPTIONS and the first (unauthenticated, so challenged) DESCRIBE go out pipelined in one write:
        # one round trip and one wake-up fewer. OPTIONS' status does not matter (some devices guard it too).
        accept = "Accept: application/sdp"
        sent = self.loop.time()
        options, first_describe = wire.request(
            self.format("OPTIONS", t.url, auth=False), self.format("DESCRIBE", t.url, accept, auth=False)
        )
        await self.reply("OPTIONS", options)
        describe = await self.send_authed("DESCRIBE", t.url, accept, sent=first_describe)
        self.check("DESCRIBE", describe)
        r.describe_s = self.loop.time() - sent
        base = _clean_base(describe.get("content-base") or describe.get("content-location") or t.url)
        track = parse_sdp(describe.body.decode("utf-8", "replace"), base)
        r.codec = track.codec
        r.fps_declared = track.framerate
        self._size(track.codec, track.sps, "sdp")
        if r.width is None and track.width:
            r.width, r.height, r.sps_source = track.width, track.height, "x-dimensions"

        setup = await self.send_authed("SETUP", track.control_url, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
        self.check("SETUP", setup)
        session = setup.get("session").split(";")[0].strip()
        if not session:
            raise ProbeFailed(Reason.bad_reply, "SETUP reply has no Session")
        self.session = session
        transport = setup.get("transport")
        if transport and "interleaved" not in transport.lower():
            raise ProbeFailed(Reason.unsupported_transport, f"SETUP answered transport {transport[:60]!r}")
        m = _INTERLEAVED.search(transport)
        wire.rtp_channel = int(m.group(1)) if m else 0

        need_sps = r.sps_source != "sdp"
        counter = FrameCounter(track.codec, track.payload_type, self.want, need_sps, self.loop.time)
        wire.counter = counter
        wire.playing = True
        play_sent = self.loop.time()
        play = await self.send_authed("PLAY", track.play_url, "Range: npt=0.000-")
        self.check("PLAY", play)

        frame_deadline = deadline - min(TEARDOWN_RESERVE_S, 0.1 * (deadline - self.started))
        try:
            await self._frames(counter, track.clock_rate, play_sent, frame_deadline)
        finally:
            wire.counter = None
            self._teardown(track.play_url)

    async def _frames(self, counter: FrameCounter, clock: int, play_sent: float, frame_deadline: float) -> None:
        """Wait for the keyframes, then count for the measuring window; all before ``frame_deadline``."""
        assert self.wire is not None
        lost = self.wire.lost
        budget = max(0.0, frame_deadline - self.loop.time())
        await asyncio.wait([counter.done, lost], timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        if counter.first_key_at is not None:
            self.result.time_to_first_frame_s = counter.first_key_at - play_sent
        if not counter.done.done():
            self._collect(counter, clock)
            if lost.done():
                raise ProbeFailed(Reason.closed, f"connection closed after {counter.frames} frames")
            waited = frame_deadline - play_sent
            if counter.packets == 0:
                if waited < MIN_FRAME_WAIT_S:
                    raise ProbeFailed(Reason.timeout, f"PLAY answered with only {waited:.2f}s of budget left")
                raise ProbeFailed(Reason.no_frames, f"PLAY answered 200 but no RTP in {waited:.2f}s")
            got = f"{counter.keyframes}/{self.want} keyframes" + (", no SPS" if counter.keyframes >= self.want else "")
            raise ProbeFailed(Reason.no_keyframe, f"{counter.frames} frames, {got} in {waited:.2f}s")
        measure_end = min(frame_deadline, self.loop.time() + self.measure_s)
        if measure_end > self.loop.time():
            await self._measure(counter, measure_end, frame_deadline)
        self._collect(counter, clock)
        self.result.success = True

    async def _measure(self, counter: FrameCounter, measure_end: float, frame_deadline: float) -> None:
        """Let the window's packets queue in the socket and read them in a few drains.

        Reading each frame as it comes costs a wake-up, an epoll and a recv per frame (12 a
        second per probe); parked in the kernel's receive buffer they cost one per drain. What
        queues between drains is kept under ``DRAIN_BYTES``, inside the receive window the kernel
        starts with (about 64 KB): the first drain comes after ``DRAIN_S``, the next ones when the
        rate seen so far would fill ``DRAIN_BYTES``. A real camera is thus never held back by TCP
        (and never drops frames because of the probe); a 512 kbit/s sub stream takes 2-3 drains.
        fps and bitrate come from RTP timestamps, not arrival times, so the numbers are the same
        as reading every frame.
        """
        assert self.wire is not None
        transport = self.wire.transport
        interval, start, start_bytes = DRAIN_S, self.loop.time(), counter.bytes
        while not (transport is None or transport.is_closing()):
            left = measure_end - self.loop.time()
            if left <= 0:
                break
            transport.pause_reading()
            try:
                await asyncio.sleep(min(interval, left))
            finally:
                woken = self.wire.next_data()
                if not transport.is_closing():
                    transport.resume_reading()
            # The queued packets are one read away; a camera that sent nothing is not waited for long.
            await asyncio.wait([woken], timeout=max(0.0, min(0.05, frame_deadline - self.loop.time())))
            rate = (counter.bytes - start_bytes) / max(self.loop.time() - start, 1e-3)
            interval = max(DRAIN_S, DRAIN_BYTES / rate) if rate > 0 else left

    def _collect(self, counter: FrameCounter, clock: int) -> None:
        r = self.result
        r.frames_received = counter.frames
        r.keyframes_received = counter.keyframes
        r.keyframe_seen = counter.keyframes > 0
        r.bytes_received = counter.bytes
        r.packets_lost = counter.lost
        r.fps_measured, r.bitrate_bps_measured = counter.rates(clock)
        if r.sps_source != "sdp" and counter.sps is not None:
            self._size(r.codec or "h264", counter.sps, "inband")

    def _size(self, codec: str, sps: bytes | None, source: str) -> None:
        if sps is None:
            return
        try:
            info = _cached_sps(codec, sps)
        except SpsError:
            return
        r = self.result
        r.width, r.height, r.sps_source = info.width, info.height, source
        if r.fps_declared is None:
            r.fps_declared = info.fps

    def _teardown(self, url: str) -> None:
        """Say goodbye so the camera frees the session at once, without waiting for its answer.

        The answer tells nothing the probe needs, and waiting for it costs a round trip: in a
        burst of 1,000 probes against one simulator that was 0.2-0.6 s of every probe's time
        (``bench/exporter.py``). The request is written before the connection is closed, so
        the camera still reads TEARDOWN first (tests/probes checks it is the last method seen).
        """
        wire = self.wire
        if wire is None or wire.transport is None or wire.transport.is_closing() or self.session is None:
            return
        self.step = "TEARDOWN"
        wire.transport.write(self.format("TEARDOWN", url).encode())


async def probe_stream(
    url: str,
    username: str = "",
    password: str = "",
    *,
    timeout: float,
    frames: int = 1,
    measure_s: float = 1.0,
    user_agent: str = USER_AGENT,
) -> StreamResult:
    """Prove that ``url`` delivers video: ``frames`` complete keyframes within ``timeout`` seconds.

    After the keyframes, packets are counted for ``measure_s`` more seconds (cut
    to the budget) to measure fps and bitrate; ``measure_s=0`` stops at the
    keyframe (cheapest, but fps needs at least two frames). Returns within
    ``timeout`` (plus scheduling noise) and never raises for anything the
    device does; a non-``rtsp://`` URL or ``frames < 1`` raise ``ValueError``.
    """
    if frames < 1:
        raise ValueError("frames must be at least 1")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    target = parse_target(url, username, password)
    probe = StreamProbe(target, frames, measure_s, user_agent)
    loop = asyncio.get_running_loop()
    deadline = probe.started + timeout
    result = probe.result
    try:
        async with asyncio.timeout_at(deadline):
            await probe.run(deadline)
    except ProbeFailed as failure:
        result.reason, result.detail = failure.reason, failure.detail
    except TimeoutError:
        if not result.success and probe.step == "PLAY":
            # It answered DESCRIBE and SETUP: the camera is there, its encoder is stuck (a freeze, not an outage).
            result.reason, result.detail = Reason.no_frames, f"PLAY not answered within {timeout:g}s: encoder stalled"
        elif not result.success:  # a TEARDOWN cut short by the budget does not undo a success
            result.reason, result.detail = Reason.timeout, f"no answer to {probe.step} within {timeout:g}s"
    except ConnectionRefusedError as exc:
        result.reason, result.detail = Reason.refused, str(exc)
    except ConnectionResetError as exc:
        result.reason, result.detail = Reason.reset, str(exc)
    except OSError as exc:  # no route, host down, address not available...
        result.reason, result.detail = Reason.unreachable, str(exc)
    finally:
        if probe.wire is not None:
            probe.wire.close()
        result.duration_s = loop.time() - probe.started
    if not result.success and result.reason is None:  # pragma: no cover - run() either succeeds or raises
        result.reason = Reason.bad_reply
    return result


# --------------------------------------------------------------------------- by hand


def main() -> None:
    parser = argparse.ArgumentParser(description="Probe one RTSP stream and print what arrived, as JSON.")
    parser.add_argument("url")
    parser.add_argument("-u", "--username", default="")
    parser.add_argument("-p", "--password", default="")
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--frames", type=int, default=1)
    parser.add_argument("--measure", type=float, default=1.0)
    args = parser.parse_args()
    result = asyncio.run(
        probe_stream(
            args.url, args.username, args.password, timeout=args.timeout, frames=args.frames, measure_s=args.measure
        )
    )
    print(json.dumps(result.as_dict(), indent=2))


if __name__ == "__main__":
    main()
