"""The part of a simulated HTTP device that does not depend on its vendor: the connection-level
faults, the digest login with its lock-out, rebooting, and the clock a firmware flash runs on.

Why here: the Hikvision and Dahua apps (:mod:`camfleet.sim.hikvision`, :mod:`camfleet.sim.dahua`)
differ in the words of their replies, not in how a device goes offline, reboots or flashes. Each
vendor subclasses :class:`HttpDevice` and writes its own replies; what they would otherwise both
carry lives once, here.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    .venv/bin/camfleet sim fault cam-01-t01 offline     # curl now fails to connect
    curl --digest -u admin:<password> -X PUT http://127.77.0.10/ISAPI/System/reboot
    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/System/status   # refused for reboot_s
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from enum import Enum
from typing import ClassVar, TypeVar

from aiohttp import web

from camfleet.sim.devices import CameraState, DeviceState, UpgradeStatus
from camfleet.sim.digest import AuthResult, DigestAuth, LockPolicy
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpserve import RealDeadline, Timings, drop_connection
from camfleet.sim.onvif import OnvifService, Style

Clock = Callable[[], float]
D = TypeVar("D", bound="HttpDevice")


class FlashOutcome(Enum):
    """How a firmware flash ended, after the faults had their say."""

    written = "written"
    failed = "failed"  # flash_fail: the old build keeps running
    bricked = "bricked"  # flash_brick: the device answers nothing until power-cycled


class HttpDevice:
    """One device's HTTP API: state, faults, clocks, digest login and the reboot it may be in.

    ``LOCK_BY`` is what bad logins lock out: the client ``address`` (Hikvision) or the ``user``
    account (Dahua) [?].
    """

    LOCK_BY: ClassVar[str] = "address"
    #: The maker's factory-default admin password, answered while the ``factory_password`` fault is set.
    FACTORY_PASSWORD: ClassVar[str | None] = None
    #: The camera's ONVIF service (:mod:`camfleet.sim.onvif`), when it speaks ONVIF: it answers its own paths.
    onvif: OnvifService | None = None

    def __init__(
        self,
        state: DeviceState,
        faults: Faults,
        *,
        clock: Clock,
        on_change: Callable[[], None],
        timings: Timings,
        realm: str,
        opaque: str | None = None,
    ) -> None:
        self.state = state
        self.faults = faults
        self.clock = clock
        self.on_change = on_change
        self.timings = timings
        self.auth = DigestAuth(
            realm, self._passwords, clock=clock, policy=self._lock_policy, opaque=opaque, on_refused=self._refused
        )
        self._reboot: RealDeadline | None = None
        self._booted = clock()

    def _passwords(self) -> dict[str, str]:
        """The user table the digest check reads: admin's password is the factory default while the
        ``factory_password`` fault is set (a camera reset on old firmware)."""
        users = self.state.passwords()
        if self.FACTORY_PASSWORD is not None and self.faults.has(Fault.factory_password):
            users["admin"] = self.FACTORY_PASSWORD
        return users

    def _refused(self) -> None:
        self.state.login_lock.refused_total += 1
        self.changed()

    def _lock_policy(self) -> LockPolicy:
        lock = self.state.login_lock
        return LockPolicy(lock.enabled, lock.max_failures, lock.lock_s, self.LOCK_BY)

    def changed(self) -> None:
        self.on_change()

    # ----------------------------------------------------------------- connection-level faults

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every request: what an unreachable, rebooting, hung or slow device does before it reads
        one (a dropped connection, a wait), then the vendor's :meth:`answer`."""
        if self.faults.unreachable or self.rebooting():
            return drop_connection(request)
        await self.faults.delay()
        if self.faults.unreachable:
            return drop_connection(request)
        if self.onvif is not None and self.onvif.serves(request.path):
            return await self.onvif.answer(request)
        return await self.answer(request)

    def speak_onvif(self, state: CameraState, style: Style, rtsp_port: Callable[[], int] | None = None) -> None:
        """Answer ONVIF too (:mod:`camfleet.sim.onvif`), with this device's logins and clock."""
        self.onvif = OnvifService(
            state,
            self.faults,
            clock=self.clock,
            style=style,
            authenticate=self.authenticate,
            challenge=lambda stale: self.auth.challenge(stale=stale),
            rtsp_port=rtsp_port,
        )

    async def answer(self, request: web.Request) -> web.StreamResponse:
        """The vendor's reply to a request that reached the device."""
        raise NotImplementedError

    def authenticate(self, request: web.Request) -> AuthResult:
        """The request's digest login; the ``locked`` fault fails every one."""
        return self.auth.check(
            request.method,
            request.headers.get("Authorization"),
            request.remote or "",
            forced_lock=self.faults.has(Fault.locked),
        )

    # ----------------------------------------------------------------- reboot

    def rebooting(self) -> bool:
        if self._reboot is None:
            return False
        if not self._reboot.passed(self.clock()):
            return True
        self._reboot = None
        self._booted = self.clock()
        return False

    def start_reboot(self) -> None:
        """Go offline for ``timings.reboot_s`` sim seconds; a finished upgrade takes effect now."""
        s = self.state
        if s.upgrade.state == "succeeded" and s.upgrade.pending_build:
            s.firmware = s.upgrade.pending_build
            s.upgrade.pending_build = None
        self.after_boot()
        s.rebooting_until = self.clock() + self.timings.reboot_s
        self._reboot = RealDeadline(s.rebooting_until, min(self.timings.max_real_s, self.timings.reboot_s))
        self.auth.reset()
        self.changed()

    def after_boot(self) -> None:
        """What else a reboot resets (the vendor's own hook; nothing by default)."""

    # ----------------------------------------------------------------- firmware

    async def flash(self, up: UpgradeStatus, build: str) -> FlashOutcome:
        """Write the image of ``build`` for ``timings.flash_s`` sim seconds (at most ``max_real_s``
        real ones), moving ``up.progress`` to 99; then settle ``up`` as the faults decide."""
        t = self.timings
        start, real_start = self.clock(), time.monotonic()
        real_s = max(min(t.max_real_s, t.flash_s), 1e-9)
        deadline = RealDeadline(start + t.flash_s, real_s)
        while not deadline.passed(self.clock()):
            frac = max((self.clock() - start) / max(t.flash_s, 1e-9), (time.monotonic() - real_start) / real_s)
            up.progress = min(99, int(100 * frac))
            await asyncio.sleep(0.02)
        if self.faults.has(Fault.flash_brick):
            up.state, up.progress, up.pending_build = "failed", 0, None
            self.faults.bricked = True
            return FlashOutcome.bricked
        if self.faults.has(Fault.flash_fail):
            up.state, up.progress, up.pending_build = "failed", 0, None
            return FlashOutcome.failed
        up.state, up.progress, up.pending_build = "succeeded", 100, build
        return FlashOutcome.written


def device_app(device: D, key: web.AppKey[D], *, max_field_size: int | None = None) -> web.Application:
    """An aiohttp application in which ``device`` answers every path (firmware bodies up to 64 MiB),
    reachable as ``app[key]``."""
    handler_args = {"max_field_size": max_field_size} if max_field_size is not None else None
    app = web.Application(client_max_size=64 * 2**20, handler_args=handler_args)
    app.router.add_route("*", "/{tail:.*}", device.handle)
    app[key] = device
    return app
