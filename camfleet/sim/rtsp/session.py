"""One playing RTSP session of a simulated camera: the frame clock, RTP timestamps and sequence
numbers, keyframe-first starts, the ``frozen`` fault, frames lost on a saturated uplink, and
sender reports every 5 s.

Why no task per session: a session is a chain of ``loop.call_at`` timers writing one frame per
tick from payloads shared by every session of the clip, so a thousand idle-but-playing cameras
cost timers, not coroutines. A slow reader (1 MiB queued) loses frames until the next keyframe;
a loop stalled for over a second skips ahead rather than bursting.

Reproduce by hand (the server of ``python -m camfleet.sim.rtsp``)::

    ffprobe -rtsp_transport tcp -show_frames -read_intervals %+2 \\
        rtsp://admin:Passw0rd-1@127.0.0.9:8554/Streaming/Channels/102 | grep -c pict_type
"""

from __future__ import annotations

import asyncio
import random
import secrets
from typing import Protocol

from camfleet.sim.faults import Fault, Faults
from camfleet.sim.media import Clip
from camfleet.sim.rtsp.rtp import (
    CLOCK_RATE,
    RtpFrame,
    interleaved,
    rtcp_sender_report,
    rtp_frames,
    rtp_packets,
    sender_report,
)
from camfleet.sim.rtsp.udp import UdpPair

#: Frames are dropped (and the stream resumes at the next keyframe) while a slow reader has this much queued.
_MAX_WRITE_BUFFER = 1 << 20
_SR_INTERVAL_S = 5


class Carrier(Protocol):
    """What a session needs of the TCP connection it plays on."""

    transport: asyncio.Transport | None

    @property
    def faults(self) -> Faults: ...

    def reset(self) -> None: ...


class Session:
    """One PLAYable stream of one RTSP connection, paced by a chain of loop timers (no task): RTP
    interleaved on the connection (``channel``), or over UDP to the client's ports (``udp``)."""

    def __init__(self, conn: Carrier, clip: Clip, url: str, channel: int, udp: UdpPair | None = None) -> None:
        self.conn = conn
        self.udp = udp
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

    def close(self) -> None:
        """Stop and release the UDP ports (TEARDOWN, a replacing SETUP, the connection closed)."""
        self.pause()
        if self.udp is not None:
            self.udp.close()

    def _tick(self) -> None:
        conn, fps = self.conn, self.clip.spec.fps
        faults = conn.faults
        if faults.unreachable:
            self.handle = None
            conn.reset()
            return
        transport = conn.transport
        if transport is None or transport.is_closing():
            self.handle = None
            return
        frame = self.frames[self.tick_no % len(self.frames)]
        queued = self.udp.queued if self.udp is not None else transport.get_write_buffer_size()
        saturated = faults.saturation
        if faults.has(Fault.frozen) or queued > _MAX_WRITE_BUFFER:
            self.need_key = True
        elif saturated is not None and not frame.keyframe and random.random() < float(saturated["loss"]):  # noqa: S311
            # Lost on the way (the client sees the gap); keyframes get through, so the stream is lossy, not dead.
            self.seq = (self.seq + len(frame.payloads)) & 0xFFFF
        elif frame.keyframe or not self.need_key:
            self.need_key = False
            self._send_frame(transport, frame, self.rtptime(self.tick_no))
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.packets and now - self.last_sr >= _SR_INTERVAL_S:
            self.last_sr = now
            ts = self.rtptime(self.tick_no)
            if self.udp is not None:
                self.udp.send_rtcp(rtcp_sender_report(self.ssrc, ts, self.packets, self.octets))
            else:
                transport.write(sender_report(self.channel, self.ssrc, ts, self.packets, self.octets))
        self.tick_no += 1
        due = self.t0 + self.tick_no / fps
        if due < now - 1.0:  # the loop stalled for over a second: skip ahead rather than burst
            self.t0 = now - self.tick_no / fps
            due = now
        self.handle = loop.call_at(due, self._tick)

    def _send_frame(self, transport: asyncio.Transport, frame: RtpFrame, ts: int) -> None:
        if self.udp is not None:
            packets, self.seq, octets = rtp_packets(frame, self.seq, ts, self.ssrc)
            self.udp.send_rtp(packets)
        else:
            data, self.seq, octets = interleaved(frame, self.channel, self.seq, ts, self.ssrc)
            transport.write(data)
        self.octets += octets
        self.packets += len(frame.payloads)
