"""A simulated Dahua NVR: identity, time, disks and its footage over the HTTP CGI API, on top of what
every Dahua device has (:class:`~camfleet.sim.dahua.device.DahuaCgiDevice`).

Why: the ``dahua_cgi_nvr`` driver and the footage export are tested against it, so it answers the
way docs/reference/footage.md §4 and device-apis.md §2.4-§2.6 describe real recorders:

- ``storageDevice.cgi?action=getDeviceAllInfo``: one ``list.info[i]`` per disk, one partition each
  (``Detail[0].TotalBytes``/``UsedBytes`` printed as ``%f``), ``State`` ``Success`` or ``Error``
  (an unformatted disk says ``Failure`` [?]).
- ``mediaFileFind.cgi``: ``factory.create`` → ``result=<object>``; ``findFile`` with
  ``condition.Channel`` (1-based), ``condition.StartTime``/``EndTime`` (the recorder's wall clock,
  ``YYYY-MM-DD HH:MM:SS``, no zone) and the optional ``condition.Types[0]=dav``,
  ``condition.VideoStream=Main``, ``condition.Flags[0]``/``condition.Flag[0]`` → ``OK`` (also when
  nothing matches [?]); ``findNextFile&count=N`` (at most 100 a page [?]) → ``found=<n>`` and
  ``items[i].*`` in time order, until ``found=0``; ``factory.close`` answers the ``Error`` /
  ``ErrorID=2, Detail=Invalid Request!`` (HTTP 200) recorded from a device [L] and
  ``factory.destroy`` ``OK``. An item's ``Channel`` is 0-based, its times are local wall clock.
- Files: a channel's recording (:meth:`~camfleet.sim.devices.RecordingSpan.pieces`, the holes left
  out) is cut into files at every :00 and :30 of the recorder's wall clock, so a file lasts 30
  minutes, or less where a hole starts or ends and at the one being written now. Whole seconds: a
  piece's first file starts on the first keyframe after the piece starts (a recorder starts a file
  on one [?]), a file ends on the piece's last whole second. Paths as NVR fixtures show them
  ``/mnt/dvr/<date>/<channel - 1>/dav/<HH>/<HH.MM.SS>-<HH.MM.SS>[R][0@0][0].dav`` (start date and
  hour; ``[R]`` regular recording) [M]; ``Flags[0]=Timing``. The channel folder is 0-based here as
  in the fixtures with ``Channel=0``; one camera fixture has ``001`` [?].
- ``GET /cgi-bin/RPC_Loadfile/<FilePath>`` (the path appended as it is, so ``RPC_Loadfile//mnt/…``):
  the file's bytes, a DHAV container (:mod:`~camfleet.sim.dahua.dhav`) of the channel's camera's
  main stream (the minutes of :func:`~camfleet.sim.footage.minute_clip`, the recording time
  burnt in), starting at the first keyframe at or after the file's start. The bytes depend on the
  path alone, and there are exactly ``Length`` of them: the search computes ``Length`` from the
  pictures' most possible bytes (:func:`~camfleet.sim.dahua.dhav.size_bound`) and the file ends in
  an auxiliary chunk that pads it to that size, so a search never runs the encoder. A path the
  recording does not hold (overwritten, or never recorded) is 404 ``Error`` /
  ``File not found!`` [?]. Sent a minute at a time.
- ``snapshot.cgi?channel=<n>``: a JPEG of an online channel, ``Error`` otherwise.
- RTSP playback (the town serves it on the recorder's RTSP port, :mod:`camfleet.sim.town.listeners`):
  ``/cam/playback?channel=<n>&subtype=0&starttime=YYYY_MM_DD_hh_mm_ss`` in local time (footage.md
  §4.3, read by :func:`playback_target`) plays from the keyframe at or before ``starttime``;
  ``endtime`` is not honoured (two minutes are played, as for the Hikvision playback) [?].

- ``configManager.cgi?action=getConfig&name=RemoteDevice`` (read only): one slot per channel,
  ``System_CONFIG_NETCAMERA_INFO_<channel - 1>``, its ``Address``/``Port``/``UserName``/``ProtocolType``
  and, once the recorder has logged in to the camera at that address, that camera's ``SerialNo``,
  ``Mac`` and ``DeviceType`` (as a DH-NVR4216-HDS2 answers, docs/reference/devices.md §9); unused
  slots ``Enable=false``, ``Address=192.168.0.0``. The password is never listed [?].

Not built (a recorder's channel and schedule writes over CGI were not confirmed, and the driver leaves
them to the web interface): setting ``RemoteDevice``, ``Record``, ``RecordMode``, ``/OutsideCmd``.

Reproduce by hand (a Dahua recorder of a running ``camfleet sim`` on 127.21.0.2)::

    curl --digest -u admin:<password> 'http://127.21.0.2/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo'
    curl --digest -u admin:<password> 'http://127.21.0.2/cgi-bin/mediaFileFind.cgi?action=factory.create'
    curl --digest -u admin:<password> 'http://127.21.0.2/cgi-bin/mediaFileFind.cgi?action=findFile&object=<id>&condition.Channel=10&condition.StartTime=2026-12-01%2019:00:00&condition.EndTime=2026-12-01%2020:00:00'
    curl --digest -u admin:<password> 'http://127.21.0.2/cgi-bin/mediaFileFind.cgi?action=findNextFile&object=<id>&count=100'
    curl --digest -u admin:<password> -g -o f.dav 'http://127.21.0.2/cgi-bin/RPC_Loadfile//mnt/dvr/2026-12-01/9/dav/19/19.30.00-20.00.00[R][0@0][0].dav'
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from camfleet.sim.dahua.cgi import CRLF, CgiError, kv, parse_int
from camfleet.sim.dahua.config import DeviceConfig
from camfleet.sim.dahua.device import Cgi, DahuaCgiDevice
from camfleet.sim.dahua.dhav import MIN_CHUNK, DhavWriter, size_bound
from camfleet.sim.devices import CameraState, NvrState, RecordingSpan
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.footage import CLIP_S, Footage, minute_clip
from camfleet.sim.httpdevice import Clock
from camfleet.sim.httpserve import Timings, snapshot_jpeg
from camfleet.sim.media import MediaError, StreamSpec

log = logging.getLogger("camfleet.sim")

#: Files are cut at every half hour of the recorder's wall clock [L: 30-minute files in NVR fixtures].
SLOT_S = 1800
LOCAL = "%Y-%m-%d %H:%M:%S"
#: Items one ``findNextFile`` gives at most [?].
PAGE_MAX = 100
#: Search objects a recorder keeps; the oldest goes when a client never destroys its own [?].
MAX_SEARCHES = 16
LOADFILE = "/cgi-bin/RPC_Loadfile"
WORK_DIR = "/mnt/dvr/sda0"
#: ``factory.close``'s reply as a device gave it (HTTP 200), python-amcrest's test [L].
CLOSE_REPLY = f"Error{CRLF}ErrorID=2, Detail=Invalid Request!{CRLF}"
_PATH = re.compile(
    r"/mnt/dvr/(\d{4}-\d{2}-\d{2})/(\d+)/dav/(\d{2})/(\d{2})\.(\d{2})\.(\d{2})-(\d{2})\.(\d{2})\.(\d{2})"
    r"\[R\]\[0@0\]\[0\]\.dav"
)
_SEND_AT = 1 << 18  # bytes gathered before a write to the socket


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class DavFile:
    """One recording file: a channel (1-based) and whole UTC seconds ``[start, end)``."""

    channel: int
    start: int
    end: int

    def path(self, offset_s: int) -> str:
        a, b = _wall(self.start, offset_s), _wall(self.end, offset_s)
        return f"/mnt/dvr/{a:%Y-%m-%d}/{self.channel - 1}/dav/{a:%H}/{a:%H.%M.%S}-{b:%H.%M.%S}[R][0@0][0].dav"


def _wall(utc_s: float, offset_s: int) -> dt.datetime:
    """The recorder's wall clock (naive) at a UTC time."""
    return dt.datetime.fromtimestamp(utc_s + offset_s, dt.UTC).replace(tzinfo=None)


def _utc(wall: dt.datetime, offset_s: int) -> int:
    return int(wall.replace(tzinfo=dt.UTC).timestamp()) - offset_s


def first_keyframe(spec: StreamSpec, at: int) -> int:
    """The time of the first picture at or after ``at`` that starts a GOP (a minute starts with one)."""
    epoch = at // CLIP_S * CLIP_S
    index = -(-(at - epoch) * spec.fps // spec.gop) * spec.gop
    return epoch + CLIP_S if index >= CLIP_S * spec.fps else epoch + index // spec.fps


def segments(spec: StreamSpec, start: int, end: int) -> list[tuple[int, int, int]]:
    """The pictures of a file: (minute, first picture, stop picture) per minute clip, from the first
    keyframe at or after ``start`` to the last picture before ``end``."""
    fps, gop, per_clip = spec.fps, spec.gop, CLIP_S * spec.fps
    epoch = start // CLIP_S * CLIP_S
    lo = -(-(start - epoch) * fps // gop) * gop
    out = []
    while epoch < end:
        hi = min(per_clip, (end - epoch) * fps)
        if hi > lo:
            out.append((epoch, lo, hi))
        epoch, lo = epoch + CLIP_S, 0
    return out


def file_length(spec: StreamSpec, start: int, end: int) -> int:
    """The bytes of a file (what ``Length`` says and the download sends): the pictures' bound plus the
    padding chunk's header and trailer."""
    total = MIN_CHUNK
    for _, lo, hi in segments(spec, start, end):
        keys = len(range(-(-lo // spec.gop) * spec.gop, hi, spec.gop))
        total += size_bound(spec, hi - lo, keys)
    return total


def dav_files(span: RecordingSpan | None, channel: int, offset_s: int, spec: StreamSpec | None) -> list[DavFile]:
    """Every file of a channel: each recorded piece (whole seconds) cut at the half hours of the wall
    clock. With a known stream a file starts on a keyframe, as a recorder starts writing one, and a
    piece too short to hold one has no file."""
    if span is None:
        return []
    out = []
    for pa, pb in span.pieces():
        a, end = _piece_start(pa, spec), int(pb // 1)
        while a < end:
            b = min(end, ((a + offset_s) // SLOT_S + 1) * SLOT_S - offset_s)
            out.append(DavFile(channel, a, b))
            a = b
    return out


def _piece_start(start: float, spec: StreamSpec | None) -> int:
    """Where a recorded piece's first file starts: its first whole second, or the keyframe after it."""
    a = -int(-start // 1)
    return first_keyframe(spec, a) if spec is not None else a


def parse_path(path: str, offset_s: int) -> DavFile | None:
    """The file a ``FilePath`` names (its channel and UTC span), or None."""
    m = _PATH.fullmatch(path)
    if m is None:
        return None
    try:
        day = dt.datetime.strptime(m.group(1), "%Y-%m-%d")
        a = day.replace(hour=int(m.group(4)), minute=int(m.group(5)), second=int(m.group(6)))
        b = day.replace(hour=int(m.group(7)), minute=int(m.group(8)), second=int(m.group(9)))
    except ValueError:
        return None
    if b <= a:  # a file that ends at midnight
        b += dt.timedelta(days=1)
    if m.group(3) != f"{a:%H}":
        return None
    return DavFile(int(m.group(2)) + 1, _utc(a, offset_s), _utc(b, offset_s))


def playback_target(target: str) -> tuple[int, int, dt.datetime] | None:
    """(channel, subtype, wall-clock start) of a playback URL ``/cam/playback?channel=1&subtype=0&
    starttime=2026_12_01_19_40_00&endtime=...`` (footage.md §4.3: underscores, local time); None if it
    is not one."""
    parts = urlsplit(target)
    if parts.path.rstrip("/").lower() != "/cam/playback":
        return None
    query = {k.lower(): v[-1].strip("/") for k, v in parse_qs(parts.query).items()}
    try:
        channel = int(query.get("channel", ""))
        subtype = int(query.get("subtype", "0"))
        start = dt.datetime.strptime(query.get("starttime", ""), "%Y_%m_%d_%H_%M_%S")
    except ValueError:
        return None
    return channel, subtype, start


# --------------------------------------------------------------------------- the recorder


@dataclass
class _Search:
    """A ``mediaFileFind`` object: the files its ``findFile`` matched, and how many were handed out."""

    files: list[DavFile] | None = None
    cursor: int = 0


class DahuaNvr(DahuaCgiDevice):
    """A Dahua recorder's CGI API over an :class:`~camfleet.sim.devices.NvrState`."""

    PROCESSOR = "Hi3536"  # [?]
    state: NvrState

    def __init__(
        self,
        state: NvrState,
        faults: Faults,
        *,
        clock: Clock,
        on_change: Callable[[], None],
        timings: Timings,
        footage: Footage | None = None,
        source_of: Callable[[int], CameraState | None] | None = None,
    ) -> None:
        super().__init__(state, faults, clock=clock, on_change=on_change, timings=timings, config=DeviceConfig(state))
        self.footage = footage
        #: The camera a channel is connected to now (the town's answer): what RemoteDevice reports of it.
        self.source_of = source_of or (lambda channel: None)
        self._searches: dict[str, _Search] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.state.apply_faults(self.faults):
            self.changed()
        return await super().handle(request)

    def route(self, request: web.Request) -> tuple[Cgi | None, str] | None:
        if request.path.startswith(LOADFILE + "/"):
            return self.loadfile, ""
        return super().route(request)

    @property
    def offset_s(self) -> int:
        return self.state.utc_offset_s()

    def _spec(self, channel: int) -> StreamSpec | None:
        return self.footage.spec_of(channel) if self.footage is not None else None

    # ----------------------------------------------------------------- channels (read only)

    async def cgi_configManager(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if request.query.get("name") != "RemoteDevice" and not any(k.startswith("RemoteDevice") for k in request.query):
            return await super().cgi_configManager(request, action, is_admin)
        if action != "getConfig":
            raise CgiError()
        pairs: list[tuple[str, object]] = []
        for slot in range(self.state.max_channels):
            key = f"table.RemoteDevice.uuid:System_CONFIG_NETCAMERA_INFO_{slot}."
            ch = self.state.channels.get(slot + 1)
            if ch is None:
                pairs += [(key + "Enable", "false"), (key + "Address", "192.168.0.0")]
                continue
            cam = self.source_of(slot + 1)
            dahua = ch.protocol.upper() == "DAHUA"
            pairs += [
                (key + "Name", ch.name),
                (key + "Enable", "true"),
                (key + "Address", ch.address),
                (key + "Mac", cam.mac if cam else ""),
                (key + "Port", 37777 if dahua else ch.port),
                (key + "HttpPort", ch.port),
                (key + "UserName", ch.username),
                (key + "Vendor", "Private" if dahua else "Onvif"),
                (key + "ProtocolType", "Dahua2" if dahua else "Onvif"),
                (key + "DeviceType", cam.model if cam else ""),
                (key + "SerialNo", cam.serial if cam else ""),
            ]
        return self.text(kv(pairs))

    # ----------------------------------------------------------------- disks and pictures

    async def cgi_storageDevice(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        s = self.state
        if action == "factory.getCollect":
            return self.text(kv([(f"list[{i}]", f"/dev/sd{chr(97 + i)}") for i in range(len(s.disks))]))
        if action != "getDeviceAllInfo":
            raise CgiError()
        pairs: list[tuple[str, object]] = []
        for i, d in enumerate(s.disks):
            p = f"list.info[{i}]"
            state = {"ok": "Success", "error": "Error"}.get(d.status, "Failure")
            free = 0 if (s.fault_disk_full or not d.usable) else d.free_bytes
            pairs += [
                (f"{p}.Detail[0].IsError", d.status == "error"),
                (f"{p}.Detail[0].Path", f"/dev/sd{chr(97 + i)}0"),
                (f"{p}.Detail[0].TotalBytes", f"{d.capacity_bytes:f}"),
                (f"{p}.Detail[0].Type", "ReadWrite"),
                (f"{p}.Detail[0].UsedBytes", f"{d.capacity_bytes - free:f}"),
                (f"{p}.Name", f"/dev/sd{chr(97 + i)}"),
                (f"{p}.State", state),
            ]
        return self.text(kv(pairs))

    async def cgi_snapshot(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        n = parse_int(request.query.get("channel", "1"), 1, self.state.max_channels)
        channel = self.state.channels.get(n)
        if channel is None or not channel.online:
            raise CgiError()
        return web.Response(body=await snapshot_jpeg(1920, 1080), content_type="image/jpeg")

    # ----------------------------------------------------------------- search

    async def cgi_mediaFileFind(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        q = request.query
        if action == "factory.create":
            while len(self._searches) >= MAX_SEARCHES:
                del self._searches[next(iter(self._searches))]
            obj = str(100_000_000 + secrets.randbelow(900_000_000))
            self._searches[obj] = _Search()
            return self.text(kv([("result", obj)]))
        search = self._searches.get(q.get("object", ""))
        if search is None:
            raise CgiError()
        if action == "findFile":
            search.files, search.cursor = self._find(q), 0
            return self.text(f"OK{CRLF}")
        if action == "findNextFile":
            if search.files is None:
                raise CgiError()
            count = parse_int(q.get("count", str(PAGE_MAX)), 1, 1000)
            page = search.files[search.cursor : search.cursor + min(count, PAGE_MAX)]
            search.cursor += len(page)
            pairs: list[tuple[str, object]] = [("found", len(page))]
            for i, f in enumerate(page):
                pairs += self._item(i, f)
            return self.text(kv(pairs))
        if action == "factory.close":
            search.files, search.cursor = None, 0
            return self.text(CLOSE_REPLY)
        if action == "factory.destroy":
            del self._searches[q["object"]]
            return self.text(f"OK{CRLF}")
        raise CgiError()

    def _find(self, q: Mapping[str, str]) -> list[DavFile]:
        """The files ``findFile``'s condition matches, oldest first."""
        channel = parse_int(q.get("condition.Channel", ""), 1, self.state.max_channels)
        try:
            start = _utc(dt.datetime.strptime(q.get("condition.StartTime", ""), LOCAL), self.offset_s)
            end = _utc(dt.datetime.strptime(q.get("condition.EndTime", ""), LOCAL), self.offset_s)
        except ValueError as exc:
            raise CgiError() from exc
        if end <= start:
            raise CgiError()
        types = [v for k, v in q.items() if re.fullmatch(r"condition\.Types\[\d+\]", k)]
        flags = [v for k, v in q.items() if re.fullmatch(r"condition\.Flags?\[\d+\]", k)]
        stream = q.get("condition.VideoStream", "Main")
        if (types and "dav" not in types) or (flags and "Timing" not in flags) or stream != "Main":
            return []
        files = dav_files(self.state.recordings.get(channel), channel, self.offset_s, self._spec(channel))
        return [f for f in files if f.end > start and f.start < end]

    def _item(self, i: int, f: DavFile) -> list[tuple[str, object]]:
        spec = self._spec(f.channel)
        p = f"items[{i}]"
        return [
            (f"{p}.Channel", f.channel - 1),
            (f"{p}.Cluster", 0),
            (f"{p}.Compressed", False),
            (f"{p}.Disk", 0),
            (f"{p}.Duration", f.end - f.start),
            (f"{p}.EndTime", _wall(f.end, self.offset_s).strftime(LOCAL)),
            (f"{p}.FilePath", f.path(self.offset_s)),
            (f"{p}.Flags[0]", "Timing"),
            (f"{p}.Length", file_length(spec, f.start, f.end) if spec is not None else 0),
            (f"{p}.Partition", 0),
            (f"{p}.Redundant", False),
            (f"{p}.Repeat", 0),
            (f"{p}.StartTime", _wall(f.start, self.offset_s).strftime(LOCAL)),
            (f"{p}.Type", "dav"),
            (f"{p}.VideoStream", "Main"),
            (f"{p}.WorkDir", WORK_DIR),
            (f"{p}.WorkDirSN", 0),
        ]

    # ----------------------------------------------------------------- download

    def held(self, f: DavFile, spec: StreamSpec) -> bool:
        """Whether the recording holds the file a path names: inside one recorded piece, within one half
        hour, starting where the piece's first file or the half hour starts (a file being written may
        end anywhere)."""
        offset = self.offset_s
        slot_start = (f.start + offset) // SLOT_S * SLOT_S - offset
        if not f.start < f.end <= slot_start + SLOT_S:
            return False
        span = self.state.recordings.get(f.channel)
        for pa, pb in span.pieces() if span else []:
            a = _piece_start(pa, spec)
            if a <= f.start and f.end <= int(pb // 1) and f.start in (a, slot_start):
                return True
        return False

    async def loadfile(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        """``RPC_Loadfile/<FilePath>``: the file's DHAV bytes, exactly ``Length`` of them."""
        path = "/" + request.path[len(LOADFILE) :].lstrip("/")
        f = parse_path(path, self.offset_s)
        spec = self._spec(f.channel) if f is not None else None
        if f is None or spec is None or not self.held(f, spec):
            raise CgiError("File not found!", 404)
        zone = self.footage.zone if self.footage is not None else "UTC"
        length = file_length(spec, f.start, f.end)
        stop_at = length // 2 if self.faults.has(Fault.malformed) else length
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        resp.content_length = length
        await resp.prepare(request)
        writer = DhavWriter(spec, f.channel - 1, self.offset_s)
        loop = asyncio.get_running_loop()
        pending = bytearray()
        try:
            for epoch, lo, hi in segments(spec, f.start, f.end):
                clip = await loop.run_in_executor(None, minute_clip, spec, epoch, zone)
                for part in writer.pictures_of(clip, epoch, lo, hi):
                    pending += part
                    if len(pending) >= _SEND_AT:
                        await self._send(resp, pending, writer.written - len(pending), stop_at)
                        pending.clear()
            pending += writer.padding(length - writer.written, f.end)
            await self._send(resp, pending, writer.written - len(pending), stop_at)
        except (MediaError, ValueError, _Cut) as exc:  # the headers are gone: cut the download short
            if not isinstance(exc, _Cut):
                log.error("dahua nvr download of %s: %s", path, exc)
            if request.transport is not None:
                request.transport.abort()
            return resp
        await resp.write_eof()
        return resp

    @staticmethod
    async def _send(resp: web.StreamResponse, data: bytearray, sent: int, stop_at: int) -> None:
        """Write ``data`` (which follows ``sent`` bytes); stop at ``stop_at`` (the malformed fault)."""
        if sent + len(data) > stop_at:
            await resp.write(bytes(data[: max(0, stop_at - sent)]))
            raise _Cut
        await resp.write(bytes(data))


class _Cut(Exception):
    """The download stops here (the malformed fault)."""
