"""A simulated Dahua camera's HTTP CGI API: the login, the privilege check and each ``*.cgi``.

Why: Dahua drivers are tested against it, so it answers like the devices in device-apis.md §2
and §6: ``key=value`` lines with CRLF, ``table.`` on getConfig, ``OK`` on a good set,
``Error\\r\\nBad Request!\\r\\n`` (HTTP 400) on bad input, realm ``Login to <serial>``,
``LockLoginTimes=5`` / ``LoginFailLockTime=1800`` s lock-out per account, and the faults.
The plumbing and the CGIs every Dahua device has are :class:`~camfleet.sim.dahua.device.DahuaCgiDevice`'s;
a camera adds ``storageDevice`` (no SD card), ``snapshot``, ``encode`` (caps), ``MaxExtraStream``, ``eventManager``
(:mod:`~camfleet.sim.dahua.events`), and ``/OutsideCmd``
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

from camfleet.sim.dahua.cgi import CgiError, kv
from camfleet.sim.dahua.config import CODECS, STREAM_KEYS, ConfigTable
from camfleet.sim.dahua.events import DahuaEvents
from camfleet.sim.dahua.wizard import InitWizard
from camfleet.sim.devices import CameraState
from camfleet.sim.faults import Faults
from camfleet.sim.httpdevice import Clock
from camfleet.sim.httpserve import Timings, snapshot_jpeg


class DahuaCamera(DahuaEvents):
    """One Dahua camera's CGI API over a :class:`CameraState` (its event stream: :mod:`~camfleet.sim.dahua.events`)."""

    state: CameraState

    def __init__(
        self,
        state: CameraState,
        faults: Faults,
        *,
        clock: Clock,
        on_change: Callable[[], None],
        timings: Timings,
        rtsp_port: Callable[[], int] | None = None,
    ) -> None:
        config = ConfigTable(state, rtsp_port)
        super().__init__(state, faults, clock=clock, on_change=on_change, timings=timings, config=config)
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

    async def cgi_encode(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        """``getConfigCaps`` (``caps[0].MainFormat[0].Video.*``, recorded) and ``getCaps`` (the same keys [?])."""
        if action not in ("getCaps", "getConfigCaps") or request.query.get("channel", "1") not in ("0", "1"):
            raise CgiError()
        pairs: list[tuple[str, object]] = []
        for sid, key in STREAM_KEYS.items():
            if sid not in self.state.streams:
                continue
            p, main = f"caps[0].{key}.Video", sid == 101
            st = self.state.streams[sid]
            sizes = [(st.width, st.height)] + [
                (w, h) for w, h in ((1920, 1080), (1280, 720), (704, 576), (640, 360)) if w < st.width
            ]
            codecs = [CODECS[c] for c in (("h264", "h265") if main else ("h264", "h265", "mjpeg"))]
            pairs += [
                (f"{p}.BitRateOptions", "256,16384" if main else "32,4096"),
                (f"{p}.CompressionTypes", ",".join(codecs)),
                (f"{p}.FPSMax", 30 if main else 25),
                (f"{p}.ResolutionTypes", ",".join(f"{w}x{h}" for w, h in dict.fromkeys(sizes))),
            ]
        return self.text(kv(pairs))

    async def cgi_snapshot(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if request.query.get("channel", "1") != "1":
            raise CgiError()
        st = self.state.streams[101]
        return web.Response(body=await snapshot_jpeg(st.width, st.height), content_type="image/jpeg")
