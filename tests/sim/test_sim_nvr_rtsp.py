"""What third-party clients expect of the simulated Hikvision devices' aliases and URIs: the search's
playback URIs name the port the recorder's RTSP really answers on, and ``channels/1/picture`` is the
camera's main-stream snapshot, as real firmware takes it.

    .venv/bin/pytest tests/sim/test_sim_nvr_rtsp.py -q
"""

from __future__ import annotations

import functools

from http_sim import run, served

from camfleet.sim.devices import ProxyChannel
from camfleet.sim.hikvision import nvr_app
from tests.sim.test_hikvision import PASSWORD, TIMINGS, _search_body, camera, device, nvr, val, xml

ISAPI = "{http://www.isapi.org/ver20/XMLSchema}"


def playback_uris(rtsp_port: int | None) -> list[str]:
    state = nvr(disks=[2 * 10**9])
    state.add_channel(ProxyChannel(address="10.30.0.9"))
    uris: list[str] = []

    async def scenario() -> None:
        factory = nvr_app if rtsp_port is None else functools.partial(nvr_app, rtsp_port=lambda: rtsp_port)
        async with served(factory, state, password=PASSWORD, timings=TIMINGS) as dev, dev.client() as c:
            for _ in range(3):
                dev.clock.t += 60
                state.tick(dev.clock.t, 60, lambda n: True, lambda n: 1024)
            body = _search_body(101, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z")
            r = xml(await c.post("/ISAPI/ContentMgmt/search", content=body))
            assert val(r, "responseStatusStrg") == "OK"
            uris.extend(e.text or "" for e in r.iter(f"{ISAPI}playbackURI"))

    run(scenario)
    assert uris
    return uris


def test_playback_uris_name_the_recorders_rtsp_port_unless_it_is_554() -> None:
    assert all("/Streaming/tracks/101/?starttime=" in u for u in playback_uris(8554))
    assert all(u.split("/")[2].endswith(":8554") for u in playback_uris(8554))  # where it answers when mapped
    assert all(":" not in u.split("/")[2] for u in playback_uris(554))  # the default port left implicit, as devices do
    assert all(":" not in u.split("/")[2] for u in playback_uris(None))


def test_channel_1_picture_is_the_main_streams_snapshot() -> None:
    async def scenario() -> None:
        async with device(camera()) as dev, dev.client() as c:
            one = await c.get("/ISAPI/Streaming/channels/1/picture")
            assert one.status_code == 200 and one.content[:2] == b"\xff\xd8", one.text[:200]
            assert (await c.get("/ISAPI/Streaming/channels/3/picture")).status_code == 403  # no such stream still

    run(scenario)
