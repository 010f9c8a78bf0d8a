"""RTP over UDP from the simulated cameras, read by a third-party client (ffprobe ``-rtsp_transport
udp`` and ``tcp``) and by a raw client that checks where the datagrams come from and go to.

The servers are the small in-process ones of ``test_rtsp.py`` (each camera on its own 127.77.x.y).

    .venv/bin/pytest tests/sim/test_sim_rtsp_udp.py -q
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.sim import test_rtsp
from tests.sim.test_rtsp import SUB, Camera, RawRtsp, run

# The in-process camera fixtures of test_rtsp.py, shared by name.
rtsp_clips, rtsp_loop, rtsp_camera = test_rtsp.rtsp_clips, test_rtsp.rtsp_loop, test_rtsp.rtsp_camera


def decoded_frames(url: str, transport: str, frames: int = 12) -> list[str]:
    """Picture types of the first ``frames`` frames ffprobe decodes over ``transport``."""
    command = ["ffprobe", "-v", "error", "-rtsp_transport", transport, "-timeout", "3000000"]
    command += ["-analyzeduration", "500000", "-show_entries", "frame=pict_type,width,height"]
    command += ["-read_intervals", f"%+#{frames}", "-of", "json", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout).get("frames", [])
    assert all((f["width"], f["height"]) == (SUB.width, SUB.height) for f in found), found
    return [f["pict_type"] for f in found]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_ffprobe_decodes_frames_over_udp_and_tcp(rtsp_camera: Callable[..., Camera], transport: str) -> None:
    cam = rtsp_camera()
    kinds = decoded_frames(cam.url("/Streaming/Channels/102"), transport)
    assert len(kinds) == 12 and kinds[0] == "I" and "P" in kinds, kinds


def test_streaming_channels_1_is_the_main_stream(rtsp_camera: Callable[..., Camera]) -> None:
    cam = rtsp_camera()
    command = [
        "ffprobe",
        "-v",
        "error",
        "-rtsp_transport",
        "udp",
        "-timeout",
        "3000000",
        "-show_streams",
        "-of",
        "json",
    ]
    result = subprocess.run(
        [*command, cam.url("/Streaming/Channels/1")],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0, result.stderr
    (stream,) = json.loads(result.stdout)["streams"]
    assert (stream["width"], stream["height"]) == (1280, 720)


def _udp_pair() -> tuple[socket.socket, socket.socket]:
    """An even/odd pair of client UDP ports on 127.0.0.1."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind(("127.0.0.1", port + 1))
            except OSError:
                rtcp.close()
            else:
                return rtp, rtcp
        rtp.close()
    raise AssertionError("no free UDP port pair on 127.0.0.1")


def test_udp_goes_from_the_devices_own_address_and_teardown_releases_the_ports(
    rtsp_camera: Callable[..., Camera],
) -> None:
    cam = rtsp_camera()
    rtp, rtcp = _udp_pair()
    port = rtp.getsockname()[1]

    async def scenario() -> tuple[int, tuple[int, int], list[tuple[bytes, tuple[str, int]]]]:
        client = await RawRtsp.open(cam, "/Streaming/Channels/102")
        try:
            await client.login()
            status, headers, _ = await client.request(
                "SETUP", client.url + "/trackID=1", {"Transport": f"RTP/AVP;unicast;client_port={port}-{port + 1}"}
            )
            assert status == 200, (status, headers)
            transport = headers["transport"][0]
            assert transport.startswith("RTP/AVP;unicast;") and f"client_port={port}-{port + 1}" in transport
            m = re.search(r"server_port=(\d+)-(\d+)", transport)
            assert m, transport
            server = (int(m.group(1)), int(m.group(2)))
            assert server[0] % 2 == 0 and server[1] == server[0] + 1
            client.session = headers["session"][0].split(";")[0]
            status, _, _ = await client.request("PLAY", headers={"Range": "npt=0.000-"})
            assert status == 200
            loop = asyncio.get_running_loop()
            rtp.setblocking(False)
            got = [await asyncio.wait_for(loop.sock_recvfrom(rtp, 2048), 3) for _ in range(5)]
            status, _, _ = await client.request("TEARDOWN")
            return status, server, got
        finally:
            await client.close()

    try:
        status, server, got = run(scenario())
    finally:
        rtp.close()
        rtcp.close()
    assert status == 200
    for data, sender in got:
        assert sender == (cam.server.host, server[0])  # from the camera's own loopback address, its server port
        assert data[0] >> 6 == 2 and data[1] & 0x7F == 96  # RTP version 2, the SDP's payload type
    assert data[12] & 0x1F in (1, 5, 7, 8, 28)
    # TEARDOWN released the pair: both ports can be bound again on the camera's address (the sockets
    # close on the server's next loop turn, so allow it a moment).
    for p in server:
        deadline = time.monotonic() + 2
        while True:
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                probe.bind((cam.server.host, p))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                probe.close()


@pytest.mark.parametrize(
    "transport",
    [
        "RTP/AVP;unicast;destination=192.0.2.10;client_port=5000-5001",
        "RTP/AVP/UDP;unicast;destination=cameras.example;client_port=5000-5001",
    ],
)
def test_udp_setup_to_a_non_loopback_address_is_refused(rtsp_camera: Callable[..., Camera], transport: str) -> None:
    cam = rtsp_camera()

    async def scenario() -> tuple[int, int]:
        client = await RawRtsp.open(cam, "/Streaming/Channels/102")
        try:
            await client.login()
            status, _, _ = await client.request("SETUP", client.url + "/trackID=1", {"Transport": transport})
            client.session = "1"
            play, _, _ = await client.request("PLAY")
            return status, play
        finally:
            await client.close()

    status, play = run(scenario())
    assert status == 403  # never sent off the machine
    assert play == 454  # and no session was made
    assert cam.server.playing == 0
