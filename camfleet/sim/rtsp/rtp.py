"""RTP for the simulated cameras: access units cut into RTP payloads once per clip (single NAL
unit packets, FU-A for H.264 per RFC 6184, FU for H.265 per RFC 7798, parameter sets before
every keyframe), and the RTP packets (a datagram each over UDP, ``$``-framed when
interleaved over TCP) and RTCP sender reports a session writes.

Why apart: payloads are shared by every session playing the same clip (a thousand cameras
cost one packetising), and the byte layout is what ffprobe checks, not session logic.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.media import *; from camfleet.sim.rtsp.rtp import rtp_frames; \\
        f = rtp_frames(clip_for(StreamSpec('h264', 640, 360, 10, 20, 256))); print(len(f), len(f[0].payloads))"
"""

from __future__ import annotations

import functools
import struct
import time
from dataclasses import dataclass

from camfleet.sim.media import Clip

PAYLOAD_TYPE = 96
CLOCK_RATE = 90_000
#: Largest RTP payload; NAL units above it are fragmented (FU-A / H.265 FU), as cameras do for a 1500 MTU.
MTU_PAYLOAD = 1400
#: ``$``, channel, length, then the 12-byte RTP header: V=2, M|PT, seq, timestamp, SSRC.
_RTP = struct.Struct("!BBHBBHII")
_RTP_HEADER = struct.Struct("!BBHII")
_NTP_EPOCH = 2_208_988_800


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


def rtp_packets(frame: RtpFrame, seq: int, ts: int, ssrc: int) -> tuple[list[bytes], int, int]:
    """One frame as RTP packets (header + payload), the marker on the last: (packets, next
    sequence number, payload octets). What UDP sends one datagram each."""
    pack = _RTP_HEADER.pack
    packets: list[bytes] = []
    octets = 0
    last = len(frame.payloads) - 1
    for i, payload in enumerate(frame.payloads):
        packets.append(pack(0x80, (0x80 if i == last else 0) | PAYLOAD_TYPE, seq, ts, ssrc) + payload)
        seq = (seq + 1) & 0xFFFF
        octets += len(payload)
    return packets, seq, octets


def interleaved(frame: RtpFrame, channel: int, seq: int, ts: int, ssrc: int) -> tuple[bytes, int, int]:
    """One frame as ``$``-framed RTP packets on ``channel``, the marker on the last: (bytes, next
    sequence number, payload octets)."""
    pack = _RTP.pack
    parts: list[bytes] = []
    octets = 0
    last = len(frame.payloads) - 1
    for i, payload in enumerate(frame.payloads):
        mark = 0x80 if i == last else 0
        parts.append(pack(0x24, channel, len(payload) + 12, 0x80, mark | PAYLOAD_TYPE, seq, ts, ssrc))
        parts.append(payload)
        seq = (seq + 1) & 0xFFFF
        octets += len(payload)
    return b"".join(parts), seq, octets


def rtcp_sender_report(ssrc: int, ts: int, packets: int, octets: int) -> bytes:
    """An RTCP sender report packet (now in NTP time, ``ts`` in RTP time), as UDP sends it."""
    ntp = time.time() + _NTP_EPOCH
    sec = int(ntp)
    frac = int((ntp - sec) * (1 << 32)) & 0xFFFFFFFF
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, sec & 0xFFFFFFFF, frac, ts, packets, octets & 0xFFFFFFFF)


def sender_report(channel: int, ssrc: int, ts: int, packets: int, octets: int) -> bytes:
    """The RTCP sender report interleaved on the RTCP channel ``channel + 1``."""
    body = rtcp_sender_report(ssrc, ts, packets, octets)
    return struct.pack("!BBH", 0x24, channel + 1, len(body)) + body
