"""The simulated town: every device of an inventory alive on its own loopback address.

One asyncio process holds every managed camera (ISAPI or Dahua CGI over HTTP
with digest auth, plus RTSP with real H.264), every recorder (ISAPI NVR that
records its channels, disks filling at the cameras' bitrates) and every link
router (RouterOS CLI over SSH). Device state lives in memory and in a state
folder, so a restart keeps it; time runs at a settable speed so days of
recording pass in seconds.

    .venv/bin/camfleet sim up inventory/ngoc-lac --state .state/sim --detach
    .venv/bin/camfleet sim status --state .state/sim
    .venv/bin/camfleet sim fault cam-01-t01 frozen --state .state/sim

Addresses: cameras 127.<net>.x.y, recorders 127.<net+1>.x.y, link routers
127.<net+2>.x.y (``net`` 20 by default), on the real ports (80, 554, 22) when
the process may bind them, else on 8080, 8554 and 2222. The overlay
(``<state>/overlay.yml``) tells the loader, the inventory plugin and the
exporter where each device answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from aiohttp import web

from camfleet.drivers import CAMERA_DRIVERS
from camfleet.drivers.desired import osd_text_for
from camfleet.inventory.fleet import Fleet
from camfleet.model import DEPLOYED, Camera, CameraStatus, LinkRouter, Recorder, RouterRole, StreamProfile
from camfleet.sim import dahua, hikvision
from camfleet.sim.devices import CameraState, MaskRect, NvrState, ProxyChannel, StreamConfig
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpserve import serve
from camfleet.sim.media import MediaError, StreamSpec, clip_for
from camfleet.sim.routeros import RouterOsServer, load_or_create_host_key
from camfleet.sim.routeros_cli import BoardInfo, RouterOsState
from camfleet.sim.rtsp import RtspServer, dahua_resolver, hikvision_resolver

log = logging.getLogger("camfleet.sim")

Role = Literal["camera", "recorder", "router"]
REAL_PORTS = {"http": 80, "rtsp": 554, "ssh": 22}
MAPPED_PORTS = {"http": 8080, "rtsp": 8554, "ssh": 2222}
SAVE_INTERVAL_S = 1.0
TICK_INTERVAL_S = 1.0
SYNC_FALLBACK_S = 2.0  # listeners follow fault changes at once; this re-checks them anyway
PREFILL_DAYS = 60.0
MAIN, SUB = 101, 102


class SimError(Exception):
    """Something stops the simulated town from starting; the message says what to do."""


class SimClock:
    """Simulator time (UNIX seconds) running ``speed`` times faster than the wall clock."""

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        self._base_sim = time.time() if start is None else start
        self._base_real = time.monotonic()
        self.speed = speed

    def __call__(self) -> float:
        return self._base_sim + (time.monotonic() - self._base_real) * self.speed

    def set_speed(self, speed: float) -> None:
        self._base_sim, self._base_real, self.speed = self(), time.monotonic(), speed

    def advance(self, seconds: float) -> None:
        self._base_sim += seconds


@dataclass
class SimDevice:
    """One simulated device: its state, its faults and the servers that speak for it."""

    id: str
    role: Role
    vendor: str
    model: str
    address: str
    state: CameraState | NvrState | RouterOsState
    faults: Faults = field(default_factory=Faults)
    ports: dict[str, int] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    site: web.TCPSite | None = None
    rtsp: RtspServer | None = None
    ssh: RouterOsServer | None = None
    dirty: bool = False
    behind: str | None = None  # the link router a camera rides

    def to_status(self) -> dict[str, Any]:
        firmware = getattr(self.state, "firmware", None) or getattr(
            getattr(self.state, "board", None), "firmware", None
        )
        return {
            "id": self.id,
            "role": self.role,
            "vendor": self.vendor,
            "model": self.model,
            "address": self.address,
            "ports": self.ports,
            "firmware": firmware,
            "reachable": not self.faults.unreachable,
            "faults": self.faults.as_dict(),
            "link_router": self.behind,
        }


def stream_config(profile: StreamProfile) -> StreamConfig:
    return StreamConfig(
        profile.codec.value,
        profile.width,
        profile.height,
        profile.fps,
        profile.bitrate_kbps,
        profile.bitrate_mode,
        profile.gop,
    )


def stream_spec(config: StreamConfig | None) -> StreamSpec | None:
    if config is None or not config.enabled or config.codec not in ("h264", "h265"):
        return None
    try:
        return StreamSpec(config.codec, config.width, config.height, config.fps, config.gop, config.bitrate_kbps)
    except MediaError:
        return None


@dataclass
class TownPlan:
    """Which devices to bring up and where: the pure part, testable without sockets."""

    devices: list[SimDevice]
    overlay: dict[str, Any]


class SimTown:
    """Every device of a fleet, alive on loopback. ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        fleet: Fleet,
        credentials: dict[str, dict[str, str]],
        state_dir: Path,
        *,
        net: int = 20,
        speed: float = 1.0,
        prefill_days: float = PREFILL_DAYS,
        ports: dict[str, int] | None = None,
    ) -> None:
        if not 1 <= net <= 252:
            raise SimError(f"--net {net}: pick a second octet from 1 to 252 (devices use 127.<net>..127.<net+2>)")
        self.fleet = fleet
        self.credentials = credentials
        self.state_dir = state_dir
        self.net = net
        self.prefill_days = prefill_days
        self.clock = SimClock(speed=speed)
        self.ports = dict(ports) if ports else dict(REAL_PORTS)
        self.devices: dict[str, SimDevice] = {}
        self._by_address: dict[str, SimDevice] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._syncs: set[asyncio.Task[None]] = set()  # listener syncs that fault changes started
        self._sync_pending = False
        self._sync_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()

    # ---------------------------------------------------------------- building

    def _address(self, role: Role, index: int) -> str:
        offset = {"camera": 0, "recorder": 1, "router": 2}[role]
        return f"127.{self.net + offset}.{index // 250}.{index % 250 + 1}"

    def _secret(self, device_id: str) -> dict[str, str]:
        cred = self.credentials.get(device_id)
        if cred is None:
            raise SimError(f"{device_id}: no credentials in the vault (vault/secrets.yml vault_device_credentials)")
        return cred

    def _saved(self, device_id: str) -> dict[str, Any] | None:
        path = self.state_dir / "devices" / f"{device_id}.json"
        if not path.is_file():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SimError(f"{path}: unreadable saved state ({exc}); delete it to start the device afresh") from None
        return data

    def plan(self) -> TownPlan:
        cams = [c for c in self.fleet.cameras.values() if self._simulated(c)]
        for i, cam in enumerate(sorted(cams, key=lambda c: c.id)):
            self._add(self._camera(cam, self._address("camera", i)))
        for i, rec in enumerate(sorted(self.fleet.recorders.values(), key=lambda r: r.id)):
            self._add(self._recorder(rec, self._address("recorder", i)))
        for i, router in enumerate(sorted(self.fleet.link_routers.values(), key=lambda r: r.id)):
            self._add(self._router(router, self._address("router", i)))
        self._link_cameras_to_routers()
        return TownPlan(list(self.devices.values()), self._overlay())

    @staticmethod
    def _simulated(cam: Camera) -> bool:
        """Mounted cameras camfleet manages, of a vendor the simulator speaks."""
        return (
            cam.status in DEPLOYED
            and cam.is_managed
            and cam.device is not None
            and (cam.device.driver or CAMERA_DRIVERS.get(cam.device.vendor)) in ("hikvision_isapi", "dahua_cgi")
        )

    def _add(self, device: SimDevice) -> None:
        self.devices[device.id] = device
        self._by_address[device.address] = device

    def _camera(self, cam: Camera, address: str) -> SimDevice:
        assert cam.device is not None
        driver = cam.device.driver or CAMERA_DRIVERS[cam.device.vendor]
        vendor = "hikvision" if driver == "hikvision_isapi" else "dahua"
        saved = self._saved(cam.id)
        if saved is not None:
            state: CameraState = CameraState.from_dict(saved["state"])
        else:
            tag = zlib.crc32(cam.id.encode())
            serial = cam.device.serial or f"SIM{tag:010d}"
            mac = cam.device.mac or "02:00:" + ":".join(f"{(tag >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))
            firmware = cam.device.firmware or "unknown"
            if cam.status is CameraStatus.installed:
                state = CameraState.factory_fresh(vendor, cam.device.model, serial, mac, firmware)
            else:
                state = self._configured_camera(cam, vendor, serial, mac, firmware)
        device = SimDevice(cam.id, "camera", vendor, cam.device.model, address, state)
        _restore_faults(device, saved)
        return device

    def _configured_camera(self, cam: Camera, vendor: str, serial: str, mac: str, firmware: str) -> CameraState:
        assert cam.device is not None
        cred = self._secret(cam.id)
        streams: dict[int, StreamConfig] = {}
        if cam.stream is not None:
            streams[MAIN] = stream_config(self.fleet.profiles[cam.stream.main])
            if cam.stream.sub:
                streams[SUB] = stream_config(self.fleet.profiles[cam.stream.sub])
        state = CameraState.configured(
            vendor,
            cam.device.model,
            serial,
            mac,
            firmware,
            admin_password=cred["password"],
            name=cam.id,
            ntp_server=self.fleet.town.ntp_servers[0],
            streams=streams,
            osd_text=osd_text_for(cam),
            masks=[MaskRect(m.x, m.y, m.w, m.h) for m in cam.privacy_masks],
        )
        if cam.recorder is not None:
            pull = self.credentials.get(f"{cam.recorder.id}-channel-user")
            if pull is not None:
                state.add_user(pull["username"], pull["password"], "User")
        return state

    def _recorder(self, rec: Recorder, address: str) -> SimDevice:
        saved = self._saved(rec.id)
        if saved is not None:
            state: NvrState = NvrState.from_dict(saved["state"])
        else:
            cred = self._secret(rec.id)
            state = NvrState.configured(
                rec.vendor.value,
                rec.model,
                rec.serial or f"SIMNVR{rec.id}",
                rec.mac or "02:00:00:00:00:01",
                rec.firmware or "unknown",
                admin_password=cred["password"],
                name=rec.id,
                disk_bytes=[d.capacity_bytes for d in rec.disks],
                max_channels=rec.channels,
                ntp_server=self.fleet.town.ntp_servers[0],
            )
        device = SimDevice(rec.id, "recorder", rec.vendor.value, rec.model, address, state)
        _restore_faults(device, saved)
        return device

    def _router(self, router: LinkRouter, address: str) -> SimDevice:
        saved = self._saved(router.id)
        if saved is not None:
            state = RouterOsState.from_dict(saved["state"])
        else:
            cred = self._secret(router.id)
            serial = router.serial or "HE50A1B2C3D4"
            board = BoardInfo.rb5009(serial) if router.role is RouterRole.core else BoardInfo.hap_ac_lite(serial)
            board = dataclasses.replace(board, firmware=router.firmware or board.firmware)
            state = RouterOsState.factory(os.urandom(12).hex(), board, defconf=True, now=self.clock())
            state.insert("user", {"name": cred["username"], "group": "full", "password": cred["password"]})
        device = SimDevice(router.id, "router", router.vendor, router.model, address, state)
        _restore_faults(device, saved)
        return device

    def _link_cameras_to_routers(self) -> None:
        for link in self.fleet.links.values():
            for cam in self.fleet.cameras_on_link(link.id):
                if cam.id in self.devices:
                    self.devices[cam.id].behind = link.router

    def _first_fill(self) -> None:
        """Recorders of a town in service start with the channels of their commissioned cameras,
        and (once) with ``prefill_days`` of footage already on disk."""
        for rec in self.fleet.recorders.values():
            nvr = self.devices[rec.id]
            state = nvr.state
            assert isinstance(state, NvrState)
            if state.channels:
                continue
            pull = self.credentials.get(f"{rec.id}-channel-user", {})
            for cam in self.fleet.cameras_on_recorder(rec.id):
                dev = self.devices.get(cam.id)
                if dev is None or cam.status is not CameraStatus.commissioned or cam.recorder is None:
                    continue
                channel = ProxyChannel(
                    address=dev.address,
                    port=self.ports["http"],
                    protocol="HIKVISION" if dev.vendor == "hikvision" else "ONVIF",
                    username=pull.get("username", "admin"),
                    password=pull.get("password", ""),
                    name=cam.id,
                )
                state.add_channel(channel, cam.recorder.channel)
            if self.prefill_days > 0:
                now = self.clock()
                step = 3600.0
                t = now - self.prefill_days * 86400
                while t < now:
                    t += step
                    state.tick(
                        t,
                        step,
                        functools.partial(self._channel_online, state),
                        functools.partial(self._channel_bitrate, state),
                    )
            nvr.dirty = True

    def _overlay(self) -> dict[str, Any]:
        devices: dict[str, dict[str, Any]] = {}
        for d in self.devices.values():
            entry: dict[str, Any] = {"address": d.address}
            if d.role == "router":
                entry["ssh_port"] = self.ports["ssh"]
            else:
                entry["http_port"] = self.ports["http"]
                entry["rtsp_port"] = self.ports["rtsp"]
            devices[d.id] = entry
        return {"town": self.fleet.town.id, "devices": devices}

    # ---------------------------------------------------------------- recording

    def _camera_at(self, address: str) -> SimDevice | None:
        dev = self._by_address.get(address)
        return dev if dev is not None and dev.role == "camera" else None

    def _channel_callbacks(self, nvr: NvrState) -> tuple[Callable[[int], bool], Callable[[int], int]]:
        return functools.partial(self._channel_online, nvr), functools.partial(self._channel_bitrate, nvr)

    def _channel_online(self, nvr: NvrState, number: int) -> bool:
        """The recorder receives the channel: camera reachable, streaming, and it accepts the NVR's login."""
        channel = nvr.channels.get(number)
        cam = self._camera_at(channel.address) if channel else None
        if channel is None or cam is None or cam.faults.unreachable or cam.faults.has(Fault.frozen):
            return False
        state = cam.state
        assert isinstance(state, CameraState)
        if state.rebooting_until > self.clock():
            return False
        return state.passwords().get(channel.username) == channel.password

    def _channel_bitrate(self, nvr: NvrState, number: int) -> int:
        channel = nvr.channels.get(number)
        cam = self._camera_at(channel.address) if channel else None
        if cam is None:
            return 0
        state = cam.state
        assert isinstance(state, CameraState)
        main = state.streams.get(MAIN)
        return main.bitrate_kbps if main else 0

    async def _tick_recorders(self) -> None:
        last = self.clock()
        while True:
            await asyncio.sleep(TICK_INTERVAL_S)
            now = self.clock()
            dt, last = now - last, now
            for dev in self.devices.values():
                if dev.role == "recorder" and not dev.faults.unreachable:
                    nvr = dev.state
                    assert isinstance(nvr, NvrState)
                    nvr.tick(
                        now,
                        dt,
                        functools.partial(self._channel_online, nvr),
                        functools.partial(self._channel_bitrate, nvr),
                        dev.faults,
                    )
                    dev.dirty = True

    # ---------------------------------------------------------------- faults

    def set_fault(
        self, device_id: str, fault: Fault, params: dict[str, Any] | None = None, *, clear: bool = False
    ) -> None:
        dev = self.devices.get(device_id)
        if dev is None:
            raise SimError(f"no simulated device '{device_id}'")
        if clear:
            dev.faults.clear(fault)
        else:
            dev.faults.set(fault, **_checked_params(fault, params or {}))
        dev.dirty = True
        self._propagate_links()

    def power_cycle(self, device_id: str) -> None:
        dev = self.devices.get(device_id)
        if dev is None:
            raise SimError(f"no simulated device '{device_id}'")
        dev.faults.clear()
        dev.dirty = True
        self._propagate_links()

    def _propagate_links(self) -> None:
        """A link router that is down takes every camera behind it off the network."""
        for dev in self.devices.values():
            if dev.behind is not None:
                router = self.devices.get(dev.behind)
                dev.faults.upstream_down = bool(router and router.faults.unreachable)

    async def _watch_http(self) -> None:
        """Offline devices refuse connections: close their HTTP listener, re-open it when they recover.

        Every change of a device's faults schedules this at once (:meth:`_faults_changed`); the slow
        loop is only a safety net, so an idle town costs next to no CPU."""
        while True:
            await asyncio.sleep(SYNC_FALLBACK_S)
            await self.sync_listeners()

    def _faults_changed(self) -> None:
        """A device's faults changed: re-derive who is behind a dead link, then open or close ports."""
        if self._loop is not None and not self._sync_pending:  # before start(), start() syncs
            self._sync_pending = True
            self._loop.call_soon_threadsafe(self._sync_now)

    def _sync_now(self) -> None:
        self._sync_pending = False
        self._propagate_links()
        task = asyncio.create_task(self.sync_listeners())
        self._syncs.add(task)
        task.add_done_callback(self._syncs.discard)

    async def sync_listeners(self) -> None:
        async with self._sync_lock:
            await self._sync_listeners()

    async def _sync_listeners(self) -> None:
        for dev in self.devices.values():
            if dev.runner is None:
                continue
            if dev.faults.unreachable and dev.site is not None:
                site, dev.site = dev.site, None
                await site.stop()
            elif not dev.faults.unreachable and dev.site is None:
                site = web.TCPSite(dev.runner, dev.address, dev.ports["http"], backlog=64)
                with contextlib.suppress(OSError):
                    await site.start()
                    dev.site = site

    # ---------------------------------------------------------------- life cycle

    async def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._restore_clock()
        self.plan()
        self._propagate_links()
        await asyncio.to_thread(self._prepare_clips)
        self._first_fill()
        try:
            await self._serve_all()
        except PermissionError:
            if self.ports == MAPPED_PORTS:
                raise
            log.info("cannot bind the real ports; using %s", MAPPED_PORTS)
            await self._stop_servers()
            self.ports = dict(MAPPED_PORTS)
            await self._serve_all()
        self._write_overlay()
        self._save(all_devices=True)
        self._loop = asyncio.get_running_loop()
        for dev in self.devices.values():
            dev.faults.subscribe(self._faults_changed)
        for coro in (self._tick_recorders(), self._watch_http(), self._autosave()):
            self._tasks.append(asyncio.create_task(coro))

    def _prepare_clips(self) -> None:
        """Encode each distinct stream once before any client asks (ffmpeg takes a second for 1080p)."""
        specs = set()
        for dev in self.devices.values():
            if isinstance(dev.state, CameraState):
                specs |= {s for k in (MAIN, SUB) if (s := stream_spec(dev.state.streams.get(k)))}
        for spec in sorted(specs, key=lambda s: s.key):
            clip_for(spec)

    async def _serve_all(self) -> None:
        for dev in self.devices.values():
            if dev.role == "router":
                await self._serve_router(dev)
            else:
                await self._serve_http(dev)
                if dev.role == "camera":
                    await self._serve_rtsp(dev)

    def _on_change(self, dev: SimDevice) -> Callable[[], None]:
        def mark() -> None:
            dev.dirty = True

        return mark

    async def _serve_http(self, dev: SimDevice) -> None:
        state = dev.state
        if isinstance(state, NvrState):
            app = hikvision.nvr_app(state, dev.faults, clock=self.clock, on_change=self._on_change(dev))
        elif dev.vendor == "hikvision":
            assert isinstance(state, CameraState)
            app = hikvision.camera_app(state, dev.faults, clock=self.clock, on_change=self._on_change(dev))
        else:
            assert isinstance(state, CameraState)
            app = dahua.camera_app(state, dev.faults, clock=self.clock, on_change=self._on_change(dev))
        runner, port = await serve(app, dev.address, self.ports["http"])
        dev.runner, dev.ports["http"] = runner, port
        dev.site = next(iter(runner.sites), None)  # type: ignore[assignment]
        if dev.faults.unreachable and dev.site is not None:
            site, dev.site = dev.site, None
            await site.stop()

    async def _serve_rtsp(self, dev: SimDevice) -> None:
        state = dev.state
        assert isinstance(state, CameraState)
        style: Literal["hikvision", "dahua"] = "hikvision" if dev.vendor == "hikvision" else "dahua"
        realm = state.mac.replace(":", "").lower() if style == "hikvision" else f"Login to {state.serial}"

        def resolve(path: str) -> StreamSpec | None:
            main, sub = stream_spec(state.streams.get(MAIN)), stream_spec(state.streams.get(SUB))
            if main is None:
                return None
            make = hikvision_resolver if style == "hikvision" else dahua_resolver
            return make(main, sub)(path)

        server = RtspServer(dev.address, self.ports["rtsp"], realm, state.passwords, resolve, dev.faults, style=style)
        await server.start()
        dev.rtsp, dev.ports["rtsp"] = server, server.port

    async def _serve_router(self, dev: SimDevice) -> None:
        state = dev.state
        assert isinstance(state, RouterOsState)
        key = load_or_create_host_key(self.state_dir)

        def changed(_: RouterOsState) -> None:
            dev.dirty = True

        server = RouterOsServer(
            dev.address, self.ports["ssh"], state, dev.faults, key, clock=self.clock, on_change=changed
        )
        await server.start()
        dev.ssh, dev.ports["ssh"] = server, server.port

    async def _stop_servers(self) -> None:
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

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self._stop_servers()
        self._save(all_devices=True)

    # ---------------------------------------------------------------- persistence

    def _restore_clock(self) -> None:
        path = self.state_dir / "clock.json"
        if path.is_file():
            with contextlib.suppress(OSError, ValueError, KeyError):
                saved = json.loads(path.read_text(encoding="utf-8"))
                # Simulated time went on while the simulator was down, at its speed.
                self.clock = SimClock(
                    saved["sim_time"] + (time.time() - saved["saved_at"]) * self.clock.speed, self.clock.speed
                )

    async def _autosave(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL_S)
            self._save()

    def _save(self, *, all_devices: bool = False) -> None:
        folder = self.state_dir / "devices"
        folder.mkdir(parents=True, exist_ok=True)
        for dev in self.devices.values():
            if dev.dirty or all_devices:
                dev.dirty = False
                data = {"role": dev.role, "state": dev.state.to_dict(), "faults": _faults_to_dict(dev.faults)}
                _write_atomic(folder / f"{dev.id}.json", json.dumps(data))
        _write_atomic(
            self.state_dir / "clock.json",
            json.dumps({"sim_time": self.clock(), "saved_at": time.time(), "speed": self.clock.speed}),
        )

    def _write_overlay(self) -> None:
        header = "# Written by `camfleet sim up`: where each simulated device answers. Do not edit.\n"
        _write_atomic(self.state_dir / "overlay.yml", header + yaml.safe_dump(self._overlay(), sort_keys=True))

    def status(self) -> dict[str, Any]:
        return {
            "town": self.fleet.town.id,
            "clock": {"now": self.clock(), "speed": self.clock.speed},
            "ports": self.ports,
            "devices": [d.to_status() for d in sorted(self.devices.values(), key=lambda d: (d.role, d.id))],
        }


#: The parameters each fault takes, with their type.
FAULT_PARAMS: dict[Fault, dict[str, type]] = {
    Fault.slow: {"delay_s": float},
    Fault.disk_failed: {"slot": int},
    Fault.clock_drift: {"seconds": float},
}


def _checked_params(fault: Fault, params: dict[str, Any]) -> dict[str, Any]:
    allowed = FAULT_PARAMS.get(fault, {})
    out: dict[str, Any] = {}
    for key, value in params.items():
        kind = allowed.get(key)
        if kind is None:
            takes = ", ".join(allowed) or "no parameters"
            raise SimError(f"{fault.value} takes {takes}, not '{key}'")
        try:
            out[key] = kind(value)
        except (TypeError, ValueError):
            raise SimError(f"{fault.value}: {key} must be a {kind.__name__}, not {value!r}") from None
    return out


def _faults_to_dict(faults: Faults) -> dict[str, Any]:
    return {"active": {f.value: p for f, p in faults.active.items()}, "bricked": faults.bricked}


def _restore_faults(device: SimDevice, saved: dict[str, Any] | None) -> None:
    if not saved:
        return
    data = saved.get("faults") or {}
    for name, params in (data.get("active") or {}).items():
        with contextlib.suppress(ValueError):
            device.faults.set(Fault(name), **params)
    device.faults.bricked = bool(data.get("bricked"))


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
