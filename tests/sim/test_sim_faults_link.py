"""A dead link looks like a dead link: ``link_down`` on a link router makes it and the cameras behind
it a blackhole (connects time out), ``router_off`` makes them refuse at once, ``uplink_saturated``
makes them slow and lossy; a frozen encoder that stalls on PLAY reads as frozen (``no_frames``),
not as down.

The town's own listeners (HTTP, RTSP, SSH) serve one camera behind one router, in-process on
127.226.x.y; the faults travel from the router to the camera as in ``camfleet sim``.

    .venv/bin/pytest tests/sim/test_sim_faults_link.py -q
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from camfleet.probes.rtsp import Reason, probe_stream
from camfleet.sim.devices import CameraState, StreamConfig
from camfleet.sim.faults import Fault
from camfleet.sim.routeros import RouterOsState
from camfleet.sim.town.clock import SimClock
from camfleet.sim.town.device import MAIN, SimDevice
from camfleet.sim.town.faults import propagate_links
from camfleet.sim.town.listeners import Listeners
from tests.sim import test_rtsp
from tests.sim.test_rtsp import SUB, Camera, RawRtsp, run

# The in-process camera fixtures of test_rtsp.py, shared by name.
rtsp_clips, rtsp_loop, rtsp_camera = test_rtsp.rtsp_clips, test_rtsp.rtsp_loop, test_rtsp.rtsp_camera

PASSWORD = "Ngoc-Lac-2023"


class Town:
    """A camera behind a link router, served by the simulator's listeners on a loop in a thread."""

    def __init__(self, state_dir: Path) -> None:
        net = f"127.226.{secrets.randbelow(250) + 1}"
        cam_state = CameraState.configured(
            "hikvision",
            "DS-2CD1023G2-LIU",
            "DS-2CD1023G2-LIU20230101AAWRJ83813",
            "c0:56:e3:00:00:01",
            "V5.6.3 build 190923",
            admin_password=PASSWORD,
            name="kp01-cho",
            ntp_server="10.20.0.1",
            streams={MAIN: StreamConfig("h264", SUB.width, SUB.height, SUB.fps, SUB.bitrate_kbps, "vbr", SUB.gop)},
        )
        self.camera = SimDevice("cam-01-t01", "camera", "hikvision", "DS-2CD1023G2-LIU", f"{net}.1", cam_state)
        router_state = RouterOsState.factory("pw")
        self.router = SimDevice("lr-01-01", "router", "mikrotik", "hAP ac lite", f"{net}.2", router_state)
        self.camera.behind = self.router.id
        self.devices = {d.id: d for d in (self.camera, self.router)}
        self.listeners = Listeners(self.devices, SimClock(), state_dir)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(self.listeners.serve_all({"http": 0, "rtsp": 0, "ssh": 0}))

        async def follow() -> None:
            self.listeners.follow_faults()

        self.run(follow())  # from now on a fault reaches the listeners at once, as in `sim up`

    def run(self, coro: object, timeout: float = 20) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def ports(self) -> list[tuple[str, str, int]]:
        cam, router = self.camera, self.router
        return [
            ("camera http", cam.address, cam.ports["http"]),
            ("camera rtsp", cam.address, cam.ports["rtsp"]),
            ("router ssh", router.address, router.ports["ssh"]),
        ]

    def fault(self, fault: Fault, *, clear: bool = False) -> None:
        if clear:
            self.router.faults.clear(fault)
        else:
            self.router.faults.set(fault)
        propagate_links(self.devices)

    def close(self) -> None:
        self.run(self.listeners.stop_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def town(tmp_path: Path) -> Iterator[Town]:
    t = Town(tmp_path)
    yield t
    t.close()


def connect(host: str, port: int, timeout: float = 1.0) -> str:
    """``ok``, ``refused`` or ``timeout`` (``reset``: the port changed hands while we connected; settle asks again)."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except ConnectionResetError:
        return "reset"
    return "ok"


def settle(town: Town, expected: str, within_s: float = 4.0) -> dict[str, str]:
    """What each port of the town does, once it does ``expected`` (faults reach the listeners within
    ~0.5 s: the RTSP server checks on a timer)."""
    seen: dict[str, str] = {}
    for name, host, port in town.ports():
        deadline = time.monotonic() + within_s
        while (got := connect(host, port, 1.0 if expected == "timeout" else 0.3)) != expected:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        seen[name] = got
    return seen


def test_link_down_times_out_router_off_refuses_and_both_recover(town: Town) -> None:
    assert settle(town, "ok") == dict.fromkeys(("camera http", "camera rtsp", "router ssh"), "ok")

    town.fault(Fault.link_down)
    assert town.camera.faults.blackholed  # the camera is behind the dead link
    started = time.monotonic()
    assert settle(town, "timeout") == dict.fromkeys(("camera http", "camera rtsp", "router ssh"), "timeout")
    assert time.monotonic() - started < 12  # bounded: three 1 s connects, the RTSP server's check
    town.fault(Fault.link_down, clear=True)
    assert set(settle(town, "ok").values()) == {"ok"}  # the ports are back where they were

    town.fault(Fault.router_off)
    assert settle(town, "refused") == dict.fromkeys(("camera http", "camera rtsp", "router ssh"), "refused")
    town.fault(Fault.router_off, clear=True)
    assert set(settle(town, "ok").values()) == {"ok"}


def test_saturated_uplink_is_slow_and_lossy_not_down(rtsp_camera: Callable[..., Camera]) -> None:
    cam = rtsp_camera()
    cam.faults.upstream_saturated = {"delay_s": 0.4, "loss": 0.5}  # what propagate_links sets behind the router

    async def scenario() -> tuple[float, list[int]]:
        client = await RawRtsp.open(cam, "/Streaming/Channels/102")
        try:
            started = time.monotonic()
            status, _, _ = await client.request("OPTIONS")
            answered = time.monotonic() - started
            assert status == 200
            await client.login()
            await client.play(client.url + "/trackID=1")
            await client.read_packets(2.0)
            return answered, [int.from_bytes(p[2:4], "big") for _, ch, p in client.packets if ch == 0]
        finally:
            await client.close()

    answered, seqs = run(scenario())
    assert answered >= 0.4  # slow...
    assert seqs, "no RTP at all: that would be down, not saturated"
    gaps = sum(1 for a, b in itertools.pairwise(seqs) if (b - a) % 65536 != 1)
    assert gaps >= 1, "no frame lost on a link losing half of them"  # ...and lossy


def test_a_stalled_play_reads_as_frozen_not_down(rtsp_camera: Callable[..., Camera]) -> None:
    cam = rtsp_camera()
    url = cam.url("/Streaming/Channels/102")
    cam.faults.set(Fault.play_stall)
    started = time.monotonic()
    result = asyncio.run(probe_stream(url, timeout=2.0))
    assert time.monotonic() - started < 3.5  # inside the probe's budget, not the five minutes of a hung socket
    assert not result.success and result.reason is Reason.no_frames, (result.reason, result.detail)
    assert "PLAY" in result.detail
    cam.faults.clear(Fault.play_stall)
    assert asyncio.run(probe_stream(url, timeout=3.0)).success
