"""Building the town's devices from the inventory and the vault: cameras configured as the inventory
and vault say, factory-fresh installed cameras, recorders with the channels of their
commissioned cameras and footage already on disk, and link routers with the vault's login.

Why the inventory decides: a test town must look like the real one after provisioning, so a
playbook run against it changes nothing (and one against an installed camera has to activate
it first). A device saved by the last run comes back as it was instead.

Reproduce by hand (builds every device, starts nothing)::

    .venv/bin/python -c "from pathlib import Path; from camfleet.inventory import load; \\
        from camfleet.inventory.vault import device_credentials; from camfleet.sim.town import SimTown; \\
        t = SimTown(load('inventory/ngoc-lac').fleet, device_credentials('inventory/ngoc-lac'), Path('/tmp/plan')); \\
        print([(d.id, d.address) for d in t.plan().devices][:5])"
"""

from __future__ import annotations

import dataclasses
import os
import zlib

from camfleet.config.camera import osd_text_for
from camfleet.inventory.fleet import Fleet
from camfleet.model import (
    CAMERA_DRIVERS,
    DEPLOYED,
    Camera,
    CameraStatus,
    LinkRouter,
    Recorder,
    RouterRole,
    StreamProfile,
)
from camfleet.sim.devices import CameraState, MaskRect, NvrState, ProxyChannel, StreamConfig
from camfleet.sim.routeros import BoardInfo, RouterOsState
from camfleet.sim.town.clock import SimClock
from camfleet.sim.town.device import MAIN, SUB, SimDevice, SimError
from camfleet.sim.town.persistence import StateFolder, restore_faults
from camfleet.sim.town.recording import ChannelSource

SIMULATED_DRIVERS = ("hikvision_isapi", "dahua_cgi", "onvif")


def stream_config(profile: StreamProfile) -> StreamConfig:
    return StreamConfig(
        profile.codec.value,
        profile.width,
        profile.height,
        profile.fps,
        profile.bitrate_kbps,
        profile.bitrate_mode,
        profile.gop,
        smart_codec=profile.smart_codec,
        average_kbps=profile.average_kbps or 0,
    )


def simulated(cam: Camera) -> bool:
    """Mounted cameras camfleet manages, of a vendor the simulator speaks."""
    return (
        cam.status in DEPLOYED
        and cam.is_managed
        and cam.device is not None
        and (cam.device.driver or CAMERA_DRIVERS.get(cam.device.vendor)) in SIMULATED_DRIVERS
    )


class TownBuilder:
    """Device states for one fleet: from the saved state folder, else from inventory and vault."""

    def __init__(
        self, fleet: Fleet, credentials: dict[str, dict[str, str]], folder: StateFolder, clock: SimClock
    ) -> None:
        self.fleet = fleet
        self.credentials = credentials
        self.folder = folder
        self.clock = clock

    def _secret(self, device_id: str) -> dict[str, str]:
        cred = self.credentials.get(device_id)
        if cred is None:
            raise SimError(f"{device_id}: no credentials in the vault (vault/secrets.yml vault_device_credentials)")
        return cred

    # ---------------------------------------------------------------- cameras

    def camera(self, cam: Camera, address: str) -> SimDevice:
        assert cam.device is not None
        driver = cam.device.driver or CAMERA_DRIVERS[cam.device.vendor]
        # The simulated family: ISAPI, CGI, or an ONVIF-only camera laid out as its maker's firmware.
        family = {"hikvision_isapi": "hikvision", "onvif": "onvif"}.get(driver, "dahua")
        vendor = cam.device.vendor.value if family == "onvif" else family
        saved = self.folder.saved(cam.id)
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
        device = SimDevice(cam.id, "camera", family, cam.device.model, address, state)
        restore_faults(device, saved)
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
        clock = self.fleet.town.osd_clock  # the date/time overlay as the town's baseline has it
        state.osd.show_datetime, state.osd.datetime_x, state.osd.datetime_y = clock.enabled, clock.x, clock.y
        state.osd.date_style, state.osd.time_style, state.osd.show_week = (
            clock.date_format,
            clock.time_format,
            clock.show_week,
        )
        if cam.recorder is not None:
            pull = self.credentials.get(f"{cam.recorder.id}-channel-user")
            if pull is not None:
                state.add_user(pull["username"], pull["password"], "User")
        return state

    # ---------------------------------------------------------------- recorders and routers

    def recorder(self, rec: Recorder, address: str) -> SimDevice:
        saved = self.folder.saved(rec.id)
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
        restore_faults(device, saved)
        return device

    def router(self, router: LinkRouter, address: str) -> SimDevice:
        saved = self.folder.saved(router.id)
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
        restore_faults(device, saved)
        return device

    # ---------------------------------------------------------------- the town's wiring

    def link_cameras_to_routers(self, devices: dict[str, SimDevice]) -> None:
        for link in self.fleet.links.values():
            for cam in self.fleet.cameras_on_link(link.id):
                if cam.id in devices:
                    devices[cam.id].behind = link.router

    def first_fill(
        self, devices: dict[str, SimDevice], channels: ChannelSource, *, http_port: int, prefill_days: float
    ) -> None:
        """Recorders of a town in service start with the channels of their commissioned cameras,
        and (once) with ``prefill_days`` of footage already on disk."""
        for rec in self.fleet.recorders.values():
            nvr = devices[rec.id]
            state = nvr.state
            assert isinstance(state, NvrState)
            if state.channels:
                continue
            pull = self.credentials.get(f"{rec.id}-channel-user", {})
            for cam in self.fleet.cameras_on_recorder(rec.id):
                dev = devices.get(cam.id)
                if dev is None or cam.status is not CameraStatus.commissioned or cam.recorder is None:
                    continue
                channel = ProxyChannel(
                    address=dev.address,
                    port=http_port,
                    protocol="HIKVISION" if dev.vendor == "hikvision" else "ONVIF",
                    username=pull.get("username", "admin"),
                    password=pull.get("password", ""),
                    name=cam.id,
                )
                state.add_channel(channel, cam.recorder.channel)
            if prefill_days > 0:
                channels.prefill(state, prefill_days)
            nvr.dirty = True
