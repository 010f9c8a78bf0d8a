"""The simulated cameras' ONVIF, checked by a third-party client: python-onvif-zeep-async (Home
Assistant's ONVIF library, its own WSDLs and WS-Security code, nothing of camfleet's) against a
Hikvision, a Dahua and an ONVIF-only (Imou) camera of the simulator, each with its RTSP server on
its own 127.77.x.y address; then ffprobe reads the stream URI the camera handed out.

And the recorder side of it: a channel pulled over ONVIF is online because the camera answers
ONVIF; one pulled with a protocol the camera does not speak is not.

    .venv/bin/pytest tests/sim/test_sim_onvif.py -q
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import zeep.exceptions
from aiohttp import web
from onvif import ONVIFCamera

from camfleet.drivers.errors import AuthError
from camfleet.drivers.onvif import OnvifCamera
from camfleet.sim import dahua, hikvision, onvif_camera
from camfleet.sim.devices import CameraState, NvrState, ProxyChannel
from camfleet.sim.faults import Faults
from camfleet.sim.httpserve import serve
from camfleet.sim.media import StreamSpec
from camfleet.sim.rtsp import RtspServer, dahua_resolver, hikvision_resolver
from camfleet.sim.town.device import MAIN, SUB, SimDevice
from camfleet.sim.town.recording import ChannelSource
from tests.conftest import require_program
from tests.drivers.driver_sim import served

PASSWORD = "Ngoc-Lac-2026"
SUB_SPEC = StreamSpec("h264", 640, 360, 10, 20, 256)
MAIN_SPEC = StreamSpec("h264", 1280, 720, 15, 30, 1024)

CAMERAS: dict[str, tuple[Callable[..., web.Application], str, str]] = {
    "hikvision": (hikvision.camera_app, "DS-2CD1023G2-LIU", "V5.7.15 build 230519"),
    "dahua": (dahua.camera_app, "IPC-HFW1230S1-S5", "V2.800.0000000.16.R.210518"),
    "imou": (onvif_camera.camera_app, "IPC-F22P", "2.840.0000000.5.R"),
}


class Clock:
    """Real time plus an offset: the camera's idea of now is its state's offset on top."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Cam:
    host: str
    port: int
    rtsp_port: int
    state: CameraState


def _state(vendor: str) -> CameraState:
    _, model, firmware = CAMERAS[vendor]
    state = CameraState.configured(
        vendor, model, "SN00012345", "c0:56:e3:00:00:01", firmware, admin_password=PASSWORD, name="cam"
    )
    for stream_id, spec in ((MAIN, MAIN_SPEC), (SUB, SUB_SPEC)):
        config = state.streams[stream_id]
        config.codec, config.width, config.height, config.fps = spec.codec, spec.width, spec.height, spec.fps
        config.gop, config.bitrate_kbps = spec.gop, spec.bitrate_kbps
    return state


@asynccontextmanager
async def camera(vendor: str, clock: Clock | None = None) -> AsyncIterator[Cam]:
    """A simulated camera (HTTP with ONVIF, and RTSP) on one fresh 127.77.x.y address."""
    host = f"127.77.{1 + secrets.randbelow(254)}.{2 + secrets.randbelow(253)}"
    state, faults = _state(vendor), Faults()
    dahua_style = vendor != "hikvision"
    resolver = (dahua_resolver if dahua_style else hikvision_resolver)(MAIN_SPEC, SUB_SPEC)
    realm = f"Login to {state.serial}" if dahua_style else "c056e3000001"
    rtsp = RtspServer(host, 0, realm, state.passwords, resolver, faults, style="dahua" if dahua_style else "hikvision")
    await rtsp.start()
    app = CAMERAS[vendor][0](state, faults, clock=clock or Clock(), on_change=lambda: None, rtsp_port=lambda: rtsp.port)
    runner, port = await serve(app, host, 0)
    try:
        yield Cam(host, port, rtsp.port, state)
    finally:
        await runner.cleanup()
        await rtsp.stop()


async def _client(cam: Cam, password: str = PASSWORD, *, adjust_time: bool = True) -> Any:
    client = ONVIFCamera(cam.host, cam.port, "admin", password, no_cache=True, adjust_time=adjust_time)
    await client.update_xaddrs()
    return client


def _ffprobe(url: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0", "-count_packets",
         "-read_intervals", "%+1", "-show_entries", "stream=codec_name,width,height,nb_read_packets", "-of", "json", url],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    streams: list[dict[str, Any]] = json.loads(out.stdout)["streams"]
    return streams[0]


@pytest.mark.parametrize("vendor", ["hikvision", "dahua", "imou"])
def test_a_third_party_client_reads_the_camera_and_ffprobe_its_stream(vendor: str) -> None:
    require_program("/usr/bin/ffprobe", "ffmpeg")

    async def scenario() -> tuple[Any, list[str], str, bytes | None]:
        async with camera(vendor) as cam:
            client = await _client(cam)
            try:
                info = await (await client.create_devicemgmt_service()).GetDeviceInformation()
                media = await client.create_media_service()
                profiles = await media.GetProfiles()
                tokens = [p.token for p in profiles]
                setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
                uri = (await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": tokens[1]})).Uri
                snapshot = await client.get_snapshot(tokens[0])
                parts = urlsplit(uri)
                assert (parts.hostname, parts.port) == (cam.host, cam.rtsp_port), uri
                with_login = uri.replace("rtsp://", f"rtsp://admin:{quote(PASSWORD)}@", 1)
                probed = await asyncio.to_thread(_ffprobe, with_login)
                return info, tokens, json.dumps(probed), snapshot
            finally:
                await client.close()

    info, tokens, probed, snapshot = asyncio.run(asyncio.wait_for(scenario(), 40))
    expected_maker = {"hikvision": "HIKVISION", "dahua": "Dahua", "imou": "Imou"}[vendor]
    assert (info.Manufacturer, info.Model, info.SerialNumber) == (expected_maker, CAMERAS[vendor][1], "SN00012345")
    assert tokens == (
        ["Profile_1", "Profile_2"] if vendor == "hikvision" else ["MediaProfile00000", "MediaProfile00001"]
    )
    stream = json.loads(probed)
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 640, 360)
    assert int(stream["nb_read_packets"]) > 0  # frames, not just a DESCRIBE
    assert snapshot is not None and snapshot.startswith(b"\xff\xd8") and snapshot.rstrip(b"\0").endswith(b"\xff\xd9")


def test_a_wrong_password_is_not_authorized_and_the_open_calls_stay_open() -> None:
    async def scenario() -> tuple[str, str]:
        async with camera("dahua") as cam:
            client = await _client(cam, "not-the-password")  # GetSystemDateAndTime, GetServices need no login
            try:
                with pytest.raises(zeep.exceptions.Fault) as refused:
                    await (await client.create_devicemgmt_service()).GetDeviceInformation()
                fault = refused.value
                return str(fault.message), " ".join(str(s) for s in fault.subcodes or ())
            finally:
                await client.close()

    message, subcodes = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert "{http://www.onvif.org/ver10/error}NotAuthorized" in subcodes, (message, subcodes)


def test_a_camera_clock_minutes_off_refuses_our_time_and_accepts_its_own() -> None:
    """The skew rule: ``Created`` must be within seconds of the camera's clock. A client that builds its
    token on its own clock is refused; one that reads the camera's time first (adjust_time) is not."""

    async def scenario() -> tuple[bool, str, float]:
        async with camera("hikvision") as cam:
            cam.state.clock_offset_s = 600.0  # ten minutes fast, as a camera without NTP drifts
            naive = await _client(cam, adjust_time=False)
            try:
                await (await naive.create_devicemgmt_service()).GetDeviceInformation()
                naive_ok = True
            except zeep.exceptions.Fault:
                naive_ok = False
            finally:
                await naive.close()
            adjusted = await _client(cam)
            try:
                info = await (await adjusted.create_devicemgmt_service()).GetDeviceInformation()
                return naive_ok, str(info.Model), adjusted.dt_diff.total_seconds()
            finally:
                await adjusted.close()

    naive_ok, model, skew = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert not naive_ok
    assert model == "DS-2CD1023G2-LIU"
    assert 598 <= skew <= 602


def test_the_camfleet_driver_handles_the_skew_and_a_refused_login_through_the_simulator() -> None:
    """The same rule through camfleet's driver (sync, its own loop), against the simulated Imou."""
    state = _state("imou")
    state.clock_offset_s = -420.0  # seven minutes slow
    with served(onvif_camera.camera_app, state) as dev:
        with dev.driver(OnvifCamera, PASSWORD) as cam:
            facts, clock = cam.facts(), cam.time()
            path = cam.stream_path(sub=True)
        with dev.driver(OnvifCamera, "wrong") as cam, pytest.raises(AuthError, match="ONVIF login refused"):
            cam.facts()
    assert (facts.vendor, facts.model) == ("imou", "IPC-F22P")
    assert -425 <= clock.skew_s <= -415
    assert path == "/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif"


def test_a_recorder_channel_is_online_only_over_a_protocol_the_camera_speaks() -> None:
    clock = Clock()
    cams = {
        "127.77.9.2": SimDevice("cam-d", "camera", "dahua", "IPC-HFW1230S1-S5", "127.77.9.2", _state("dahua")),
        "127.77.9.3": SimDevice("cam-o", "camera", "onvif", "IPC-F22P", "127.77.9.3", _state("imou")),
    }
    source = ChannelSource(cams, clock)  # type: ignore[arg-type]
    nvr = NvrState(vendor="hikvision", model="DS-7608NI-K2", serial="NVR1", mac="c0:56:e3:00:00:09", firmware="V4")
    for n, (address, protocol) in enumerate(
        [("127.77.9.2", "ONVIF"), ("127.77.9.2", "HIKVISION"), ("127.77.9.3", "ONVIF"), ("127.77.9.3", "HIKVISION")],
        start=1,
    ):
        nvr.channels[n] = ProxyChannel(address=address, port=80, protocol=protocol, username="admin", password=PASSWORD)
    assert [source.online(nvr, n) for n in (1, 2, 3, 4)] == [True, False, True, False]
