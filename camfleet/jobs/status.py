"""``camfleet status``: the fleet's health now, per khu phố, probed directly (no Prometheus needed).

Every mounted managed camera's sub stream is probed for real frames (not an open port) — a shared
community camera's at the URL its ONVIF ``GetStreamUri`` gives —, every
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

from camfleet.drivers import onvif_stream_url, open_driver, speaks_onvif_only, stream_url
from camfleet.drivers.base import ChannelState, RecorderDriver
from camfleet.drivers.errors import DriverError
from camfleet.inventory.fleet import EndpointError, Fleet
from camfleet.inventory.glossary import KIND, STATUS, Term
from camfleet.model import DEPLOYED, Camera
from camfleet.probes.rtsp import Reason, probe_stream
from camfleet.probes.ssh import ssh_banner

#: What the table says for each machine value, Vietnamese first (``--format json`` keeps the English value).
WORDS: dict[str, Term] = {
    "ok": Term("có hình", "ok"),
    "not provisioned": Term("chưa cài đặt", "not provisioned"),
    "onvif": Term("lỗi ONVIF", "onvif"),
    Reason.refused.value: Term("bị từ chối kết nối", "refused"),
    Reason.unreachable.value: Term("không kết nối được", "unreachable"),
    Reason.reset.value: Term("bị ngắt kết nối", "reset"),
    Reason.closed.value: Term("thiết bị đóng kết nối", "closed"),
    Reason.timeout.value: Term("không trả lời kịp", "timeout"),
    Reason.auth.value: Term("sai mật khẩu", "auth"),
    Reason.not_found.value: Term("không có luồng này", "not_found"),
    Reason.redirect.value: Term("luồng đã chuyển chỗ", "redirect"),
    Reason.bad_status.value: Term("trả lời lỗi", "bad_status"),
    Reason.bad_reply.value: Term("trả lời không đọc được", "bad_reply"),
    Reason.unsupported_codec.value: Term("mã hóa hình không hỗ trợ", "unsupported_codec"),
    Reason.unsupported_transport.value: Term("không hỗ trợ RTP qua TCP", "unsupported_transport"),
    Reason.no_video.value: Term("không có luồng hình", "no_video"),
    Reason.no_frames.value: Term("hình bị đứng", "no_frames"),
    Reason.no_keyframe.value: Term("không có khung hình chính", "no_keyframe"),
    "recording": Term("đang ghi", "recording"),
    "online": Term("có tín hiệu", "online"),
    "OFFLINE": Term("mất tín hiệu", "OFFLINE"),
    "no channel": Term("chưa có kênh", "no channel"),
    "up": Term("hoạt động", "up"),
    "DOWN": Term("mất kết nối", "DOWN"),
}


def say(value: str) -> str:
    """A machine value as the table shows it: "no_frames" → "hình bị đứng / no_frames",
    "ok 640x360" → "có hình / ok 640x360"; a value with no word (a driver error, already
    Vietnamese first) as it is."""
    word = WORDS.get(value) or WORDS.get(value.split(" ", 1)[0].rstrip(":"))
    return f"{word.vi} / {value}" if word else value


@dataclass
class Health:
    streams: dict[str, str] = field(default_factory=dict)  # camera → "ok 640x360" or the failure reason
    channels: dict[str, ChannelState | None] = field(default_factory=dict)  # camera → its recorder channel
    recorders: dict[str, str] = field(default_factory=dict)  # recorder → "ok" or the error
    routers: dict[str, bool] = field(default_factory=dict)
    #: Devices camfleet must not reach (outside the simulator's overlay): id → the one-line refusal.
    refused: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _probed(fleet: Fleet) -> list[Camera]:
    return [c for c in fleet.cameras.values() if c.status in DEPLOYED and c.is_managed and c.device is not None]


def _refusal(fleet: Fleet, device_id: str) -> str | None:
    """Why camfleet must not reach a device (outside the overlay: never at its real address), or None."""
    try:
        fleet.endpoint(device_id)
    except EndpointError as err:
        return str(err)
    return None


async def _stream(fleet: Fleet, cam: Camera, creds: dict[str, dict[str, str]], timeout: float) -> tuple[str, str]:
    login = creds.get(cam.id)
    if login is None:
        return cam.id, "not provisioned"
    if speaks_onvif_only(cam):  # a shared camera: its URL is what its ONVIF GetStreamUri says
        try:
            url = await asyncio.to_thread(
                onvif_stream_url, fleet, cam.id, login["username"], login["password"], sub=True, timeout=timeout / 2
            )
        except DriverError as err:
            return cam.id, f"onvif: {type(err).__name__}"
    else:
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
    routers = asyncio.gather(*(_router(fleet, r, timeout) for r in fleet.link_routers))
    recorders = asyncio.gather(
        *(asyncio.to_thread(_recorder, fleet, r, creds, timeout) for r in fleet.recorders), return_exceptions=True
    )
    health.refused = {
        d: why for d in [*(c.id for c in cams), *fleet.recorders, *fleet.link_routers] if (why := _refusal(fleet, d))
    }
    cams = [c for c in cams if c.id not in health.refused]
    streams = asyncio.gather(*(_stream(fleet, c, creds, timeout) for c in cams))
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
    head = (
        f"{'camera':12} {'loại / kind':12} {'trạng thái / status':28} {'hình / stream':34} "
        f"{'đầu ghi / recorder':38} {'đường truyền / link'}"
    )
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
                rec = f"{cam.recorder.id}/{cam.recorder.channel}: {say('no channel')}"
            else:
                rec = f"{cam.recorder.id}/{cam.recorder.channel}: " + say(
                    "recording" if channel.recording else "online" if channel.online else "OFFLINE"
                )
            link = fleet.links.get(cam.network.link or "")
            router = f"{link.router}: {say('up' if health.routers.get(link.router) else 'DOWN')}" if link else "-"
            kind, state = KIND[cam.kind.value].vi, str(STATUS[cam.status.value])
            rows.append(f"{cam.id:12} {kind:12} {state:28} {say(health.streams[cam.id]):34} {rec:38} {router}")
    routers_up = sum(1 for up in health.routers.values() if up)
    summary = (
        f"Tổng / Total: {ok_streams}/{len(health.streams)} luồng hình có khung / streams delivering frames, "
        f"{recording} kênh đang ghi / channels recording, {routers_up}/{len(health.routers)} router hoạt động / routers up "
        f"({health.seconds:.1f} s)"
    )
    bad = [f"{r}: {e}" for r, e in health.recorders.items() if e != "ok" and r not in health.refused]
    lines = [summary, *health.refused.values(), *(f"đầu ghi lỗi / recorder failed: {b}" for b in bad), *rows]
    return "\n".join(lines) + "\n"


def as_json(health: Health) -> dict[str, Any]:
    return {
        "streams": health.streams,
        "channels": {
            k: (v._asdict() if hasattr(v, "_asdict") else vars(v)) if v is not None else None
            for k, v in health.channels.items()
        },
        "recorders": health.recorders,
        "routers": health.routers,
        "refused": health.refused,
        "seconds": round(health.seconds, 3),
    }
