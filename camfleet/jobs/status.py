"""``camfleet status``: the fleet's health now, per khu phố, probed directly (no Prometheus needed).

Every mounted managed camera's sub stream is probed for real frames (not an open port), every
recorder is asked which channels are online and recording, every link router's SSH port must
answer with a banner — the same probes the exporter runs (:mod:`camfleet.probes`), without
Prometheus. Probes run concurrently, each bounded by ``--timeout``.

    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/camfleet status inventory/ngoc-lac
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from camfleet.drivers import open_driver, stream_url
from camfleet.drivers.base import ChannelState, RecorderDriver
from camfleet.drivers.errors import DriverError
from camfleet.inventory.fleet import Fleet
from camfleet.model import DEPLOYED, Camera
from camfleet.probes.rtsp import probe_stream
from camfleet.probes.ssh import ssh_banner


@dataclass
class Health:
    streams: dict[str, str] = field(default_factory=dict)  # camera → "ok 640x360" or the failure reason
    channels: dict[str, ChannelState | None] = field(default_factory=dict)  # camera → its recorder channel
    recorders: dict[str, str] = field(default_factory=dict)  # recorder → "ok" or the error
    routers: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0


def _probed(fleet: Fleet) -> list[Camera]:
    return [
        c
        for c in fleet.cameras.values()
        if c.status in DEPLOYED and c.is_managed and c.device is not None and fleet.reachable(c.id)
    ]


async def _stream(fleet: Fleet, cam: Camera, creds: dict[str, dict[str, str]], timeout: float) -> tuple[str, str]:
    login = creds.get(cam.id)
    if login is None:
        return cam.id, "not provisioned"
    url = stream_url(fleet, cam.id, sub=True)
    result = await probe_stream(url, login["username"], login["password"], timeout=timeout, frames=1, measure_s=0)
    if result.success:
        return cam.id, f"ok {result.width}x{result.height}"
    return cam.id, f"{result.reason}"


def _recorder(fleet: Fleet, rec_id: str, creds: dict[str, dict[str, str]], timeout: float) -> dict[int, ChannelState]:
    login = creds[rec_id]
    with open_driver(fleet, rec_id, login["username"], login["password"], timeout=timeout) as nvr:
        assert isinstance(nvr, RecorderDriver), rec_id
        return nvr.channel_status()


async def _router(fleet: Fleet, router_id: str, timeout: float) -> bool:
    if not fleet.reachable(router_id):
        return False  # not in the simulator's overlay: never its real address
    where = fleet.endpoint(router_id)
    return (await ssh_banner(where.host, where.ssh_port or 22, timeout=timeout)).up


async def check(fleet: Fleet, creds: dict[str, dict[str, str]], timeout: float = 5.0) -> Health:
    start = time.monotonic()
    health = Health()
    cams = _probed(fleet)
    streams = asyncio.gather(*(_stream(fleet, c, creds, timeout) for c in cams))
    routers = asyncio.gather(*(_router(fleet, r, timeout) for r in fleet.link_routers))
    recorders = asyncio.gather(
        *(asyncio.to_thread(_recorder, fleet, r, creds, timeout) for r in fleet.recorders), return_exceptions=True
    )
    stream_results, router_results, recorder_results = await asyncio.gather(streams, routers, recorders)
    health.streams = dict(stream_results)
    health.routers = dict(zip(fleet.link_routers, router_results, strict=True))
    for rec_id, result in zip(fleet.recorders, recorder_results, strict=True):
        if isinstance(result, BaseException):
            health.recorders[rec_id] = str(result) if isinstance(result, DriverError) else type(result).__name__
            continue
        health.recorders[rec_id] = "ok"
        for cam in fleet.cameras_on_recorder(rec_id):
            if cam.recorder is not None:
                health.channels[cam.id] = result.get(cam.recorder.channel)
    health.seconds = time.monotonic() - start
    return health


def table(fleet: Fleet, health: Health) -> str:
    """The health table, per khu phố, Vietnamese headings with English."""
    rows: list[str] = []
    head = f"{'camera':12} {'loại/kind':10} {'trạng thái/status':18} {'hình/stream':22} {'đầu ghi/recorder':24} {'đường truyền/link'}"
    ok_streams = sum(1 for s in health.streams.values() if s.startswith("ok"))
    recording = sum(1 for c in health.channels.values() if c is not None and c.recording)
    for site in fleet.sites.values():
        cams = [c for c in fleet.cameras_of_site(site.id) if c.id in health.streams]
        if not cams:
            continue
        rows += ["", f"{site.name} ({site.id})", head]
        for cam in sorted(cams, key=lambda c: c.id):
            channel = health.channels.get(cam.id)
            if cam.recorder is None:
                rec = "-"
            elif channel is None:
                rec = f"{cam.recorder.id}/{cam.recorder.channel}: no channel"
            else:
                rec = f"{cam.recorder.id}/{cam.recorder.channel}: " + (
                    "recording" if channel.recording else "online" if channel.online else "OFFLINE"
                )
            link = fleet.links.get(cam.network.link or "")
            router = f"{link.router}: {'up' if health.routers.get(link.router) else 'DOWN'}" if link else "-"
            rows.append(
                f"{cam.id:12} {cam.kind.value:10} {cam.status.value:18} {health.streams[cam.id]:22} {rec:24} {router}"
            )
    routers_up = sum(1 for up in health.routers.values() if up)
    summary = (
        f"Tổng / Total: {ok_streams}/{len(health.streams)} luồng hình có khung / streams delivering frames, "
        f"{recording} kênh đang ghi / channels recording, {routers_up}/{len(health.routers)} router hoạt động / routers up "
        f"({health.seconds:.1f} s)"
    )
    bad = [f"{r}: {e}" for r, e in health.recorders.items() if e != "ok"]
    return "\n".join([summary, *(f"đầu ghi lỗi / recorder failed: {b}" for b in bad), *rows]) + "\n"


def as_json(health: Health) -> dict[str, Any]:
    return {
        "streams": health.streams,
        "channels": {
            k: (v._asdict() if hasattr(v, "_asdict") else vars(v)) if v is not None else None
            for k, v in health.channels.items()
        },
        "recorders": health.recorders,
        "routers": health.routers,
        "seconds": round(health.seconds, 3),
    }
