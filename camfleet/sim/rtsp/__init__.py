"""A camera's RTSP/1.0 server on loopback: digest auth, vendor-like SDP, real H.264/H.265 over TCP or UDP.

Stream probes, NVRs and ffprobe must see what they see on a real Hikvision or
Dahua camera, so this server speaks the same dialogue (device-apis.md §4):
OPTIONS without auth, DESCRIBE behind HTTP Digest (MD5, no qop offered, qop
accepted), an SDP in the vendor's style, SETUP over TCP interleaved or unicast
UDP (``client_port=``; a server port pair on the device's own address, RTP sent
only to a loopback client, else ``403``; multicast gets ``461 Unsupported
Transport``), PLAY with RTP-Info and then
RTP paced in real time at the stream's frame rate, FU-A/FU fragmentation,
parameter sets before every keyframe, an RTCP sender report every 5 s, and a
session that dies after its advertised timeout without a keep-alive.

Everything runs on one asyncio loop with no thread per client: a connection is
an :class:`asyncio.Protocol` with one small worker task for its requests, and a
playing session is a chain of ``loop.call_at`` timers that writes one frame per
tick from RTP payloads shared by every session of the same clip.

Faults (``camfleet.sim.faults``) are read on every connection, request and frame:

- ``offline`` / ``router_off`` / bricked / upstream down (``Faults.unreachable``):
  the listening socket is closed, so connects are *refused*; open connections
  are reset. ``link_down`` (here or on the router in front): a blackhole takes
  the port, so connects *time out*.
- ``uplink_saturated`` (here or in front): every reply waits ``delay_s`` and a
  share ``loss`` of the frames never arrives (sequence numbers skip them).
- ``play_stall``: PLAY is never answered (a frozen encoder that stalls). A per-server timer checks every 0.5 s; a connection accepted in
  that window is reset at once. The listener re-opens on the same port when
  the fault clears.
- ``hang``: connections are accepted and never answered.
- ``slow``: every reply waits ``delay_s``.
- ``frozen``: every reply is normal, PLAY says 200, but no RTP is sent.
- ``locked``: every request that needs auth gets 401, right password or not.

Reproduce by hand::

    .venv/bin/python -m camfleet.sim.rtsp --host 127.0.0.9 --port 8554 &
    ffprobe -rtsp_transport tcp -show_streams rtsp://admin:Passw0rd-1@127.0.0.9:8554/Streaming/Channels/101

Where things are: ``resolvers`` (URL → stream, per vendor), ``rtp`` (packetising, shared by
sessions), ``messages`` (requests, replies, URLs), ``auth`` (RTSP digest), ``sdp``, ``session``
(one playing stream), ``udp`` (the UDP port pair), ``connection`` (one client TCP connection), ``server`` (the listener and
the methods), ``__main__`` (the by-hand server above).
"""

from camfleet.sim.rtsp.resolvers import Resolver, dahua_resolver, hikvision_resolver
from camfleet.sim.rtsp.rtp import RtpFrame, rtp_frames
from camfleet.sim.rtsp.sdp import build_sdp
from camfleet.sim.rtsp.server import RtspServer

__all__ = ["Resolver", "RtpFrame", "RtspServer", "build_sdp", "dahua_resolver", "hikvision_resolver", "rtp_frames"]
