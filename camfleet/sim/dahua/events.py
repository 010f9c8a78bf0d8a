"""A simulated Dahua camera's events: ``eventManager.cgi``'s ``attach`` stream (what python-amcrest's
``event_stream``/``event_actions`` and Home Assistant's amcrest integration listen to) and
``getEventIndexes``.

Why: clients learn of motion from the stream, not by polling. As cameras send it (docs/reference/
devices.md §10): ``multipart/x-mixed-replace; boundary=myboundary``, each part ``--myboundary``,
``Content-Type: text/plain``, ``Content-Length`` and the line ``Code=VideoMotion;action=Start;index=0``
(``Stop`` when it ends), then ``data={…}`` (local time, UTC seconds, ``Name``), only for the codes asked (``codes=[VideoMotion]``, or ``[All]``); with
``heartbeat=<s>`` a ``Heartbeat`` part that often. Motion is the ``motion`` fault while the camera's
motion detection (``MotionDetect[0].Enable``) is on.

Reproduce by hand (a Dahua camera of a running ``camfleet sim`` on 127.77.0.20)::

    curl -N --digest -u admin:<password> \\
        'http://127.77.0.20/cgi-bin/eventManager.cgi?action=attach&codes=%5BVideoMotion%5D&heartbeat=5' &
    .venv/bin/camfleet sim fault cam-02-t01 motion      # Start; --clear: Stop
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from aiohttp import web

from camfleet.sim.dahua.cgi import CRLF, CgiError, kv, parse_int
from camfleet.sim.dahua.device import DahuaCgiDevice
from camfleet.sim.devices import CameraState
from camfleet.sim.faults import Fault
from camfleet.sim.httpserve import drop_connection

BOUNDARY = "myboundary"
MOTION = "VideoMotion"


class CloseDelimited(web.StreamResponse):
    """A reply with neither a length nor chunks: its body ends when the connection closes, as the cameras'
    attach stream does. Why it matters: python-amcrest reads each event with a second ``iter_content``
    generator; on a chunked reply urllib3 closes the connection when that generator is dropped, so a
    chunked stream would end after the first event."""

    _length_check = False  # aiohttp's own switch (its WebSocketResponse sets it): no chunking added

    def __init__(self, *, headers: dict[str, str]) -> None:
        super().__init__(headers=headers)
        self.force_close()


def part(body: str) -> bytes:
    data = body.encode()
    head = f"--{BOUNDARY}{CRLF}Content-Type: text/plain{CRLF}Content-Length: {len(data)}{CRLF}{CRLF}"
    return head.encode() + data + CRLF.encode()


class DahuaEvents(DahuaCgiDevice):
    """``eventManager.cgi`` of one camera."""

    state: CameraState

    def moving(self) -> bool:
        return self.faults.has(Fault.motion) and self.state.motion.enabled

    def _motion_event(self, action: str) -> str:
        """``Code=VideoMotion;action=…;index=0;data={…}``: the JSON one key a line, tab-indented, as 2023 builds send."""
        utc = self.state.device_time(self.clock(), self.faults)
        zone = dt.timezone(dt.timedelta(seconds=self.state.utc_offset_s(utc)))
        local = dt.datetime.fromtimestamp(utc, zone).strftime("%Y-%m-%d %H:%M:%S")
        fields = [
            ("LocaleTime", f'"{local}"'),
            ("UTC", str(int(utc))),
            ("Name", '"IPC"'),
            ("SmartMotionEnable", "false"),
        ]
        data = ",\n".join(f'\t"{k}":\t{v}' for k, v in fields)
        return f"Code={MOTION};action={action};index=0;data={{\n{data}\n}}"

    async def cgi_eventManager(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if action == "getEventIndexes":
            if request.query.get("code") != MOTION or not self.moving():
                raise CgiError()  # no channel has it now [?]
            return self.text(kv([("channels[0]", 0)]))
        if action != "attach":
            raise CgiError()
        codes = request.query.get("codes", "")
        if not (codes.startswith("[") and codes.endswith("]")):
            raise CgiError()
        wanted = {c.strip() for c in codes[1:-1].split(",") if c.strip()}
        if not wanted:
            raise CgiError()
        heartbeat = parse_int(request.query["heartbeat"], 1, 3600) if "heartbeat" in request.query else None
        return await self._attach(request, MOTION in wanted or "All" in wanted, heartbeat)

    async def _attach(self, request: web.Request, motion: bool, heartbeat: int | None) -> web.StreamResponse:
        """Parts until the client hangs up, or the camera goes away (the connection is dropped)."""
        resp = CloseDelimited(headers={"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}"})
        await resp.prepare(request)
        was_moving = False
        last_beat = time.monotonic()
        try:
            while True:
                if self.faults.unreachable or self.rebooting():
                    drop_connection(request)
                    return resp
                if not self.faults.has(Fault.hang):
                    moving = motion and self.moving()
                    if moving != was_moving:
                        await resp.write(part(self._motion_event("Start" if moving else "Stop")))
                        was_moving = moving
                    if heartbeat is not None and time.monotonic() - last_beat >= heartbeat:
                        await resp.write(part("Heartbeat"))
                        last_beat = time.monotonic()
                await asyncio.sleep(0.1)
        except (ConnectionError, RuntimeError):  # the client went away
            return resp
