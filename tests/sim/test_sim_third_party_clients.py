"""The simulated cameras' events, motion detection, RTSP config and encode caps, checked by the
third-party clients Home Assistant uses: pyhik (Hikvision: ``/ISAPI/Event/triggers``, the
``alertStream``, ``motionDetection``) and python-amcrest (Dahua: ``rtsp_url()`` from the ``RTSP``
config, ``encode.cgi`` caps, ``MotionDetect``, the ``eventManager.cgi`` attach stream). Each camera
is served in-process, with its RTSP server, on its own 127.77.x.y address; ffprobe reads the URL
amcrest built. And the replies have the shape of the recorded ones in tests/drivers/replies/.

    .venv/bin/pytest tests/sim/test_sim_third_party_clients.py -q
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import httpx
import pytest
from aiohttp import web
from amcrest import AmcrestCamera
from defusedxml import ElementTree as ET
from pyhik.hikvision import HikCamera

from camfleet.sim import dahua, hikvision
from camfleet.sim.devices import CameraState
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.hikvision.events import IsapiEvents
from camfleet.sim.httpserve import serve
from camfleet.sim.media import StreamSpec
from camfleet.sim.rtsp import RtspServer, dahua_resolver, hikvision_resolver
from camfleet.sim.town.device import MAIN, SUB
from tests.conftest import require_program

PASSWORD = "Ngoc-Lac-2026"
REPLIES = Path(__file__).resolve().parents[1] / "drivers" / "replies"
SUB_SPEC = StreamSpec("h264", 640, 360, 10, 20, 256)
MAIN_SPEC = StreamSpec("h264", 1280, 720, 15, 30, 1024)
MODELS = {
    "hikvision": ("DS-2CD1023G2-LIU", "V5.7.15 build 230519"),
    "dahua": ("IPC-HFW1230S1-S5", "V2.800.0000000.16.R.210518"),
}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests and httpx must not send the clients' loopback calls to a proxy."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
    monkeypatch.setenv("no_proxy", "127.0.0.0/8")


@dataclass
class Cam:
    host: str
    port: int
    rtsp_port: int
    state: CameraState
    faults: Faults
    app: web.Application


def _state(vendor: str) -> CameraState:
    model, firmware = MODELS[vendor]
    state = CameraState.configured(
        vendor, model, "SN00012345", "c0:56:e3:00:00:01", firmware, admin_password=PASSWORD, name="cam"
    )
    for stream_id, spec in ((MAIN, MAIN_SPEC), (SUB, SUB_SPEC)):
        config = state.streams[stream_id]
        config.codec, config.width, config.height, config.fps = spec.codec, spec.width, spec.height, spec.fps
        config.gop, config.bitrate_kbps = spec.gop, spec.bitrate_kbps
    return state


@asynccontextmanager
async def camera(vendor: str) -> AsyncIterator[Cam]:
    """A simulated camera (HTTP and RTSP) on one fresh 127.77.x.y address."""
    host = f"127.77.{1 + secrets.randbelow(254)}.{2 + secrets.randbelow(253)}"
    state, faults = _state(vendor), Faults()
    is_dahua = vendor == "dahua"
    resolver = (dahua_resolver if is_dahua else hikvision_resolver)(MAIN_SPEC, SUB_SPEC)
    realm = f"Login to {state.serial}" if is_dahua else "c056e3000001"
    rtsp = RtspServer(host, 0, realm, state.passwords, resolver, faults, style="dahua" if is_dahua else "hikvision")
    await rtsp.start()
    factory: Callable[..., web.Application] = dahua.camera_app if is_dahua else hikvision.camera_app
    app = factory(state, faults, clock=time.time, on_change=lambda: None, rtsp_port=lambda: rtsp.port)
    runner, port = await serve(app, host, 0)
    try:
        yield Cam(host, port, rtsp.port, state, faults, app)
    finally:
        await runner.cleanup()
        await rtsp.stop()


def _wait(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# --------------------------------------------------------------------------- Hikvision, pyhik


def test_pyhik_lists_the_triggers_and_sees_a_motion_start_and_clear() -> None:
    async def scenario() -> dict[str, Any]:
        async with camera("hikvision") as cam:
            device = cam.app[hikvision.DEVICE]
            assert isinstance(device, IsapiEvents)
            device.heartbeat_s = 0.5  # so pyhik's reader wakes often enough to be stopped quickly
            hik = await asyncio.to_thread(HikCamera, f"http://{cam.host}", cam.port, "admin", PASSWORD)
            seen: dict[str, Any] = {
                "name": hik.get_name,
                "type": hik.get_type,
                "triggers": await asyncio.to_thread(hik.get_event_triggers),
                "states": {k: [e[:2] for e in v] for k, v in hik.current_event_states.items()},
                "detection": hik.current_motion_detection_state,
            }
            motion = lambda: bool(hik.current_event_states["Motion"][0][0])  # noqa: E731
            hik.start_stream()
            try:
                seen["connected"] = await asyncio.to_thread(_wait, lambda: hik.stream_connected, 5)
                seen["idle"] = motion()
                cam.faults.set(Fault.motion)
                seen["active"] = await asyncio.to_thread(_wait, motion, 5)
                cam.faults.clear(Fault.motion)
                started = time.monotonic()
                # cleared by the camera's VMD inactive, before pyhik's own 5 s staleness rule would
                seen["cleared"] = await asyncio.to_thread(_wait, lambda: not motion(), 3)
                seen["clear_s"] = time.monotonic() - started
                # switched off through pyhik, the camera stops reporting motion
                await asyncio.to_thread(hik.disable_motion_detection)
                seen["stored_enabled"] = cam.state.motion.enabled
                cam.faults.set(Fault.motion)
                seen["active_while_off"] = await asyncio.to_thread(_wait, motion, 2)
            finally:
                await asyncio.to_thread(hik.disconnect)
            seen["reread"] = await asyncio.to_thread(hik.get_motion_detection)
            return seen

    seen = asyncio.run(asyncio.wait_for(scenario(), 40))
    assert seen["name"] == "cam" and seen["type"] == "CAM"
    assert seen["triggers"] == {"VMD": [1], "tamperdetection": [1], "diskerror": [1]}  # the 'center' ones
    assert seen["states"] == {"Motion": [[False, 1]], "Tamper Detection": [[False, 1]], "Disk Error": [[False, 1]]}
    assert seen["detection"] is True
    assert seen["connected"] and seen["idle"] is False
    assert seen["active"] is True
    assert seen["cleared"] is True, seen
    assert seen["stored_enabled"] is False and seen["active_while_off"] is False
    assert seen["reread"] is False  # the PUT pyhik sent back whole was stored


# --------------------------------------------------------------------------- Dahua, python-amcrest


def _ffprobe(url: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0", "-count_packets",
         "-read_intervals", "%+1", "-show_entries", "stream=codec_name,width,height,nb_read_packets", "-of", "json", url],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    streams: list[dict[str, Any]] = json.loads(out.stdout)["streams"]
    return streams[0]


def _events(client: Any, started: threading.Event, out: list[tuple[str, dict[str, Any]]]) -> None:
    """The first two VideoMotion events of amcrest's attach stream (its read times out at 10 s)."""
    for code, payload in client.event_actions("VideoMotion", timeout_cmd=(5.0, 10.0)):
        out.append((code, payload))
        started.set()
        if len(out) == 2:
            return


def test_amcrest_builds_the_rtsp_url_reads_caps_and_motion_and_follows_the_event_stream() -> None:
    require_program("/usr/bin/ffprobe", "ffmpeg")

    async def scenario() -> dict[str, Any]:
        async with camera("dahua") as cam:
            client = AmcrestCamera(cam.host, cam.port, "admin", PASSWORD, retries_connection=0).camera
            url = await asyncio.to_thread(client.rtsp_url, channel=1, typeno=1)
            seen: dict[str, Any] = {"url": url, "rtsp_port": cam.rtsp_port, "host": cam.host}
            seen["probe"] = await asyncio.to_thread(_ffprobe, url)
            seen["caps"] = await asyncio.to_thread(client.encode_config_capability, 1)
            seen["caps_all"] = await asyncio.to_thread(lambda: client.encode_capability)
            seen["on"] = await asyncio.to_thread(client.is_motion_detector_on)
            seen["record_on"] = await asyncio.to_thread(client.is_record_on_motion_detection)
            seen["set_off"] = await asyncio.to_thread(client.set_motion_detection, False)
            seen["stored"] = CameraState.from_dict(cam.state.to_dict()).motion.enabled  # what persistence keeps
            seen["off"] = await asyncio.to_thread(client.is_motion_detector_on)
            seen["set_on"] = await asyncio.to_thread(client.set_motion_detection, True)
            events: list[tuple[str, dict[str, Any]]] = []
            started = threading.Event()
            cam.faults.set(Fault.motion)
            reader = asyncio.create_task(asyncio.to_thread(_events, client, started, events))
            seen["started"] = await asyncio.to_thread(started.wait, 5)
            cam.faults.clear(Fault.motion)
            await asyncio.wait_for(reader, 10)
            seen["events"] = events
            return seen

    seen = asyncio.run(asyncio.wait_for(scenario(), 40))
    assert re.fullmatch(
        rf"rtsp://admin:{PASSWORD}@{re.escape(seen['host'])}:{seen['rtsp_port']}/cam/realmonitor\?channel=1&subtype=1",
        seen["url"],
    ), seen["url"]  # the port is the camera's real RTSP port, read from table.RTSP.Port
    probe = seen["probe"]
    assert (probe["codec_name"], probe["width"], probe["height"]) == ("h264", 640, 360)
    assert int(probe["nb_read_packets"]) > 0
    caps = dict(line.split("=", 1) for line in seen["caps"].split("\r\n") if line)
    assert caps["caps[0].MainFormat[0].Video.ResolutionTypes"].startswith("1280x720,")
    assert caps["caps[0].ExtraFormat[0].Video.CompressionTypes"] == "H.264,H.265,MJPG"
    assert "caps[0].MainFormat[0].Video.FPSMax=30" in seen["caps_all"]
    assert seen["on"] is True and seen["record_on"] is True
    assert seen["set_off"] is True and seen["stored"] is False and seen["off"] is False
    assert seen["set_on"] is True and seen["started"] is True
    assert [(code, p["action"], p["index"]) for code, p in seen["events"]] == [
        ("VideoMotion", "Start", "0"),
        ("VideoMotion", "Stop", "0"),
    ]
    assert isinstance(seen["events"][0][1]["data"], dict) and seen["events"][0][1]["data"]["UTC"] > 0


# --------------------------------------------------------------------------- the recorded shapes


def _tags(el: Element, skip: frozenset[str] = frozenset()) -> list[str]:
    """Element names depth first, namespaces dropped, a subtree in ``skip`` left out."""
    out: list[str] = []

    def walk(node: Element, depth: int) -> None:
        name = node.tag.rsplit("}", 1)[-1]
        if name in skip:
            return
        out.append("  " * depth + name)
        for child in node:
            walk(child, depth + 1)

    walk(el, 0)
    return out


def _parts(raw: bytes, boundary: bytes) -> Iterator[tuple[dict[str, str], bytes]]:
    """(headers, body) of each part, Content-Length checked against the body."""
    for chunk in raw.split(b"--" + boundary + b"\r\n")[1:]:
        head, _, rest = chunk.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        length = int(headers["Content-Length"])
        assert rest[length:] in (b"\r\n", b""), rest[length:]
        yield headers, rest[:length]


def _kv_keys(text: str) -> list[str]:
    return [line.split("=", 1)[0] for line in text.replace("\r\n", "\n").split("\n") if line]


async def _read_stream(
    client: httpx.AsyncClient, path: str, boundary: bytes, *, until: int, timeout: float
) -> tuple[str, bytes]:
    """The content type and the first ``until`` whole parts of a never-ending reply (read until the
    part after them begins)."""
    raw, marker = b"", b"--" + boundary + b"\r\n"
    async with client.stream("GET", path) as resp:
        assert resp.status_code == 200
        async with asyncio.timeout(timeout):
            async for chunk in resp.aiter_raw():
                raw += chunk
                if raw.count(marker) > until:
                    break
        return resp.headers["content-type"], raw[: raw.rindex(marker)]


def test_replies_have_the_shape_of_the_recorded_ones() -> None:
    async def scenario() -> dict[str, Any]:
        got: dict[str, Any] = {}
        async with camera("hikvision") as cam:
            cam.app[hikvision.DEVICE].heartbeat_s = 0.3  # type: ignore[attr-defined]
            auth = httpx.DigestAuth("admin", PASSWORD)
            base = f"http://{cam.host}:{cam.port}"
            async with httpx.AsyncClient(base_url=base, auth=auth, timeout=5, trust_env=False) as c:
                got["triggers"] = (await c.get("/ISAPI/Event/triggers")).content
                got["motion"] = (await c.get("/ISAPI/System/Video/inputs/channels/1/motionDetection")).content
                got["heartbeat"] = await _read_stream(
                    c, "/ISAPI/Event/notification/alertStream", b"boundary", until=2, timeout=6
                )
                cam.faults.set(Fault.motion)
                got["vmd"] = await _read_stream(
                    c, "/ISAPI/Event/notification/alertStream", b"boundary", until=2, timeout=6
                )
                bad = b"<MotionDetection><MotionDetectionLayout><layout><gridMap>zz</gridMap></layout></MotionDetectionLayout></MotionDetection>"
                r = await c.put("/ISAPI/System/Video/inputs/channels/1/motionDetection", content=bad)
                got["bad_grid"] = (r.status_code, r.text, cam.state.motion.rows[0])
        async with camera("dahua") as cam:
            auth = httpx.DigestAuth("admin", PASSWORD)
            base = f"http://{cam.host}:{cam.port}/cgi-bin"
            async with httpx.AsyncClient(base_url=base, auth=auth, timeout=5, trust_env=False) as c:
                get = "/configManager.cgi?action=getConfig&name="
                got["rtsp"] = (await c.get(get + "RTSP")).text
                got["md"] = (await c.get(get + "MotionDetect")).text
                got["caps"] = (await c.get("/encode.cgi?action=getConfigCaps&channel=1")).text
                cam.faults.set(Fault.motion)
                got["attach"] = await _read_stream(
                    c,
                    "/eventManager.cgi?action=attach&codes=[VideoMotion]&heartbeat=1",
                    b"myboundary",
                    until=2,
                    timeout=6,
                )
                r = await c.get(
                    "/configManager.cgi?action=setConfig&MotionDetect[0].MotionDetectWindow[0].Region[3]=4194304"
                )
                got["bad_region"] = (r.status_code, r.text, cam.state.motion.rows[3])
                r = await c.get(f"/configManager.cgi?action=setConfig&RTSP.Port={cam.rtsp_port + 1}")
                got["bad_port"] = r.status_code
        return got

    got = asyncio.run(asyncio.wait_for(scenario(), 30))
    hik = REPLIES / "hikvision"
    # triggers: the same element tree as the recorded camera's, trigger for trigger
    recorded = ET.parse(hik / "event-triggers-camera.xml").getroot()
    served = ET.fromstring(got["triggers"])
    assert _tags(served)[: len(_tags(recorded))] == _tags(recorded)
    assert _tags(ET.fromstring(got["motion"])) == _tags(ET.parse(hik / "motiondetection-camera.xml").getroot())
    # the alert stream: multipart/mixed on "boundary", each part's XML shaped as the recorded ones
    for key, fixture, expect in (
        ("heartbeat", "alertstream-heartbeat-ds2cd2t85fwd-i5.txt", ("videoloss", "inactive", "0")),
        ("vmd", "alertstream-vmd-active.txt", ("VMD", "active", "1")),
    ):
        content_type, raw = got[key]
        assert content_type == "multipart/mixed; boundary=boundary"
        recorded_raw = (hik / fixture).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        want_headers, want_body = next(_parts(recorded_raw, b"boundary"))
        parts = list(_parts(raw, b"boundary"))
        assert parts, raw
        for headers, body in parts:
            assert set(headers) == set(want_headers) and headers["Content-Type"] == want_headers["Content-Type"]
            assert len(body.splitlines()) > 5  # one element a line: pyhik finds the alert's first and last line
            alert = ET.fromstring(body)
            assert _tags(alert) == _tags(ET.fromstring(want_body), frozenset({"Extensions"}))
            values = tuple(alert.findtext(f"{{*}}{t}") for t in ("eventType", "eventState", "activePostCount"))
            assert values == expect
    assert got["bad_grid"][0] == 400 and "badParameters" in got["bad_grid"][1] and got["bad_grid"][2] == (1 << 22) - 1
    # Dahua: the same keys as the recorded tables
    dh = REPLIES / "dahua"
    assert _kv_keys(got["rtsp"]) == _kv_keys((dh / "rtsp-config.txt").read_text())
    assert _kv_keys(got["md"]) == _kv_keys((dh / "motiondetect-ipc.txt").read_text())
    assert sorted(_kv_keys(got["caps"])) == sorted(_kv_keys((dh / "encode-configcaps.txt").read_text()))
    content_type, raw = got["attach"]
    assert content_type == "multipart/x-mixed-replace; boundary=myboundary"
    want = list(_parts((dh / "eventstream-videomotion.txt").read_bytes(), b"myboundary"))
    served_parts = list(_parts(raw, b"myboundary"))
    assert {tuple(h) for h, _ in served_parts} == {tuple(want[0][0])}
    first = served_parts[0][1].decode()
    assert re.fullmatch(r"Code=VideoMotion;action=Start;index=0;data=\{\n(\t\"\w+\":\t[^\n]+\n){4}\}", first), first
    assert served_parts[1][1] == b"Heartbeat"
    assert got["bad_region"] == (400, "Error\r\nBad Request!\r\n", (1 << 22) - 1)
    assert got["bad_port"] == 400
