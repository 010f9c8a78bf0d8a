"""The stream probe against the simulator's RTSP cameras (and a few deliberately broken fake servers).

Each test runs one event loop (``asyncio.run``) that starts the simulated camera
on its own 127.77.x.y address (port 0), probes it, and stops it again. The clips
are encoded once per module.

    .venv/bin/pytest tests/probes/test_probe_rtsp.py -q
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from camfleet.probes.rtsp import Credentials, Reason, StreamResult, parse_sdp, parse_target, probe_stream
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.media import StreamSpec, clip_for
from camfleet.sim.rtsp import RtspServer, dahua_resolver, hikvision_resolver

T = TypeVar("T")

MAIN = StreamSpec("h264", 1280, 720, 15, 30, 1024)
SUB = StreamSpec("h264", 640, 360, 10, 20, 256)
HEVC = StreamSpec("h265", 640, 360, 10, 20, 256)
SHORT_GOP = StreamSpec("h264", 320, 180, 10, 5, 128)  # a keyframe every 0.5 s
USER, PASSWORD = "admin", "Ngoc-Lac-2023"
HIK_PATH_MAIN, HIK_PATH_SUB = "/Streaming/Channels/101", "/Streaming/Channels/102"
DAHUA_SUB = "/cam/realmonitor?channel=1&subtype=1"


@pytest.fixture(scope="module", autouse=True)
def clips() -> None:
    """Encode (or load) every clip before a server needs it, so no probe waits for ffmpeg."""
    for spec in (MAIN, SUB, HEVC, SHORT_GOP):
        clip_for(spec)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _host() -> str:
    return f"127.77.{secrets.randbelow(254) + 1}.{secrets.randbelow(254) + 1}"


class Camera:
    def __init__(self, server: RtspServer, faults: Faults) -> None:
        self.server, self.faults = server, faults
        self.authenticated: list[str] = []  # methods of requests that carried an Authorization header
        self.methods: list[str] = []  # every request the camera handled, in order

    def url(self, path: str) -> str:
        return f"rtsp://{self.server.host}:{self.server.port}{path}"


@contextlib.asynccontextmanager
async def camera(
    style: str = "hikvision", users: dict[str, str] | None = None, main: StreamSpec = MAIN, sub: StreamSpec = SUB
) -> AsyncIterator[Camera]:
    faults = Faults()
    table = {USER: PASSWORD} if users is None else users
    if style == "dahua":
        resolve, realm = dahua_resolver(main, sub), "Login to 6G0C1234567890"
    else:
        resolve, realm = hikvision_resolver(main, sub), "1868cb21d4df"
    server = RtspServer(_host(), 0, realm, lambda: table, resolve, faults, style=style)  # type: ignore[arg-type]
    cam = Camera(server, faults)
    check = server.auth.check

    def counting(method: str, authorization: str | None) -> Any:
        if authorization:
            cam.authenticated.append(method)
        return check(method, authorization)

    server.auth.check = counting  # type: ignore[method-assign]
    handle = server.handle

    async def recording(conn: Any, req: Any) -> Any:
        cam.methods.append(req.method)
        return await handle(conn, req)

    server.handle = recording  # type: ignore[method-assign]
    await server.start()
    try:
        yield cam
    finally:
        await server.stop()


async def _timed(coro: Coroutine[Any, Any, StreamResult]) -> tuple[StreamResult, float]:
    start = time.monotonic()
    result = await coro
    return result, time.monotonic() - start


async def _sessions_gone(cam: Camera, within: float = 1.0) -> bool:
    """True once the probe said TEARDOWN last and the camera has no session or connection left."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if cam.server.playing == 0 and not cam.server.connections:
            return cam.methods[-1:] == ["TEARDOWN"]
        await asyncio.sleep(0.02)
    return False


def _assert_healthy(result: StreamResult, spec: StreamSpec) -> None:
    assert result.success, result
    assert result.reason is None
    assert result.codec == spec.codec
    assert (result.width, result.height) == (spec.width, spec.height)
    assert result.fps_measured is not None
    assert abs(result.fps_measured - spec.fps) <= 0.2 * spec.fps, result.fps_measured
    assert result.keyframe_seen and result.keyframes_received >= 1
    assert result.frames_received >= 2
    assert result.bitrate_bps_measured is not None and result.bitrate_bps_measured > 0.3 * spec.bitrate_kbps * 1000
    assert result.bytes_received > 1000
    assert result.time_to_first_frame_s is not None and 0 <= result.time_to_first_frame_s < 1.0
    assert result.connect_s is not None and result.describe_s is not None
    assert result.packets_lost == 0


# --------------------------------------------------------------------------- healthy cameras


def test_healthy_hikvision_main_and_sub() -> None:
    async def scenario() -> tuple[StreamResult, StreamResult, bool]:
        async with camera() as cam:
            main = await probe_stream(cam.url(HIK_PATH_MAIN), USER, PASSWORD, timeout=3, measure_s=0.6)
            sub = await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=3, measure_s=0.6)
            return main, sub, await _sessions_gone(cam)

    main, sub, gone = run(scenario())
    _assert_healthy(main, MAIN)
    _assert_healthy(sub, SUB)
    assert main.sps_source == "sdp"
    assert main.duration_s < 1.5  # keyframe at once, then the 0.6 s window
    assert gone, "TEARDOWN did not end the session"


def test_teardown_answer_is_not_awaited() -> None:
    """The probe writes TEARDOWN and goes: a camera slow to answer it holds neither the probe nor the scrape.

    Waiting for the answer cost a round trip per probe, 0.2-0.6 s each in a burst of 1,000
    (bench/exporter.py); the old probe waited here until its budget ran out.
    """

    async def scenario() -> tuple[StreamResult, list[str]]:
        async with camera() as cam:
            handle = cam.server.handle

            async def held_teardown(conn: Any, req: Any) -> Any:
                if req.method == "TEARDOWN":
                    cam.methods.append("TEARDOWN (held)")
                    await asyncio.sleep(2)
                return await handle(conn, req)

            cam.server.handle = held_teardown  # type: ignore[method-assign]
            result = await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=4, measure_s=0.3)
            for _ in range(50):  # the camera reads the TEARDOWN a moment after the probe returned
                if "TEARDOWN (held)" in cam.methods:
                    break
                await asyncio.sleep(0.02)
            return result, list(cam.methods)

    result, methods = run(scenario())
    _assert_healthy(result, SUB)
    assert methods[-1] == "TEARDOWN (held)", methods
    assert result.duration_s < 2.0, result.duration_s  # the old probe took the whole 4 s budget


def test_healthy_dahua_relative_control() -> None:
    async def scenario() -> StreamResult:
        async with camera("dahua") as cam:
            return await probe_stream(cam.url(DAHUA_SUB), USER, PASSWORD, timeout=3, measure_s=0.6)

    result = run(scenario())
    _assert_healthy(result, SUB)
    assert result.fps_declared == pytest.approx(10.0)  # Dahua's a=framerate


def test_h265_without_sdp_parameter_sets_reads_inband_sps() -> None:
    """Hikvision's H.265 SDP carries no fmtp: the size must come from the SPS sent before the keyframe."""

    async def scenario() -> StreamResult:
        async with camera(sub=HEVC) as cam:
            return await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=3, measure_s=0.5)

    result = run(scenario())
    _assert_healthy(result, HEVC)
    assert result.sps_source == "inband"


def test_credentials_in_url_are_used_when_none_given() -> None:
    async def scenario() -> StreamResult:
        async with camera() as cam:
            url = cam.url(HIK_PATH_SUB).replace("rtsp://", f"rtsp://{USER}:{PASSWORD}@")
            return await probe_stream(url, timeout=3, measure_s=0)

    result = run(scenario())
    assert result.success, result
    assert result.frames_received >= 1 and result.fps_measured is None  # measure_s=0 stops at the keyframe
    assert result.duration_s < 0.5


def test_waits_for_the_wanted_number_of_keyframes() -> None:
    async def scenario() -> StreamResult:
        async with camera(sub=SHORT_GOP) as cam:
            return await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=3, frames=2, measure_s=0)

    result = run(scenario())
    assert result.success, result
    assert result.keyframes_received == 2
    assert result.frames_received >= SHORT_GOP.gop + 1  # a whole GOP lies between the two keyframes
    assert 0.35 < result.duration_s < 1.5


# --------------------------------------------------------------------------- faults


def test_wrong_password_is_auth_after_one_attempt() -> None:
    async def scenario() -> tuple[StreamResult, list[str]]:
        async with camera() as cam:
            return await probe_stream(cam.url(HIK_PATH_SUB), USER, "wrong", timeout=3), cam.authenticated

    result, attempts = run(scenario())
    assert not result.success
    assert result.reason is Reason.auth
    assert attempts == ["DESCRIBE"]  # one authenticated request, never a retry loop toward a lock-out
    assert result.status == 401


def test_not_activated_is_auth() -> None:
    async def scenario() -> tuple[StreamResult, list[str]]:
        async with camera(users={}) as cam:
            return await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=3), cam.authenticated

    result, attempts = run(scenario())
    assert result.reason is Reason.auth
    assert len(attempts) == 1


def test_locked_out_is_auth() -> None:
    async def scenario() -> StreamResult:
        async with camera() as cam:
            cam.faults.set(Fault.locked)
            return await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=3)

    assert run(scenario()).reason is Reason.auth


def test_frozen_is_no_frames_within_budget() -> None:
    async def scenario() -> tuple[StreamResult, float, bool]:
        async with camera() as cam:
            cam.faults.set(Fault.frozen)
            result, took = await _timed(probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=1.5))
            return result, took, await _sessions_gone(cam)

    result, took, gone = run(scenario())
    assert result.reason is Reason.no_frames
    assert result.status == 200  # PLAY itself was fine
    assert result.frames_received == 0 and not result.keyframe_seen
    assert 1.0 < took <= 1.5 + 0.2
    assert gone, "the frozen session was not torn down"


def test_offline_is_refused() -> None:
    async def scenario() -> tuple[StreamResult, float]:
        async with camera() as cam:
            cam.faults.set(Fault.offline)
            for _ in range(40):  # the server closes its listener on its next 0.5 s check
                if not cam.server.listening:
                    break
                await asyncio.sleep(0.05)
            assert not cam.server.listening
            return await _timed(probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=2))

    result, took = run(scenario())
    assert result.reason is Reason.refused
    assert took < 0.5


def test_hang_is_timeout_inside_the_budget() -> None:
    async def scenario() -> tuple[StreamResult, float]:
        async with camera() as cam:
            cam.faults.set(Fault.hang)
            return await _timed(probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=1.0))

    result, took = run(scenario())
    assert result.reason is Reason.timeout
    assert "OPTIONS" in result.detail
    assert 0.95 <= took <= 1.0 + 0.2


def test_slow_beyond_the_budget_is_timeout() -> None:
    async def scenario() -> tuple[StreamResult, float]:
        async with camera() as cam:
            cam.faults.set(Fault.slow, delay_s=2.0)
            return await _timed(probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=1.0))

    result, took = run(scenario())
    assert result.reason is Reason.timeout
    assert took <= 1.0 + 0.2


def test_unknown_path_is_not_found() -> None:
    async def scenario() -> StreamResult:
        async with camera() as cam:
            return await probe_stream(cam.url("/Streaming/Channels/999"), USER, PASSWORD, timeout=3)

    result = run(scenario())
    assert result.reason is Reason.not_found
    assert result.status == 404


def test_keyframe_not_in_budget_is_no_keyframe() -> None:
    """Two keyframes 2 s apart cannot arrive in 1 s: frames came, so this is not a freeze."""

    async def scenario() -> StreamResult:
        async with camera() as cam:
            return await probe_stream(cam.url(HIK_PATH_SUB), USER, PASSWORD, timeout=1.0, frames=2)

    result = run(scenario())
    assert result.reason is Reason.no_keyframe
    assert result.keyframes_received == 1 and result.frames_received >= 5


# --------------------------------------------------------------------------- broken servers

GOOD_SDP = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
    b"a=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
)


def _reply(status: str, *headers: str, body: bytes = b"") -> Callable[[str], bytes]:
    def make(cseq: str) -> bytes:
        lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq}", *headers, f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    return make


OK = _reply("200 OK", "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
BROKEN: dict[str, dict[str, Callable[[str], bytes]]] = {
    "binary garbage": {"OPTIONS": lambda _: b"\x00\xff\x13garbage\x88\r\n\r\n"},
    "an HTTP server": {"OPTIONS": lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
    "bad status code": {"OPTIONS": lambda c: f"RTSP/1.0 2OO OK\r\nCSeq: {c}\r\n\r\n".encode()},
    "bad content-length": {"OPTIONS": lambda c: f"RTSP/1.0 200 OK\r\nCSeq: {c}\r\nContent-Length: x\r\n\r\n".encode()},
    "DESCRIBE body not SDP": {
        "OPTIONS": OK,
        "DESCRIBE": _reply("200 OK", "Content-Type: application/sdp", body=b"<html>hello</html>"),
    },
    "SETUP without Session": {
        "OPTIONS": OK,
        "DESCRIBE": _reply("200 OK", "Content-Type: application/sdp", body=GOOD_SDP),
        "SETUP": _reply("200 OK", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"),
    },
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_malformed_replies_are_bad_reply(name: str) -> None:
    script = BROKEN[name]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                method = head.split(" ", 1)[0]
                cseq = next((ln.split(":", 1)[1].strip() for ln in head.split("\r\n") if ln.startswith("CSeq")), "0")
                writer.write(script.get(method, _reply("500 Internal Server Error"))(cseq))
                await writer.drain()
        writer.close()

    async def scenario() -> tuple[StreamResult, float]:
        host = _host()
        server = await asyncio.start_server(handle, host, 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await _timed(probe_stream(f"rtsp://{host}:{port}/live", USER, PASSWORD, timeout=2))
        finally:
            server.close()
            await server.wait_closed()

    result, took = run(scenario())
    assert result.reason is Reason.bad_reply, result
    assert took < 0.5  # recognised at once, not by running out the clock


# --------------------------------------------------------------------------- pieces, no sockets


def test_sdp_control_urls_absolute_and_relative() -> None:
    hik = (
        "v=0\r\ns=Media Presentation\r\na=control:rtsp://10.0.0.5:554/Streaming/Channels/101/\r\n"
        "m=video 0 RTP/AVP 96\r\na=x-dimensions:1920,1080\r\na=control:rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=1\r\n"
        "a=rtpmap:96 H265/90000\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
    )
    track = parse_sdp(hik, "rtsp://10.0.0.5:554/Streaming/Channels/101/")
    assert track.codec == "h265" and track.sps is None
    assert track.control_url == "rtsp://10.0.0.5:554/Streaming/Channels/101/trackID=1"
    assert track.play_url == "rtsp://10.0.0.5:554/Streaming/Channels/101/"
    assert (track.width, track.height) == (1920, 1080)

    dahua = "v=0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=control:trackID=0\r\na=framerate:25.000000\r\na=rtpmap:96 H264/90000\r\n"
    track = parse_sdp(dahua, "rtsp://h/cam/realmonitor?channel=1&subtype=0/")
    assert track.control_url == "rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0"
    assert track.play_url == "rtsp://h/cam/realmonitor?channel=1&subtype=0/"
    assert track.framerate == 25.0


def test_sdp_without_video_or_with_other_codec() -> None:
    with pytest.raises(Exception, match="no video") as info:
        parse_sdp("v=0\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n", "rtsp://h/")
    assert getattr(info.value, "reason", None) is Reason.no_video
    with pytest.raises(Exception, match="JPEG") as info:
        parse_sdp("v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 JPEG/90000\r\n", "rtsp://h/")
    assert getattr(info.value, "reason", None) is Reason.unsupported_codec


def test_target_strips_credentials_from_the_request_url() -> None:
    target = parse_target("rtsp://admin:p%40ss@127.0.0.9:8554/Streaming/Channels/102?transportmode=unicast")
    assert target.url == "rtsp://127.0.0.9:8554/Streaming/Channels/102?transportmode=unicast"
    assert (target.host, target.port, target.username, target.password) == ("127.0.0.9", 8554, "admin", "p@ss")
    assert parse_target("rtsp://127.0.0.9/x", "u", "p").port == 554
    with pytest.raises(ValueError, match="rtsp://"):
        parse_target("http://127.0.0.9/x")


def test_digest_response_matches_rfc2617_without_qop() -> None:
    creds = Credentials("admin", "12345")
    assert creds.learn(['Basic realm="x"', 'Digest realm="1868cb21d4df", nonce="abc", stale="FALSE"'])
    header = creds.header("DESCRIBE", "rtsp://h/Streaming/Channels/101")
    assert header is not None and header.startswith("Digest ")
    # MD5(MD5(admin:1868cb21d4df:12345):abc:MD5(DESCRIBE:rtsp://h/Streaming/Channels/101))

    def md5(s: str) -> str:
        return hashlib.md5(s.encode(), usedforsecurity=False).hexdigest()

    expected = md5(f"{md5('admin:1868cb21d4df:12345')}:abc:{md5('DESCRIBE:rtsp://h/Streaming/Channels/101')}")
    assert f'response="{expected}"' in header
