"""Maintenance of a simulated Hikvision device: reboot, factory reset, firmware upgrade and the
configuration backup (``configurationData``).

Why: the firmware rollout and the backup job are tested against these. A firmware ``PUT`` blocks
while it flashes (poll ``/ISAPI/System/upgradeStatus`` meanwhile) and answers 7
``rebootRequired``; the new build runs after ``PUT /ISAPI/System/reboot``. Another model's file
is 6 ``badDevType`` ("upgrade packet mismatch") [?]. A basic factory reset keeps the network,
the users and the activation; ``full`` keeps nothing. An NVR keeps its disks and footage.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    .venv/bin/python -c "from camfleet.sim.devices import make_firmware; import sys; \\
        sys.stdout.buffer.write(make_firmware('DS-2CD1023G2-LIU', 'V5.7.15 build 230519'))" > fw.bin
    curl --digest -u admin:<password> -X PUT --data-binary @fw.bin http://127.77.0.10/ISAPI/System/updateFirmware
    curl --digest -u admin:<password> -X PUT http://127.77.0.10/ISAPI/System/reboot
"""

from __future__ import annotations

import dataclasses
import re

from aiohttp import web

from camfleet.sim.devices import CameraState, DeviceState, NvrState, parse_firmware
from camfleet.sim.hikvision.dispatch import IsapiBase, routes
from camfleet.sim.hikvision.xml import IsapiError, x
from camfleet.sim.httpdevice import FlashOutcome
from camfleet.sim.httpserve import drop_connection

MAINTENANCE_ROUTES = routes(
    ("PUT", r"/ISAPI/System/reboot", "put_reboot"),
    ("PUT", r"/ISAPI/System/factoryReset", "put_factory_reset"),
    ("PUT", r"/ISAPI/System/updateFirmware", "put_firmware"),
    ("POST", r"/ISAPI/System/updateFirmware", "put_firmware"),
    ("GET", r"/ISAPI/System/upgradeStatus", "get_upgrade_status"),
    ("GET", r"/ISAPI/System/configurationData", "get_config_data"),
    ("PUT", r"/ISAPI/System/configurationData", "put_config_data"),
    ("POST", r"/ISAPI/System/configurationData", "put_config_data"),
)


class Maintenance(IsapiBase):
    """Reboot, factory reset, firmware and the configuration backup."""

    _flashing = False

    def after_boot(self) -> None:
        # upgradeStatus reads idle again once the device is back up
        s = self.state
        s.upgrade = dataclasses.replace(s.upgrade, state="idle", progress=0, pending_build=None)

    async def put_reboot(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        resp = self.status(request)
        self.start_reboot()
        return resp

    async def put_factory_reset(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        mode = request.query.get("mode", "basic").lower()
        if mode not in ("basic", "full", "part"):
            raise IsapiError(6, "badParameters")
        s = self.state
        fresh: DeviceState
        if isinstance(s, CameraState):
            fresh = CameraState.factory_fresh(s.vendor, s.model, s.serial, s.mac, s.firmware)
        else:
            assert isinstance(s, NvrState)
            fresh = NvrState.factory_fresh(s.vendor, s.model, s.serial, s.mac, s.firmware, max_channels=s.max_channels)
            fresh.disks, fresh.recordings = s.disks, s.recordings
        keep = {"network", "users", "activated"} if mode == "basic" else set()
        for f in dataclasses.fields(fresh):
            if f.name not in keep:
                setattr(s, f.name, getattr(fresh, f.name))
        resp = self.status(request)
        self.start_reboot()
        return resp

    async def put_firmware(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if self._flashing:
            raise IsapiError(4, "upgrading")
        if request.content_type.startswith("multipart/"):
            body = _first_multipart_file(body, request.content_type)
        image = parse_firmware(body)
        if image is None:
            raise IsapiError(6, "fileFormatError", description="upgrade packet mismatch")
        if image.model != self.state.model:
            raise IsapiError(6, "badDevType", description="upgrade packet mismatch")
        self._flashing = True
        up = self.state.upgrade
        up.state, up.progress, up.pending_build = "upgrading", 0, None
        try:
            outcome = await self.flash(up, image.build)
        finally:
            self._flashing = False
        self.changed()
        if outcome is FlashOutcome.bricked:
            return drop_connection(request)
        if outcome is FlashOutcome.failed:
            raise IsapiError(3, "badFlash")
        return self.status(request, 7, "rebootRequired")

    async def get_upgrade_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        up = self.state.upgrade
        return self.xml("upgradeStatus", x("upgrading", up.state == "upgrading") + x("percent", up.progress))

    async def get_config_data(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return web.Response(body=self.state.config_blob(), content_type="application/octet-stream")

    async def put_config_data(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if request.content_type.startswith("multipart/"):
            body = _first_multipart_file(body, request.content_type)
        if not self.state.restore_config(body):
            raise IsapiError(6, "importErrorData")
        resp = self.status(request)
        self.start_reboot()
        return resp


def _first_multipart_file(body: bytes, content_type: str) -> bytes:
    """The first part of a multipart/form-data body (clients that POST the firmware as a form)."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise IsapiError(5, "badXmlFormat")
    boundary = b"--" + m.group(1).encode()
    for part in body.split(boundary)[1:]:
        head, sep, data = part.partition(b"\r\n\r\n")
        if sep and b"\r\n" in head + b"\r\n":
            return data[:-2] if data.endswith(b"\r\n") else data
    raise IsapiError(5, "badXmlFormat")
