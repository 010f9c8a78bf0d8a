"""The town's servers: for each device its HTTP API (ISAPI or Dahua CGI), a camera's RTSP, a
router's SSH console, each on the device's own loopback address; and HTTP listeners that
close while their device is unreachable and open again when it recovers.

Why the town follows faults for HTTP: a dead device refuses connections instead of answering
500, and one behind a dead link swallows them (connects time out, :mod:`~camfleet.sim.blackhole`),
so probes see what they would see in the field. RTSP and SSH servers follow their own
device's faults; HTTP listeners are opened and closed here, at once on every change of a
device's faults (:meth:`Faults.subscribe`), with a slow safety-net loop.

Reproduce by hand::

    .venv/bin/camfleet sim fault cam-01-t01 offline --state .state/sim
    curl -m 2 http://127.20.0.1/ISAPI/System/deviceInfo       # connection refused
    .venv/bin/camfleet sim fault cam-01-t01 offline --clear --state .state/sim
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from camfleet.sim import dahua, hikvision, onvif_camera
from camfleet.sim.blackhole import Blackhole
from camfleet.sim.dahua.nvr import playback_target as dahua_playback
from camfleet.sim.devices import CameraState, NvrState, StreamConfig
from camfleet.sim.footage import CLIP_S, Footage, access_units, minute_clip
from camfleet.sim.hikvision.xml import parse_time
from camfleet.sim.httpserve import serve
from camfleet.sim.media import Clip, MediaError, StreamSpec, clip_for, parse_annexb
from camfleet.sim.onvif import style_for
from camfleet.sim.routeros import RouterOsServer, RouterOsState, load_or_create_host_key
from camfleet.sim.rtsp import RtspServer, dahua_resolver, hikvision_resolver
from camfleet.sim.rtsp.resolvers import Source
from camfleet.sim.town.clock import SimClock
from camfleet.sim.town.device import MAIN, SUB, SimDevice
from camfleet.sim.town.faults import propagate_links

SYNC_FALLBACK_S = 2.0  # listeners follow fault changes at once; this re-checks them anyway
#: Minutes of footage an RTSP playback session streams (then it loops): enough for a client to
#: check the picture; exports go through the HTTP download, as a station's should.
PLAYBACK_MINUTES = 2


def stream_spec(config: StreamConfig | None) -> StreamSpec | None:
    if config is None or not config.enabled or config.codec not in ("h264", "h265"):
        return None
    try:
        return StreamSpec(config.codec, config.width, config.height, config.fps, config.gop, config.bitrate_kbps)
    except MediaError:
        return None


def prepare_clips(devices: dict[str, SimDevice]) -> None:
    """Encode each distinct stream once before any client asks (ffmpeg takes a second for 1080p)."""
    specs = set()
    for dev in devices.values():
        if isinstance(dev.state, CameraState):
            specs |= {s for k in (MAIN, SUB) if (s := stream_spec(dev.state.streams.get(k)))}
    for spec in sorted(specs, key=lambda s: s.key):
        clip_for(spec)


def _mark_dirty(dev: SimDevice) -> Callable[[], None]:
    def mark() -> None:
        dev.dirty = True

    return mark


class Listeners:
    """Every device's servers, and the HTTP listeners that follow its faults."""

    def __init__(
        self,
        devices: dict[str, SimDevice],
        clock: SimClock,
        state_dir: Path,
        *,
        camera_at: Callable[[str], SimDevice | None] | None = None,
        connected: Callable[[NvrState, int], CameraState | None] | None = None,
        zone: str = "UTC",
    ) -> None:
        self.devices = devices
        self.clock = clock
        self.state_dir = state_dir
        self.camera_at = camera_at or (lambda address: None)
        #: The camera a recorder's channel is connected to now (its serial, MAC, model as the recorder reports them).
        self.connected = connected or (lambda nvr, number: None)
        self.zone = zone
        self._syncs: set[asyncio.Task[None]] = set()  # listener syncs that fault changes started
        self._sync_pending = False
        self._sync_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holes: dict[str, Blackhole] = {}  # device id → its HTTP port swallowing connects (link down)

    # ---------------------------------------------------------------- serving

    async def serve_all(self, ports: dict[str, int]) -> None:
        for dev in self.devices.values():
            if dev.role == "router":
                await self._serve_router(dev, ports["ssh"])
            else:
                await self._serve_http(dev, ports["http"])
                if dev.role == "camera":
                    await self._serve_rtsp(dev, ports["rtsp"])
                elif dev.role == "recorder":
                    await self._serve_playback(dev, ports["rtsp"])

    async def _serve_http(self, dev: SimDevice, port: int) -> None:
        state = dev.state
        if isinstance(state, NvrState):
            if dev.vendor == "dahua":
                app = dahua.nvr_app(
                    state,
                    dev.faults,
                    clock=self.clock,
                    on_change=_mark_dirty(dev),
                    footage=self._footage(state),
                    source_of=functools.partial(self.connected, state),
                )
            else:  # the search's playback URIs name the port _serve_playback bound
                app = hikvision.nvr_app(
                    state,
                    dev.faults,
                    clock=self.clock,
                    on_change=_mark_dirty(dev),
                    footage=self._footage(state),
                    rtsp_port=lambda: dev.ports.get("rtsp", 554),
                    source_of=functools.partial(self.connected, state),
                )
        else:
            assert isinstance(state, CameraState)
            camera_app = {"hikvision": hikvision.camera_app, "onvif": onvif_camera.camera_app}.get(
                dev.vendor, dahua.camera_app
            )
            app = camera_app(
                state,
                dev.faults,
                clock=self.clock,
                on_change=_mark_dirty(dev),
                rtsp_port=lambda: dev.ports.get("rtsp", 554),  # where _serve_rtsp bound it (ONVIF stream URIs)
            )
        runner, bound = await serve(app, dev.address, port)
        dev.runner, dev.ports["http"] = runner, bound
        dev.site = next(iter(runner.sites), None)  # type: ignore[assignment]
        if dev.faults.unreachable and dev.site is not None:
            site, dev.site = dev.site, None
            await site.stop()

    async def _serve_rtsp(self, dev: SimDevice, port: int) -> None:
        state = dev.state
        assert isinstance(state, CameraState)
        style: Literal["hikvision", "dahua"] = (
            style_for(state.vendor).rtsp
            if dev.vendor == "onvif"
            else "hikvision"
            if dev.vendor == "hikvision"
            else "dahua"
        )
        realm = state.mac.replace(":", "").lower() if style == "hikvision" else f"Login to {state.serial}"

        def resolve(path: str) -> Source | None:
            main, sub = stream_spec(state.streams.get(MAIN)), stream_spec(state.streams.get(SUB))
            if main is None:
                return None
            make = hikvision_resolver if style == "hikvision" else dahua_resolver
            return make(main, sub)(path)

        server = RtspServer(dev.address, port, realm, state.passwords, resolve, dev.faults, style=style)
        await server.start()
        dev.rtsp, dev.ports["rtsp"] = server, server.port

    def _footage(self, nvr: NvrState) -> Footage:
        """What the recorder's files show: each channel's camera's main stream, in the town's time zone."""

        def spec_of(n: int) -> StreamSpec | None:
            channel = nvr.channels.get(n)
            cam = self.camera_at(channel.address) if channel else None
            state = cam.state if cam is not None else None
            return stream_spec(state.streams.get(MAIN)) if isinstance(state, CameraState) else None

        return Footage(spec_of, self.zone)

    async def _serve_playback(self, dev: SimDevice, port: int) -> None:
        """The recorder's RTSP, playing its footage from the time a URL asks: Hikvision
        ``/Streaming/tracks/<ch>01?starttime=<UTC>``, Dahua ``/cam/playback?channel=<ch>&subtype=0&
        starttime=<local YYYY_MM_DD_hh_mm_ss>`` (footage.md §4.3)."""
        state = dev.state
        assert isinstance(state, NvrState)
        footage = self._footage(state)
        tracks = re.compile(r"^/streaming/tracks/(\d+)/?$")

        def hikvision_request(target: str) -> tuple[int, float] | None:
            parts = urlsplit(target)
            m = tracks.match(parts.path.lower())
            query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
            if m is None or "starttime" not in query:
                return None
            n, stream = divmod(int(m.group(1)), 100)
            return (n, parse_time(query["starttime"], 0)) if stream == 1 else None

        def dahua_request(target: str) -> tuple[int, float] | None:
            asked = dahua_playback(target)
            if asked is None or asked[1] != 0:  # only the main stream is recorded
                return None
            n, _, wall = asked
            return n, wall.replace(tzinfo=dt.UTC).timestamp() - state.utc_offset_s()

        style: Literal["hikvision", "dahua"] = "dahua" if dev.vendor == "dahua" else "hikvision"
        parse = dahua_request if style == "dahua" else hikvision_request

        live = re.compile(r"^(?:/isapi)?/streaming/channels/(\d+)/?$")

        def relay(target: str) -> StreamSpec | None:
            """A Hikvision NVR's live ``/Streaming/Channels/<ch>01`` (main), ``<ch>02`` (sub): the stream of
            the camera the channel is connected to now, relayed."""
            m = live.match(urlsplit(target).path.lower())
            n, k = divmod(int(m.group(1)), 100) if m else (0, 0)
            cam = self.connected(state, n) if m and k in (1, 2) else None
            return stream_spec(cam.streams.get(MAIN if k == 1 else SUB)) if cam is not None else None

        def resolve(target: str) -> Source | None:
            if style == "hikvision" and live.match(urlsplit(target).path.lower()):
                return relay(target)
            asked = parse(target)
            if asked is None:
                return None
            n, start = asked
            spec = footage.spec_of(n)
            span = state.recordings.get(n)
            if spec is None or span is None or not any(a <= start < b for a, b in span.pieces()):
                return None
            first = int(start // CLIP_S) * CLIP_S
            # From the keyframe at or before starttime, as a recorder seeks (GOPs are regular, a minute starts on one).
            skip = int((start - first) * spec.fps) // spec.gop * spec.gop

            def clip() -> Clip:
                minutes = [minute_clip(spec, first + k * CLIP_S, footage.zone) for k in range(PLAYBACK_MINUTES)]
                data = b"".join(access_units(minutes[0])[skip:]) + b"".join(minutes[1:])
                return parse_annexb(spec, data)

            return clip

        realm = f"Login to {state.serial}" if style == "dahua" else state.mac.replace(":", "").lower()
        server = RtspServer(dev.address, port, realm, state.passwords, resolve, dev.faults, style=style)
        await server.start()
        dev.rtsp, dev.ports["rtsp"] = server, server.port

    async def _serve_router(self, dev: SimDevice, port: int) -> None:
        state = dev.state
        assert isinstance(state, RouterOsState)
        key = load_or_create_host_key(self.state_dir)

        def changed(_: RouterOsState) -> None:
            dev.dirty = True

        server = RouterOsServer(dev.address, port, state, dev.faults, key, clock=self.clock, on_change=changed)
        await server.start()
        dev.ssh, dev.ports["ssh"] = server, server.port

    def changing(self) -> asyncio.Lock:
        """Held while a device's servers move, so no fault sync reopens a port halfway."""
        return self._sync_lock

    async def stop(self, dev: SimDevice) -> None:
        """Close every server of one device (its address is about to change)."""
        hole = self._holes.pop(dev.id, None)
        if hole is not None:
            hole.close()
        if dev.rtsp is not None:
            await dev.rtsp.stop()
            dev.rtsp = None
        if dev.runner is not None:
            await dev.runner.cleanup()
            dev.runner, dev.site = None, None

    async def serve_camera(self, dev: SimDevice, ports: dict[str, int]) -> None:
        """A camera's HTTP and RTSP on its (new) address."""
        await self._serve_http(dev, ports["http"])
        await self._serve_rtsp(dev, ports["rtsp"])

    async def stop_all(self) -> None:
        for hole in self._holes.values():
            hole.close()
        self._holes.clear()
        for dev in self.devices.values():
            if dev.rtsp is not None:
                await dev.rtsp.stop()
                dev.rtsp = None
            if dev.ssh is not None:
                await dev.ssh.stop()
                dev.ssh = None
            if dev.runner is not None:
                await dev.runner.cleanup()
                dev.runner, dev.site = None, None

    # ---------------------------------------------------------------- following faults

    def follow_faults(self) -> None:
        """From now on, every change of a device's faults re-derives the links and syncs listeners."""
        self._loop = asyncio.get_running_loop()
        for dev in self.devices.values():
            dev.faults.subscribe(self._faults_changed)

    async def watch(self) -> None:
        """Offline devices refuse connections: close their HTTP listener, re-open it when they recover.

        Every change of a device's faults schedules this at once (:meth:`_faults_changed`); the slow
        loop is only a safety net, so an idle town costs next to no CPU."""
        while True:
            await asyncio.sleep(SYNC_FALLBACK_S)
            await self.sync()

    def _faults_changed(self) -> None:
        """A device's faults changed: re-derive who is behind a dead link, then open or close ports."""
        if self._loop is not None and not self._sync_pending:  # before start(), start() syncs
            self._sync_pending = True
            self._loop.call_soon_threadsafe(self._sync_now)

    def _sync_now(self) -> None:
        self._sync_pending = False
        propagate_links(self.devices)
        task = asyncio.create_task(self.sync())
        self._syncs.add(task)
        task.add_done_callback(self._syncs.discard)

    async def sync(self) -> None:
        async with self._sync_lock:
            await self._sync()

    async def _sync(self) -> None:
        for dev in self.devices.values():
            if dev.runner is None:
                continue
            if dev.faults.unreachable and dev.site is not None:
                site, dev.site = dev.site, None
                await site.stop()
            self._follow_blackhole(dev)
            if not dev.faults.unreachable and dev.site is None:
                site = web.TCPSite(dev.runner, dev.address, dev.ports["http"], backlog=64)
                with contextlib.suppress(OSError):
                    await site.start()
                    dev.site = site

    def _follow_blackhole(self, dev: SimDevice) -> None:
        """Behind a dead link the closed HTTP port swallows connects (they time out) instead of refusing."""
        hole = self._holes.get(dev.id)
        wanted = dev.faults.unreachable and dev.faults.blackholed
        if wanted and hole is None and dev.site is None:
            with contextlib.suppress(OSError):  # the port briefly held: the next sync tries again
                self._holes[dev.id] = Blackhole(dev.address, dev.ports["http"])
        elif not wanted and hole is not None:
            hole.close()
            del self._holes[dev.id]
