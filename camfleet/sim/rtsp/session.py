"""One playing RTSP session of a simulated camera: the frame clock, RTP timestamps and sequence
numbers, keyframe-first starts, the ``frozen`` fault, and sender reports every 5 s.

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
import secrets
from typing import Protocol

from camfleet.sim.faults import Fault, Faults
from camfleet.sim.media import Clip
from camfleet.sim.rtsp.rtp import CLOCK_RATE, RtpFrame, interleaved, rtp_frames, sender_report

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
    """One PLAYable stream on one TCP connection, paced by a chain of loop timers (no task)."""

    def __init__(self, conn: Carrier, clip: Clip, url: str, channel: int) -> None:
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
        data, self.seq, octets = interleaved(frame, self.channel, self.seq, ts, self.ssrc)
        self.octets += octets
        self.packets += len(frame.payloads)
        return data

    def _sender_report(self, ts: int) -> bytes:
        return sender_report(self.channel, self.ssrc, ts, self.packets, self.octets)
