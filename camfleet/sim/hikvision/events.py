"""A simulated Hikvision camera's events: the event triggers it is set up with, its motion detection
(on or off, sensitivity, the 22x18 grid) and the never-ending ``alertStream`` third-party clients
listen to (Home Assistant's pyhik, Node-RED, HikSink).

Why: what these clients expect is what real cameras send (docs/reference/devices.md §10, fixtures in
tests/drivers/replies/hikvision/): ``/ISAPI/Event/triggers`` an ``EventTriggerList`` whose ``VMD-1``
notifies ``center``; ``motionDetection`` the ``MotionDetection`` document pyhik reads and ``PUT``s back
whole; the stream ``multipart/mixed; boundary=boundary``, each part ``--boundary``, ``Content-Type:
application/xml; charset="UTF-8"``, ``Content-Length`` and an ``EventNotificationAlert`` one element a
line. Idle, a ``videoloss`` ``inactive`` heartbeat every ``heartbeat_s`` (10 s recorded); while the
``motion`` fault is set and motion detection is on, ``VMD`` ``active`` each second; when it clears, one
``VMD`` ``inactive`` [?] (pyhik also clears a motion after 5 s without a post). The grid is 18 rows of
six hex digits, the 22 columns in each row's high bits (``fffffc``: all of them).

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/Event/triggers
    curl -N --digest -u admin:<password> http://127.77.0.10/ISAPI/Event/notification/alertStream &
    .venv/bin/camfleet sim fault cam-01-t01 motion      # VMD active each second; --clear: inactive
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import ClassVar

from aiohttp import web

from camfleet.sim.devices import MOTION_COLS, MOTION_ROW_ALL, MOTION_ROWS, CameraState
from camfleet.sim.faults import Fault
from camfleet.sim.hikvision.device import IsapiDevice
from camfleet.sim.hikvision.dispatch import routes
from camfleet.sim.hikvision.xml import IsapiError, find, get_bool, get_int, parse_body, text, x
from camfleet.sim.httpserve import drop_connection

EVENT_ROUTES = routes(
    ("GET", r"/ISAPI/Event/triggers", "get_triggers"),
    ("GET", r"/ISAPI/Event/notification/alertStream", "get_alert_stream"),
    ("GET", r"/ISAPI/System/Video/inputs/channels/1/motionDetection", "get_motion"),
    ("PUT", r"/ISAPI/System/Video/inputs/channels/1/motionDetection", "put_motion"),
)
BOUNDARY = "boundary"
ROW_HEX = 6  # each grid row: 24 bits, the 22 columns from the top bit down
#: (id, eventType, eventDescription, notification methods): a camera's list as recorded (pyHik #81)
TRIGGERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("VMD-1", "VMD", "VMD Event trigger Information", ("center",)),
    ("tamper-1", "tamperdetection", "shelteralarm Event trigger Information", ("center",)),
    ("diskfull", "diskfull", "exception Information", ()),
    ("diskerror", "diskerror", "exception Information", ("center",)),
    ("nicbroken", "nicbroken", "exception Information", ()),
    ("ipconflict", "ipconflict", "exception Information", ()),
    ("illaccess", "illaccess", "exception Information", ()),
)


def grid_map(rows: list[int]) -> str:
    """Hikvision's ``gridMap`` from rows of column bits (bit c = column c from the left)."""
    out = []
    for row in rows:
        value = sum(1 << (4 * ROW_HEX - 1 - c) for c in range(MOTION_COLS) if row >> c & 1)
        out.append(f"{value:0{ROW_HEX}x}")
    return "".join(out)


def grid_rows(hexmap: str) -> list[int]:
    """The rows of a ``gridMap``; badParameters unless it is 18 rows of six hex digits."""
    if not re.fullmatch(rf"[0-9a-fA-F]{{{ROW_HEX * MOTION_ROWS}}}", hexmap):
        raise IsapiError(6, "badParameters")
    rows = []
    for r in range(MOTION_ROWS):
        value = int(hexmap[r * ROW_HEX : (r + 1) * ROW_HEX], 16)
        rows.append(sum(1 << c for c in range(MOTION_COLS) if value >> (4 * ROW_HEX - 1 - c) & 1))
    return rows


class IsapiEvents(IsapiDevice):
    """Event triggers, motion detection and the alert stream of one camera."""

    ROUTES = IsapiDevice.ROUTES + EVENT_ROUTES
    state: CameraState
    #: Seconds between the idle stream's ``videoloss inactive`` heartbeats (10 s on a DS-2CD2T85FWD-I5).
    heartbeat_s: float = 10.0
    #: Seconds between ``VMD active`` posts while something moves (about one a second recorded).
    motion_post_s: ClassVar[float] = 1.0

    # ----------------------------------------------------------------- triggers

    async def get_triggers(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        inner = ""
        for tid, etype, description, methods in TRIGGERS:
            notes = "".join(
                "<EventTriggerNotification>"
                + x("id", method)
                + x("notificationMethod", method)
                + x("notificationRecurrence", "beginning")
                + "</EventTriggerNotification>"
                for method in methods
            )
            inner += (
                "<EventTrigger>"
                + x("id", tid)
                + x("eventType", etype)
                + x("eventDescription", description)
                + x("videoInputChannelID", 1)
                + x("dynVideoInputChannelID", 1)
                + f"<EventTriggerNotificationList>{notes}</EventTriggerNotificationList></EventTrigger>"
            )
        return self.xml("EventTriggerList", inner)

    # ----------------------------------------------------------------- motion detection

    async def get_motion(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        md = self.state.motion
        inner = (
            x("enabled", md.enabled)
            + x("enableHighlight", False)
            + x("samplingInterval", 2)
            + x("startTriggerTime", 500)
            + x("endTriggerTime", 500)
            + x("regionType", "grid")
            + f"<Grid>{x('rowGranularity', MOTION_ROWS)}{x('columnGranularity', MOTION_COLS)}</Grid>"
            + '<MotionDetectionLayout version="2.0">'
            + x("sensitivityLevel", md.sensitivity)
            + f"<layout>{x('gridMap', grid_map(md.rows))}</layout>"
            + "</MotionDetectionLayout>"
        )
        return self.xml("MotionDetection", inner)

    async def put_motion(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "MotionDetection")
        region = text(el, "regionType")
        if region is not None and region != "grid":
            raise IsapiError(6, "badParameters")
        if find(el, "Grid") is not None and (
            get_int(el, "Grid/rowGranularity") != MOTION_ROWS or get_int(el, "Grid/columnGranularity") != MOTION_COLS
        ):
            raise IsapiError(6, "badParameters")  # the grid's size is the camera's, not the client's
        enabled = get_bool(el, "enabled")
        sensitivity = get_int(el, "MotionDetectionLayout/sensitivityLevel", 0, 100)
        hexmap = text(el, "MotionDetectionLayout/layout/gridMap")
        rows = grid_rows(hexmap) if hexmap is not None else None
        md = self.state.motion
        md.enabled = md.enabled if enabled is None else enabled
        md.sensitivity = md.sensitivity if sensitivity is None else sensitivity
        md.rows = md.rows if rows is None else [r & MOTION_ROW_ALL for r in rows]
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- alert stream

    def moving(self) -> bool:
        """Motion the camera reports now: something moves (the fault) and detection is on."""
        return self.faults.has(Fault.motion) and self.state.motion.enabled

    def _alert(self, event: str, active: bool, description: str) -> bytes:
        s = self.state
        lines = [
            f'<EventNotificationAlert version="2.0" xmlns="{self.NS}">',
            x("ipAddress", s.network.address),
            x("portNo", 80),
            x("protocol", "HTTP"),
            x("macAddress", s.mac),
            x("channelID", 1),
            x("dateTime", self._local_iso(self.clock())),
            x("activePostCount", 1 if active else 0),
            x("eventType", event),
            x("eventState", "active" if active else "inactive"),
            x("eventDescription", description),
            x("channelName", s.osd.text),
            "</EventNotificationAlert>",
        ]
        xml = "\r\n".join(lines).encode() + b"\r\n"
        head = f'--{BOUNDARY}\r\nContent-Type: application/xml; charset="UTF-8"\r\nContent-Length: {len(xml)}\r\n\r\n'
        return head.encode() + xml

    async def get_alert_stream(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        """Parts until the client hangs up, or the camera goes away (the connection is dropped)."""
        resp = web.StreamResponse(
            headers={"Content-Type": f"multipart/mixed; boundary={BOUNDARY}", "Server": "App-webs/"}
        )
        await resp.prepare(request)
        last_post = last_beat = 0.0
        was_moving = False
        try:
            while True:
                if self.faults.unreachable or self.rebooting():
                    drop_connection(request)
                    return resp
                if self.faults.has(Fault.hang):  # a hung camera keeps the connection and says nothing
                    await asyncio.sleep(0.1)
                    continue
                now = time.monotonic()
                part = None
                if self.moving():
                    if not was_moving or now - last_post >= self.motion_post_s:
                        part, last_post = self._alert("VMD", True, "Motion alarm"), now
                    was_moving = True
                elif was_moving:
                    part, was_moving = self._alert("VMD", False, "Motion alarm"), False
                elif now - last_beat >= self.heartbeat_s:
                    part, last_beat = self._alert("videoloss", False, "videoloss alarm"), now
                if part is not None:
                    await resp.write(part)  # one HTTP chunk per part: a client reads each as it comes
                await asyncio.sleep(min(0.1, self.heartbeat_s))
        except (ConnectionError, RuntimeError):  # the client went away (aiohttp says so either way)
            return resp
