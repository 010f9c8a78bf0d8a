"""RTP over UDP for a simulated camera: the server port pair a SETUP with ``client_port=`` gets,
bound on the device's own loopback address, and the datagrams a playing session sends to the
client's RTP and RTCP ports.

Why loopback only: the simulator must never send a packet off the machine. The destination is
the client's address (or a ``destination=`` it names) and is refused unless it is loopback; the
pair is released by TEARDOWN, by a SETUP that replaces the session, and when the RTSP connection
closes (the session timeout without a keep-alive closes it).

Reproduce by hand (the server of ``python -m camfleet.sim.rtsp``)::

    ffprobe -rtsp_transport udp -show_streams rtsp://admin:Passw0rd-1@127.0.0.9:8554/Streaming/Channels/102
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets

log = logging.getLogger("camfleet.sim.rtsp")

#: Where server port pairs are drawn from (even RTP port, RTCP the next one), as cameras use a high range.
PORT_RANGE = (20_000, 60_000)
_TRIES = 32


class UdpRefused(Exception):
    """The client asked for UDP somewhere the simulator will not send."""


def loopback_only(address: str) -> str:
    """``address`` when it is a loopback IP; :class:`UdpRefused` otherwise (never a name to resolve)."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        raise UdpRefused(f"destination {address!r} is not an IP address") from None
    if not ip.is_loopback:
        raise UdpRefused(f"destination {address} is not loopback")
    return str(ip)


class _Drop(asyncio.DatagramProtocol):
    """The server ports' receiving side: RTCP receiver reports and NAT punches are read and dropped."""

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable once the client has gone
        log.debug("rtsp udp: %s", exc)


class UdpPair:
    """One session's server RTP/RTCP sockets and the client ports they send to."""

    def __init__(
        self,
        rtp: asyncio.DatagramTransport,
        rtcp: asyncio.DatagramTransport,
        server_ports: tuple[int, int],
        client: tuple[str, int, int],
    ) -> None:
        self.rtp, self.rtcp = rtp, rtcp
        self.server_ports = server_ports
        self.client_host, self.client_rtp, self.client_rtcp = client
        self.closed = False

    @classmethod
    async def open(cls, host: str, client_host: str, client_ports: tuple[int, int]) -> UdpPair:
        """Bind an even/odd pair on ``host`` and aim it at ``client_host``'s ports (loopback only)."""
        client_host = loopback_only(client_host)
        loop = asyncio.get_running_loop()
        low, high = PORT_RANGE
        for _ in range(_TRIES):
            port = low + 2 * secrets.randbelow((high - low) // 2)
            try:
                rtp, _p = await loop.create_datagram_endpoint(_Drop, local_addr=(host, port))
            except OSError:
                continue
            try:
                rtcp, _q = await loop.create_datagram_endpoint(_Drop, local_addr=(host, port + 1))
            except OSError:
                rtp.close()
                continue
            return cls(rtp, rtcp, (port, port + 1), (client_host, *client_ports))
        raise OSError(f"no free UDP port pair on {host}")

    @property
    def queued(self) -> int:
        """Bytes waiting in the RTP socket's user-space buffer (a slow reader on loopback)."""
        size = getattr(self.rtp, "get_write_buffer_size", None)  # on every selector transport, not in the ABC
        return int(size()) if size is not None else 0

    def send_rtp(self, packets: list[bytes]) -> None:
        if not self.closed:
            for packet in packets:
                self.rtp.sendto(packet, (self.client_host, self.client_rtp))

    def send_rtcp(self, packet: bytes) -> None:
        if not self.closed:
            self.rtcp.sendto(packet, (self.client_host, self.client_rtcp))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            for transport in (self.rtp, self.rtcp):
                with contextlib.suppress(Exception):
                    transport.close()
