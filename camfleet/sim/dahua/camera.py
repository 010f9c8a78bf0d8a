"""A simulated Dahua camera's HTTP CGI API: the login, the privilege check and each ``*.cgi``.

Why: Dahua drivers are tested against it, so it answers like the devices in device-apis.md §2
and §6: ``key=value`` lines with CRLF, ``table.`` on getConfig, ``OK`` on a good set,
``Error\\r\\nBad Request!\\r\\n`` (HTTP 400) on bad input, realm ``Login to <serial>``,
``LockLoginTimes=5`` / ``LoginFailLockTime=1800`` s lock-out per account, and the faults.
The plumbing and the CGIs every Dahua device has are :class:`~camfleet.sim.dahua.device.DahuaCgiDevice`'s;
a camera adds ``storageDevice`` (no SD card), ``snapshot`` and ``MaxExtraStream``, and ``/OutsideCmd``
belongs to the initialisation wizard (:mod:`~camfleet.sim.dahua.wizard`).

Choices where the reference is unsure [?]:

- An uninitialised device answers every CGI with 401 and ``Error\\r\\nInvalid Authority!`` (no
  challenge) [L].
- Bad logins: 401 with a new challenge; once locked, the body says ``Error\\r\\nUser locked!``.
- A non-admin calling a setter: 403 ``Error\\r\\nNo Authority!``.
- ``upgrader.cgi?action=getState`` idle state is ``Idle``; a finished upgrade reboots by itself.

Reproduce by hand::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/magicBox.cgi?action=getSystemInfo'
    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/upgrader.cgi?action=getState'
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from camfleet.sim.dahua.cgi import CgiError
from camfleet.sim.dahua.config import ConfigTable
from camfleet.sim.dahua.device import DahuaCgiDevice
from camfleet.sim.dahua.wizard import InitWizard
from camfleet.sim.devices import CameraState
from camfleet.sim.faults import Faults
from camfleet.sim.httpdevice import Clock
from camfleet.sim.httpserve import Timings, snapshot_jpeg


class DahuaCamera(DahuaCgiDevice):
    """One Dahua camera's CGI API over a :class:`CameraState`."""

    state: CameraState

    def __init__(
        self, state: CameraState, faults: Faults, *, clock: Clock, on_change: Callable[[], None], timings: Timings
    ) -> None:
        super().__init__(state, faults, clock=clock, on_change=on_change, timings=timings, config=ConfigTable(state))
        self.wizard = InitWizard(state, on_change)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/OutsideCmd" and request.method == "POST":
            return await self.wizard.answer(request)
        return await super()._dispatch(request)

    def product_definition(self, name: str) -> list[tuple[str, object]]:
        if name == "MaxExtraStream":
            return [("table.MaxExtraStream", sum(1 for sid in self.state.streams if sid != 101))]
        raise CgiError()

    # ----------------------------------------------------------------- CGIs

    async def cgi_storageDevice(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if action in ("getDeviceAllInfo", "factory.getCollect"):
            return self.text("")  # no SD card fitted
        raise CgiError()

    async def cgi_snapshot(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if request.query.get("channel", "1") != "1":
            raise CgiError()
        st = self.state.streams[101]
        return web.Response(body=await snapshot_jpeg(st.width, st.height), content_type="image/jpeg")
