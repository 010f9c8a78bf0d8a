"""The simulated cameras' RTSP, checked by real clients: ffprobe/ffmpeg and a raw RTSP/RTP reader.

The servers run on a background asyncio loop (one per module), each on its own
127.77.x.y address; ffprobe runs as a subprocess with a timeout, and the raw
client speaks RTSP over its own asyncio loop in the test thread.

    .venv/bin/pytest tests/sim/test_rtsp.py -q
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import re
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from camfleet.sim.faults import Fault, Faults
from camfleet.sim.media import StreamSpec, clip_for, parse_annexb
from camfleet.sim.rtsp import RtspServer, dahua_resolver, hikvision_resolver

T = TypeVar("T")

MAIN = StreamSpec("h264", 1280, 720, 15, 30, 1024)
SUB = StreamSpec("h264", 640, 360, 10, 20, 256)
HEVC = StreamSpec("h265", 640, 360, 10, 20, 256)
USER, PASSWORD = "admin", "Ngoc-Lac-2023"
HIK_REALM = "1868cb21d4df"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rtsp_clips(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Encode the clips once, into a private cache, before any server needs them."""
    cache = tmp_path_factory.mktemp("media")
    for spec in (MAIN, SUB, HEVC):
        clip_for(spec, cache)


@pytest.fixture(scope="module")
def rtsp_loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="rtsp-sim", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def _on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


class Camera:
    """A started server plus what a test needs to reach it."""

    def __init__(self, server: RtspServer, faults: Faults, users: dict[str, str]) -> None:
        self.server, self.faults, self.users = server, faults, users

    @property
    def base(self) -> str:
        return f"rtsp://{self.server.host}:{self.server.port}"

    def url(self, path: str, user: str = USER, password: str = PASSWORD) -> str:
        return f"rtsp://{user}:{password}@{self.server.host}:{self.server.port}{path}"


@pytest.fixture
def rtsp_camera(rtsp_clips: None, rtsp_loop: asyncio.AbstractEventLoop) -> Iterator[Callable[..., Camera]]:
    """Factory: ``rtsp_camera(style=..., users=..., **server_kwargs)`` → a started camera, stopped afterwards."""
    started: list[RtspServer] = []

    def make(style: str = "hikvision", users: dict[str, str] | None = None, **kwargs: Any) -> Camera:
        host = f"127.77.{secrets.randbelow(254) + 1}.{secrets.randbelow(254) + 1}"
        faults = Faults()
        table = {USER: PASSWORD} if users is None else users
        if style == "dahua":
            resolve, realm = dahua_resolver(MAIN, SUB), "Login to 6G0C1234567890"
        else:
            resolve, realm = hikvision_resolver(MAIN, SUB), HIK_REALM
        server = RtspServer(host, 0, realm, lambda: table, resolve, faults, style=style, **kwargs)  # type: ignore[arg-type]
        _on(rtsp_loop, server.start())
        started.append(server)
        return Camera(server, faults, table)

    yield make
    for server in started:
        _on(rtsp_loop, server.stop())


# --------------------------------------------------------------------------- clients


def ffprobe(url: str, *args: str, io_timeout_s: float = 3, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    """ffprobe over TCP with an I/O timeout (``-timeout`` is in microseconds for RTSP)."""
    command = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-timeout", str(int(io_timeout_s * 1e6))]
    command += ["-analyzeduration", "500000"]  # 0.5 s of video is plenty; the default 5 s makes each probe ~3 s
    return subprocess.run([*command, *args, "-of", "json", url], capture_output=True, text=True, timeout=timeout)


def probe_stream(url: str) -> dict[str, Any]:
    result = ffprobe(url, "-show_streams")
    assert result.returncode == 0, result.stderr
    streams = json.loads(result.stdout)["streams"]
    assert len(streams) == 1, streams
    return dict(streams[0])


def count_frames(url: str, frames: int = 3, io_timeout_s: float = 2) -> tuple[list[str], str]:
    """Picture types of the first ``frames`` decoded frames (empty when no video arrives)."""
    result = ffprobe(
        url, "-show_entries", "frame=pict_type", "-read_intervals", f"%+#{frames}", io_timeout_s=io_timeout_s
    )
    if result.returncode != 0 or not result.stdout.strip():
        return [], result.stderr
    return [f["pict_type"] for f in json.loads(result.stdout).get("frames", [])], result.stderr


class RawRtsp:
    """A minimal RTSP/1.0 client that also collects interleaved RTP, to check the wire byte by byte."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> None:
        self.reader, self.writer, self.url = reader, writer, url
        self.cseq = 0
        self.auth: tuple[str, str, str] | None = None  # user, password, challenge
        self.session: str | None = None
        self.packets: list[tuple[float, int, bytes]] = []  # arrival, channel, payload

    @classmethod
    async def open(cls, camera: Camera, path: str) -> RawRtsp:
        reader, writer = await asyncio.open_connection(camera.server.host, camera.server.port)
        return cls(reader, writer, camera.base + path)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    def _authorization(self, method: str, uri: str) -> str | None:
        if self.auth is None:
            return None
        user, password, challenge = self.auth
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        ha1 = md5(f"{user}:{fields['realm']}:{password}")
        response = md5(f"{ha1}:{fields['nonce']}:{md5(f'{method}:{uri}')}")
        return (
            f'Digest username="{user}", realm="{fields["realm"]}", nonce="{fields["nonce"]}", '
            f'uri="{uri}", response="{response}"'
        )

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(
        self, method: str, url: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, list[str]], bytes]:
        url = url or self.url
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: camfleet-test"]
        if (auth := self._authorization(method, url)) is not None:
            lines.append(f"Authorization: {auth}")
        if self.session and method not in ("OPTIONS", "DESCRIBE"):
            lines.append(f"Session: {self.session}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        await self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
        return await self.reply()

    async def reply(self) -> tuple[int, dict[str, list[str]], bytes]:
        """Next RTSP reply; interleaved packets met on the way are kept in ``packets``."""
        while True:
            first = await self.reader.readexactly(1)
            if first == b"$":
                head = await self.reader.readexactly(3)
                payload = await self.reader.readexactly(int.from_bytes(head[1:3], "big"))
                self.packets.append((time.monotonic(), head[0], payload))
                continue
            head_text = (first + await self.reader.readuntil(b"\r\n\r\n")).decode()
            status_line, *header_lines = head_text.strip().split("\r\n")
            headers: dict[str, list[str]] = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), []).append(value.strip())
            body = await self.reader.readexactly(int(headers.get("content-length", ["0"])[0]))
            return int(status_line.split()[1]), headers, body

    async def read_packets(self, seconds: float) -> None:
        """Collect interleaved packets for a while (no RTSP replies are expected meanwhile)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                head = await asyncio.wait_for(self.reader.readexactly(4), left)
            except TimeoutError:
                return
            assert head[:1] == b"$", head
            payload = await self.reader.readexactly(int.from_bytes(head[2:4], "big"))
            self.packets.append((time.monotonic(), head[1], payload))

    async def login(self, user: str = USER, password: str = PASSWORD) -> bytes:
        """DESCRIBE, answer the digest challenge, return the SDP."""
        status, headers, _ = await self.request("DESCRIBE", headers={"Accept": "application/sdp"})
        assert status == 401
        digest = [h for h in headers["www-authenticate"] if h.startswith("Digest ")]
        assert digest, headers
        self.auth = (user, password, digest[0])
        status, headers, sdp = await self.request("DESCRIBE", headers={"Accept": "application/sdp"})
        assert status == 200, (status, headers)
        return sdp

    async def play(self, track: str, transport: str = "RTP/AVP/TCP;unicast;interleaved=0-1") -> dict[str, list[str]]:
        status, headers, _ = await self.request("SETUP", track, {"Transport": transport})
        assert status == 200, (status, headers)
        self.session = headers["session"][0].split(";")[0]
        status, headers, _ = await self.request("PLAY", headers={"Range": "npt=0.000-"})
        assert status == 200, (status, headers)
        return headers


def wait_for_listener(camera: Camera, listening: bool, within_s: float = 2) -> bool:
    """The server notices fault changes on a timer; wait (bounded) until it has."""
    deadline = time.monotonic() + within_s
    while camera.server.listening != listening and time.monotonic() < deadline:
        time.sleep(0.05)
    return camera.server.listening == listening


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def run(coro: Coroutine[Any, Any, T], timeout: float = 20) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def nal_types(payload: bytes) -> tuple[int, bool]:
    """(NAL type, starts a NAL unit) of an H.264 RTP payload, looking through FU-A."""
    kind = payload[0] & 0x1F
    if kind == 28:
        return payload[1] & 0x1F, bool(payload[1] & 0x80)
    return kind, True


# --------------------------------------------------------------------------- media


def test_clip_is_shared_and_has_an_idr_every_gop(rtsp_clips: None) -> None:
    clip = clip_for(SUB)
    assert clip_for(StreamSpec("h264", 640, 360, 10, 20, 256)) is clip  # one object for every camera of the spec
    keyframes = [i for i, frame in enumerate(clip.frames) if frame.keyframe]
    assert keyframes == list(range(0, len(clip.frames), SUB.gop))
    assert len(clip.frames) % SUB.gop == 0 and len(clip.frames) >= 2 * SUB.gop
    assert clip.sps[0] & 0x1F == 7 and clip.pps[0] & 0x1F == 8
    assert clip.profile_level_id == clip.sps[1:4].hex().upper()
    assert clip.sprop_parameter_sets.count(",") == 1
    assert all(nal[0] & 0x1F == (5 if frame.keyframe else 1) for frame in clip.frames for nal in frame.nals)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/Streaming/Channels/101", MAIN),
        ("/streaming/CHANNELS/102/", SUB),
        ("/ISAPI/Streaming/channels/101?transportmode=unicast", MAIN),
        ("/h264/ch1/sub/av_stream", SUB),
        ("/Streaming/Channels/103", None),
        ("/Streaming/Channels/201", None),
        ("/cam/realmonitor?channel=1&subtype=0", None),
    ],
)
def test_hikvision_urls(target: str, expected: StreamSpec | None) -> None:
    assert hikvision_resolver(MAIN, SUB)(target) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cam/realmonitor?channel=1&subtype=0", MAIN),
        ("/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif", SUB),
        ("/cam/realmonitor?channel=1", MAIN),
        ("/cam/realmonitor?channel=2&subtype=0", None),
        ("/cam/realmonitor?channel=1&subtype=2", None),
        ("/Streaming/Channels/101", None),
    ],
)
def test_dahua_urls(target: str, expected: StreamSpec | None) -> None:
    assert dahua_resolver(MAIN, SUB)(target) == expected


# --------------------------------------------------------------------------- ffprobe against the simulator


def test_ffprobe_reads_every_stream_url(rtsp_camera: Callable[..., Camera]) -> None:
    hik, dahua = rtsp_camera(), rtsp_camera(style="dahua")
    cases = {
        hik.url("/Streaming/Channels/101"): MAIN,
        hik.url("/Streaming/channels/102?transportmode=unicast"): SUB,
        hik.url("/ISAPI/Streaming/channels/101"): MAIN,
        dahua.url("/cam/realmonitor?channel=1&subtype=0"): MAIN,
        dahua.url("/cam/realmonitor?channel=1&subtype=1"): SUB,
        hik.url("/Streaming/tracks/102?starttime=20240115T100000Z&endtime=20240115T105959Z"): SUB,
    }
    with ThreadPoolExecutor(len(cases)) as pool:
        found = dict(zip(cases, pool.map(probe_stream, cases), strict=True))
    for url, spec in cases.items():
        stream = found[url]
        assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", spec.width, spec.height), url
        assert stream["r_frame_rate"] == f"{spec.fps}/1", url


def test_ffprobe_reads_h265_without_sprop_in_band(rtsp_clips: None, rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    camera.server.resolve = hikvision_resolver(HEVC)  # Hikvision's H.265 SDP has no fmtp: SPS only in band
    stream = probe_stream(camera.url("/Streaming/Channels/101"))
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("hevc", 640, 360)


def test_ffmpeg_decodes_gops_without_errors(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera(style="dahua")
    types, stderr = count_frames(camera.url("/cam/realmonitor?channel=1&subtype=1"), frames=SUB.gop + 1)
    assert types == ["I"] + ["P"] * (SUB.gop - 1) + ["I"], stderr
    assert "error" not in stderr.lower(), stderr


def test_wrong_password_and_inactive_device_get_401(rtsp_camera: Callable[..., Camera]) -> None:
    camera, inactive = rtsp_camera(), rtsp_camera(users={})
    wrong = ffprobe(camera.url("/Streaming/Channels/102", password="12345"), "-show_streams")
    assert wrong.returncode != 0 and "401" in wrong.stderr, wrong.stderr
    not_activated = ffprobe(inactive.url("/Streaming/Channels/102"), "-show_streams")
    assert not_activated.returncode != 0 and "401" in not_activated.stderr, not_activated.stderr

    async def options(cam: Camera) -> int:
        client = await RawRtsp.open(cam, "/Streaming/Channels/102")
        try:
            return (await client.request("OPTIONS"))[0]
        finally:
            await client.close()

    assert run(options(inactive)) == 401  # not activated: even OPTIONS is refused
    assert run(options(camera)) == 200  # activated: OPTIONS needs no auth


def test_locked_device_refuses_the_right_password(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    camera.faults.set(Fault.locked)
    result = ffprobe(camera.url("/Streaming/Channels/102"), "-show_streams")
    assert result.returncode != 0 and "401" in result.stderr, result.stderr
    camera.faults.clear(Fault.locked)
    assert probe_stream(camera.url("/Streaming/Channels/102"))["width"] == SUB.width


@pytest.mark.slow  # two ffprobe I/O timeouts while frozen
def test_frozen_answers_rtsp_but_sends_no_frames(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    url = camera.url("/Streaming/Channels/102")
    camera.faults.set(Fault.frozen)

    async def describe_and_play() -> tuple[bytes, int]:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        try:
            sdp = await client.login()
            await client.play(client.url + "/trackID=1")
            await client.read_packets(0.5)
            return sdp, len(client.packets)
        finally:
            await client.close()

    sdp, packets = run(describe_and_play())
    assert b"a=rtpmap:96 H264/90000" in sdp and packets == 0
    frames, stderr = count_frames(url, io_timeout_s=1)
    assert frames == [], stderr
    camera.faults.clear(Fault.frozen)
    frames, stderr = count_frames(url)
    assert frames[:1] == ["I"] and len(frames) == 3, stderr


def test_offline_refuses_connections_and_recovers(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    host, port = camera.server.host, camera.server.port

    def refused() -> bool:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except ConnectionResetError:  # accepted in the instant before the listener closed, then reset
            pass
        return False

    async def playing_client() -> bytes:
        """A client that is streaming when the device goes offline must be cut off."""
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        await client.login()
        await client.play(client.url + "/trackID=1")
        camera.faults.set(Fault.offline)
        try:
            await client.read_packets(2)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            return type(exc).__name__.encode()
        finally:
            await client.close()
        return b"still open"

    assert run(playing_client()) != b"still open"
    deadline = time.monotonic() + 2
    while not refused() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused()
    gone = ffprobe(camera.url("/Streaming/Channels/102"), "-show_streams")
    assert gone.returncode != 0 and "refused" in gone.stderr.lower(), gone.stderr

    camera.faults.clear(Fault.offline)
    deadline = time.monotonic() + 2
    while refused() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert camera.server.port == port
    assert probe_stream(camera.url("/Streaming/Channels/102"))["height"] == SUB.height


def test_link_down_upstream_is_offline_too(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    camera.faults.upstream_down = True
    assert wait_for_listener(camera, listening=False)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((camera.server.host, camera.server.port), timeout=1)
    camera.faults.upstream_down = False
    assert wait_for_listener(camera, listening=True)
    socket.create_connection((camera.server.host, camera.server.port), timeout=1).close()


def test_hang_accepts_but_never_answers(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    camera.faults.set(Fault.hang)

    async def options(wait: float) -> int | None:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")  # the connect itself succeeds
        try:
            return (await asyncio.wait_for(client.request("OPTIONS"), wait))[0]
        except TimeoutError:
            return None
        finally:
            await client.close()

    assert run(options(0.5)) is None
    hung = ffprobe(camera.url("/Streaming/Channels/102"), "-show_streams", io_timeout_s=1, timeout=10)
    assert hung.returncode != 0, hung.stderr
    camera.faults.clear(Fault.hang)
    assert run(options(2)) == 200


def test_slow_delays_every_reply(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()
    camera.faults.set(Fault.slow, delay_s=0.4)

    async def timed_options() -> float:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        try:
            start = time.monotonic()
            assert (await client.request("OPTIONS"))[0] == 200
            assert (await client.request("OPTIONS"))[0] == 200
            return time.monotonic() - start
        finally:
            await client.close()

    assert run(timed_options()) >= 0.8


# --------------------------------------------------------------------------- the wire, byte by byte


def test_raw_client_gets_keyframe_first_and_paced_rtp(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()

    async def scenario() -> None:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        try:
            status, headers, _ = await client.request("OPTIONS")
            assert status == 200 and "GET_PARAMETER" in headers["public"][0]
            sdp = (await client.login()).decode()
            for line in (
                "m=video 0 RTP/AVP 96",
                "a=rtpmap:96 H264/90000",
                f"a=control:{client.url}/trackID=1",
                f"a=x-dimensions:{SUB.width},{SUB.height}",
            ):
                assert line in sdp.splitlines(), (line, sdp)
            fmtp = next(line for line in sdp.splitlines() if line.startswith("a=fmtp:96 "))
            assert "packetization-mode=1" in fmtp and f"profile-level-id={clip_for(SUB).profile_level_id}" in fmtp
            assert f"sprop-parameter-sets={clip_for(SUB).sprop_parameter_sets}" in fmtp

            status, headers, _ = await client.request(
                "SETUP", client.url + "/trackID=1", {"Transport": "RTP/AVP;unicast;client_port=5000-5001"}
            )
            assert status == 200 and "server_port=" in headers["transport"][0]  # UDP too; TCP below replaces it
            started = time.monotonic()
            play = await client.play(client.url + "/trackID=1")
            rtp_info = dict(kv.split("=", 1) for kv in play["rtp-info"][0].split(";"))
            await client.read_packets(1.0)

            rtp = [(t, p) for t, ch, p in client.packets if ch == 0]
            assert rtp, "no RTP within 1 s"
            assert all(p[0] >> 6 == 2 and p[1] & 0x7F == 96 for _, p in rtp)
            first_types = [nal_types(p[12:]) for _, p in rtp[:3]]
            assert [t for t, _ in first_types] == [7, 8, 5], first_types  # SPS, PPS, then the IDR
            assert rtp[2][0] - started < 1.0
            seqs = [int.from_bytes(p[2:4], "big") for _, p in rtp]
            assert seqs[0] == int(rtp_info["seq"])
            assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
            stamps = [int.from_bytes(p[4:8], "big") for _, p in rtp if p[1] & 0x80]  # one per frame (marker)
            assert int.from_bytes(rtp[0][1][4:8], "big") == int(rtp_info["rtptime"])
            steps = {(b - a) % 2**32 for a, b in itertools.pairwise(stamps)}
            assert steps == {90_000 // SUB.fps}, steps
            assert SUB.fps * 0.7 <= len(stamps) <= SUB.fps * 1.3  # paced in real time, not burst
            assert any(nal_types(p[12:]) == (28, True) or len(p) > 1000 for _, p in rtp)
            assert any(ch == 1 and p[1] == 200 for _, ch, p in client.packets)  # an RTCP sender report

            status, headers, _ = await client.request("GET_PARAMETER")
            assert status == 200 and headers["session"][0].startswith(client.session or "?")
            status, _, _ = await client.request("TEARDOWN")
            assert status == 200
        finally:
            await client.close()

    run(scenario())


def test_fu_a_fragments_reassemble_to_the_clip(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera(style="dahua")

    async def first_idr() -> bytes:
        client = await RawRtsp.open(camera, "/cam/realmonitor?channel=1&subtype=0")
        try:
            sdp = (await client.login()).decode()
            assert "a=control:trackID=0" in sdp and f"a=framerate:{MAIN.fps:.6f}" in sdp
            await client.play(client.url + "/trackID=0")
            await client.read_packets(0.4)
        finally:
            await client.close()
        idr = b""
        for _, channel, packet in client.packets:
            payload = packet[12:]
            if channel == 0 and payload[0] & 0x1F == 28 and payload[1] & 0x1F == 5:
                if payload[1] & 0x80:
                    idr = bytes([(payload[0] & 0xE0) | 5])
                idr += payload[2:]
                if payload[1] & 0x40:
                    return idr
        raise AssertionError("no complete fragmented IDR")

    assert run(first_idr()) == clip_for(MAIN).frames[0].nals[0]


def test_bad_requests_get_device_errors_not_crashes(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera()

    async def scenario() -> list[int]:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        statuses = []
        try:
            await client.send_raw(b"HELLO\r\n\r\n")
            statuses.append((await client.reply())[0])
            await client.send_raw(b"OPTIONS rtsp://x/ RTSP/1.0\r\n\r\n")  # no CSeq
            statuses.append((await client.reply())[0])
            statuses.append((await client.request("FROB"))[0])
            statuses.append((await client.request("RECORD"))[0])
            await client.send_raw(b"OPTIONS rtsp://x/ RTSP/2.0\r\nCSeq: 9\r\n\r\n")
            statuses.append((await client.reply())[0])
            await client.login()
            statuses.append((await client.request("DESCRIBE", camera.base + "/Streaming/Channels/999"))[0])
            statuses.append((await client.request("PLAY", headers={"Session": "12345"}))[0])
            statuses.append((await client.request("SETUP", client.url + "/trackID=7", {"Transport": "RTP/AVP/TCP"}))[0])
            statuses.append((await client.request("OPTIONS"))[0])  # still alive and answering
        finally:
            await client.close()
        return statuses

    assert run(scenario()) == [400, 400, 501, 405, 505, 404, 454, 404, 200]


def test_session_expires_without_keepalive(rtsp_camera: Callable[..., Camera]) -> None:
    camera = rtsp_camera(session_timeout=1)

    async def watch(keepalive: bool) -> float:
        """Seconds the stream lasted (capped at 2.2 s)."""
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        try:
            await client.login()
            headers = await client.play(client.url + "/trackID=1")
            assert headers["session"][0] == client.session
            start = time.monotonic()
            while time.monotonic() - start < 2.2:
                if keepalive:
                    client.writer.write(
                        f"GET_PARAMETER {client.url} RTSP/1.0\r\nCSeq: 99\r\nSession: {client.session}\r\n\r\n".encode()
                    )
                try:
                    await client.read_packets(0.4)
                except asyncio.IncompleteReadError:
                    break
                except AssertionError:  # an RTSP reply to the keep-alive sits between packets
                    await client.reply()
            return time.monotonic() - start
        finally:
            await client.close()

    async def both() -> list[float]:
        return list(await asyncio.gather(watch(False), watch(True)))

    lapsed, kept = run(both())
    assert lapsed < 1.8 and kept >= 2.2


def test_clients_that_vanish_leave_no_tasks(
    rtsp_camera: Callable[..., Camera], rtsp_loop: asyncio.AbstractEventLoop
) -> None:
    camera = rtsp_camera()

    async def playing_then_gone() -> None:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        await client.login()
        await client.play(client.url + "/trackID=1")
        await client.read_packets(0.2)
        client.writer.transport.abort()

    async def many() -> None:
        await asyncio.gather(*(playing_then_gone() for _ in range(20)))

    run(many())

    async def leftovers() -> tuple[int, int]:
        await asyncio.sleep(0.2)
        workers = [t for t in asyncio.all_tasks() if "RtspConnection._serve" in repr(t.get_coro())]
        return len(camera.server.connections), len(workers)

    assert _on(rtsp_loop, leftovers()) == (0, 0)
    assert camera.server.playing == 0


def test_basic_auth_only_where_the_profile_allows_it(rtsp_camera: Callable[..., Camera]) -> None:
    strict, legacy = rtsp_camera(), rtsp_camera(allow_basic=True)

    async def describe(camera: Camera) -> tuple[int, list[str]]:
        client = await RawRtsp.open(camera, "/Streaming/Channels/102")
        try:
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            status, headers, _ = await client.request("DESCRIBE", headers={"Authorization": f"Basic {token}"})
            return status, headers.get("www-authenticate", [])
        finally:
            await client.close()

    status, challenges = run(describe(strict))
    assert status == 401 and [c.split()[0] for c in challenges] == ["Digest"]
    assert f'realm="{HIK_REALM}"' in challenges[0]
    assert run(describe(legacy))[0] == 200


def test_clip_is_cached_on_disk_as_annexb(tmp_path: Path) -> None:
    spec = StreamSpec("h264", 320, 240, 5, 5, 64)
    clip = clip_for(spec, tmp_path)
    cached = parse_annexb(spec, (tmp_path / f"{spec.key}.h264").read_bytes())
    assert len(cached.frames) == len(clip.frames) == spec.frame_count
    assert cached.sps == clip.sps
