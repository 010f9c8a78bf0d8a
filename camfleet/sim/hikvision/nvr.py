"""A simulated Hikvision NVR: disks, IP camera channels (``InputProxy``), recording schedules,
per-track recording status and the footage search, on top of what every ISAPI device has.

Why: recorder playbooks and the retention report are tested against it. Footage is kept as one
span per channel (:class:`~camfleet.sim.devices.RecordingSpan`) that the town's clock fills;
a search cuts it into hour-long files, 50 matches a page at most, ``MORE`` while pages remain.
``GET /ISAPI/ContentMgmt/record/status`` (per-track recording state) is a simulator resource [?].
A channel the NVR has logged in to carries that camera's ``model``, ``serialNumber`` and
``firmwareVersion`` in its ``sourceInputPortDescriptor`` — the camera at the channel's address now, as
the town says (``source_of``), not the one the inventory meant (docs/reference/devices.md §9). The
NVR's own ``/ISAPI/Streaming/channels`` lists ``<channel>01`` (main) and ``<channel>02`` (sub) for each
channel, and its RTSP port relays them live (``rtsp://nvr/Streaming/Channels/101``, the town's listeners).
A schedule is ``continuous`` only when CMR covers the whole week, a day written ``Monday 00:00:00 →
Tuesday 00:00:00`` as real recorders write it, or ``→ Monday 24:00:00``. As on real recorders (field notes
from a DS-9632NI-M8 V5.04.081, a DS-7616NI-M2/16P, two DS-7716NI-I4/16P V4.61.030, docs/reference/devices.md §1)
the on/off switch is ``CustomExtension/enableSchedule``; ``Track/Enable`` reads false on every track and
a PUT's ``Enable`` changes nothing.

Reproduce by hand (a recorder of a running ``camfleet sim`` on 127.78.0.1)::

    curl --digest -u admin:<password> http://127.78.0.1/ISAPI/ContentMgmt/Storage/hdd
    curl --digest -u admin:<password> -X POST http://127.78.0.1/ISAPI/ContentMgmt/search -d \\
        '<CMSearchDescription><trackIDList><trackID>101</trackID></trackIDList><timeSpanList><timeSpan>
        <startTime>2024-01-01T00:00:00Z</startTime><endTime>2030-01-01T00:00:00Z</endTime></timeSpan>
        </timeSpanList></CMSearchDescription>'
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element

from aiohttp import web

from camfleet.sim.devices import CameraState, NvrState, ProxyChannel, RecordingSpan
from camfleet.sim.footage import CLIP_S, Footage, ProgramStream, minute_clip
from camfleet.sim.hikvision.device import IsapiDevice
from camfleet.sim.hikvision.dispatch import routes
from camfleet.sim.hikvision.xml import (
    NS_NVR,
    IsapiError,
    find,
    findall,
    get_bool,
    get_int,
    parse_body,
    parse_time,
    text,
    utc_z,
    x,
)
from camfleet.sim.httpserve import snapshot_jpeg
from camfleet.sim.media import MediaError

log = logging.getLogger("camfleet.sim")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEGMENT_S = 3600  # a recording file holds at most an hour (real NVRs' files are 40-70 min)
WEEK_S = 7 * 86400
SEND_BLOCK = 64 * 1024  # a download's write size


def _at(day: str | None, time_of_day: str | None) -> int | None:
    """Seconds from Monday 00:00 of a schedule's day and time (``24:00:00`` allowed)."""
    if day not in DAYS or not time_of_day:
        return None
    found = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})", time_of_day.strip())
    if found is None or int(found.group(1)) > 24:
        return None
    h, mi, se = (int(g) for g in found.groups())
    return DAYS.index(day) * 86400 + h * 3600 + mi * 60 + se


def compact(t: float) -> str:
    """``20260101T120000Z``, the playback URI's time form."""
    return utc_z(t).replace("-", "").replace(":", "")


def file_name(channel: int, start: float) -> str:
    """A 17-digit file name as NVRs give them, unique per channel and start."""
    return f"{channel:03d}{int(start):014d}"


class IsapiNvr(IsapiDevice):
    """A Hikvision NVR: disks, IP camera channels, schedules, footage search."""

    ROUTES = IsapiDevice.ROUTES + routes(
        ("GET", r"/ISAPI/ContentMgmt/Storage", "get_storage"),
        ("GET", r"/ISAPI/ContentMgmt/Storage/hdd", "get_hdds"),
        ("GET", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)", "get_hdd"),
        ("PUT", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)", "put_hdd"),
        ("PUT", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)/format", "put_format"),
        ("GET", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)/formatStatus", "get_format_status"),
        ("GET", r"/ISAPI/ContentMgmt/InputProxy/channels", "get_channels"),
        ("POST", r"/ISAPI/ContentMgmt/InputProxy/channels", "post_channel"),
        ("GET", r"/ISAPI/ContentMgmt/InputProxy/channels/status", "get_channels_status"),
        ("GET", r"/ISAPI/ContentMgmt/InputProxy/channels/(?P<id>\d+)", "get_channel"),
        ("PUT", r"/ISAPI/ContentMgmt/InputProxy/channels/(?P<id>\d+)", "put_channel"),
        ("DELETE", r"/ISAPI/ContentMgmt/InputProxy/channels/(?P<id>\d+)", "delete_channel"),
        ("GET", r"/ISAPI/ContentMgmt/record/tracks", "get_tracks"),
        ("GET", r"/ISAPI/ContentMgmt/record/tracks/(?P<id>\d+)", "get_track"),
        ("PUT", r"/ISAPI/ContentMgmt/record/tracks/(?P<id>\d+)", "put_track"),
        ("GET", r"/ISAPI/ContentMgmt/record/status", "get_record_status"),
        ("POST", r"/ISAPI/ContentMgmt/search", "post_search"),
        ("GET", r"/ISAPI/ContentMgmt/download/capabilities", "get_download_capabilities"),
        ("GET", r"/ISAPI/ContentMgmt/download", "download"),
        ("POST", r"/ISAPI/ContentMgmt/download", "download"),
        ("GET", r"/ISAPI/Streaming/channels", "get_streams"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)", "get_stream"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)/picture", "get_picture"),
        ("GET", r"/ISAPI/ContentMgmt/StreamingProxy/channels/(?P<id>\d+)/picture", "get_picture"),
    )
    NS = NS_NVR
    DEVICE_TYPE = "NVR"
    state: NvrState
    footage: Footage | None = None
    rtsp_port: Callable[[], int] | None = None  # where its RTSP playback answers (the search's URIs point there)
    #: The camera a channel is connected to now (set by the town): what the NVR learnt of it when it
    #: logged in, reported in the channel's ``sourceInputPortDescriptor`` (None: not connected).
    source_of: Callable[[int], CameraState | None] | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.state.apply_faults(self.faults):
            self.changed()
        return await super().handle(request)

    # ----------------------------------------------------------------- storage

    def _hdd_inner(self, slot: int) -> str:
        s = self.state
        d = next(d for d in s.disks if d.slot == slot)
        free = 0 if (s.fault_disk_full or not d.usable) else d.free_bytes
        return (
            x("id", d.slot)
            + x("hddName", f"hdd{d.slot}")
            + "<hddPath></hddPath>"
            + x("hddType", "SATA")
            + x("status", d.status)
            + x("capacity", d.capacity_bytes // 2**20)
            + x("freeSpace", free // 2**20)
            + x("property", "RW")
            + x("group", 1)
        )

    def _disk_slot(self, m: re.Match[str]) -> int:
        slot = int(m.group("id"))
        if not any(d.slot == slot for d in self.state.disks):
            raise IsapiError(4, "notSupport", http=403)
        return slot

    def _hdd_list(self) -> str:
        items = "".join(f"<hdd>{self._hdd_inner(d.slot)}</hdd>" for d in self.state.disks)
        return f'<hddList size="{len(self.state.disks)}">{items}</hddList>'

    async def get_storage(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("storage", self._hdd_list() + '<nasList/><workMode opt="group,quota">group</workMode>')

    async def get_hdds(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = "".join(f"<hdd>{self._hdd_inner(d.slot)}</hdd>" for d in self.state.disks)
        return self.xml("hddList", items, f' size="{len(self.state.disks)}"')

    async def get_hdd(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("hdd", self._hdd_inner(self._disk_slot(m)))

    async def put_hdd(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        self._disk_slot(m)
        el = parse_body(body, "hdd")
        overwrite = get_bool(el, "overWrite")
        if overwrite is not None:
            self.state.overwrite = overwrite
            self.changed()
        return self.status(request)

    async def put_format(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if not self.state.format_disk(self._disk_slot(m)):
            raise IsapiError(3, "deviceError")
        self.changed()
        return self.status(request)

    async def get_format_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        self._disk_slot(m)
        return self.xml("formatStatus", x("formating", False) + x("percent", 100))

    # ----------------------------------------------------------------- channels

    def _channel(self, m: re.Match[str]) -> tuple[int, ProxyChannel]:
        n = int(m.group("id"))
        ch = self.state.channels.get(n)
        if ch is None:
            raise IsapiError(4, "notSupport", http=403)
        return n, ch

    def _channel_inner(self, n: int, ch: ProxyChannel) -> str:
        src = (
            x("proxyProtocol", ch.protocol)
            + x("addressingFormatType", "ipaddress")
            + x("ipAddress", ch.address)
            + x("managePortNo", ch.port)
            + x("srcInputPort", 1)
            + x("userName", ch.username)
            + x("streamType", "auto")
        )
        cam = self.source_of(n) if self.source_of is not None else None
        if cam is not None:  # filled in by the NVR once it has logged in to the camera (device-apis.md §1)
            src += x("model", cam.model) + x("serialNumber", cam.serial) + x("firmwareVersion", cam.firmware)
        return (
            x("id", n)
            + x("name", ch.name or f"IPCamera {n:02d}")
            + f"<sourceInputPortDescriptor>{src}</sourceInputPortDescriptor>"
            + x("enableTiming", True)
        )

    @staticmethod
    def _apply_channel(el: Element, ch: ProxyChannel) -> None:
        name = text(el, "name")
        src = find(el, "sourceInputPortDescriptor")
        if name is not None:
            if len(name) > 32:
                raise IsapiError(6, "badParameters")
            ch.name = name
        if src is None:
            return
        protocol = text(src, "proxyProtocol")
        if protocol is not None:
            if protocol.upper() not in ("HIKVISION", "ONVIF"):
                raise IsapiError(6, "badParameters")
            ch.protocol = protocol.upper()
        address = text(src, "ipAddress") or text(src, "hostName")
        if address is not None:
            if not address or len(address) > 64:
                raise IsapiError(6, "badParameters")
            ch.address = address
        port = get_int(src, "managePortNo", 1, 65535)
        ch.port = port if port is not None else ch.port
        user, password = text(src, "userName"), text(src, "password")
        ch.username = user if user is not None else ch.username
        ch.password = password if password is not None else ch.password

    async def get_channels(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = "".join(
            f"<InputProxyChannel>{self._channel_inner(n, ch)}</InputProxyChannel>"
            for n, ch in sorted(self.state.channels.items())
        )
        return self.xml("InputProxyChannelList", items, f' size="{self.state.max_channels}"')

    async def get_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, ch = self._channel(m)
        return self.xml("InputProxyChannel", self._channel_inner(n, ch))

    async def post_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "InputProxyChannel")
        wanted = get_int(el, "id", 1, self.state.max_channels)
        if wanted is not None and wanted in self.state.channels:
            raise IsapiError(4, "invalidOperation")
        if wanted is None and len(self.state.channels) >= self.state.max_channels:
            raise IsapiError(4, "invalidOperation")
        ch = ProxyChannel(address="")
        self._apply_channel(el, ch)
        if not ch.address:
            raise IsapiError(6, "badXmlContent")
        n = self.state.add_channel(ch, wanted)
        self.changed()
        return self.status(request, new_id=n)

    async def put_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, ch = self._channel(m)
        updated = dataclasses.replace(ch)
        self._apply_channel(parse_body(body, "InputProxyChannel"), updated)
        self.state.channels[n] = updated
        self.changed()
        return self.status(request)

    async def delete_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, _ = self._channel(m)
        self.state.remove_channel(n)
        self.changed()
        return self.status(request)

    async def get_channels_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = ""
        for n, ch in sorted(self.state.channels.items()):
            items += (
                f"<InputProxyChannelStatus>{x('id', n)}{x('online', ch.online)}"
                f"<sourceInputPortDescriptor>{x('proxyProtocol', ch.protocol)}{x('addressingFormatType', 'ipaddress')}{x('ipAddress', ch.address)}{x('managePortNo', ch.port)}</sourceInputPortDescriptor>"
                f"<streamingProxyChannelIdList>{x('streamingProxyChannelId', n * 100 + 1)}{x('streamingProxyChannelId', n * 100 + 2)}</streamingProxyChannelIdList>"
                f"{x('chanDetectResult', 'connect' if ch.online else 'netUnreachable')}</InputProxyChannelStatus>"
            )
        return self.xml("InputProxyChannelStatusList", items)

    # ----------------------------------------------------------------- streaming (the NVR's own)

    def _stream_ids(self) -> list[int]:
        return [n * 100 + k for n in sorted(self.state.channels) for k in (1, 2)]

    def _stream_inner(self, sid: int) -> str:
        """The NVR's streaming channel ``<channel>01`` (main) or ``<channel>02`` (sub): what it relays of
        the channel's camera, as that camera streams it now (defaults while it is not connected)."""
        n, k = divmod(sid, 100)
        ch = self.state.channels[n]
        cam = self.source_of(n) if self.source_of is not None else None
        st = cam.streams.get(100 + k) if cam is not None else None
        codec = {"h265": "H.265", "mjpeg": "MJPEG"}.get(st.codec if st else "h264", "H.264")
        video = (
            x("enabled", True)
            + x("videoInputChannelID", n)
            + x("videoCodecType", codec)
            + x("videoScanType", "progressive")
            + x("videoResolutionWidth", st.width if st else 1920)
            + x("videoResolutionHeight", st.height if st else 1080)
            + x("videoQualityControlType", (st.bitrate_mode if st else "vbr").upper())
            + x("constantBitRate", st.bitrate_kbps if st else 4096)
            + x("maxFrameRate", (st.fps if st else 25) * 100)
        )
        transport = (
            "<ControlProtocolList><ControlProtocol><streamingTransport>RTSP</streamingTransport></ControlProtocol>"
            "</ControlProtocolList><Unicast><enabled>true</enabled><rtpTransportType>RTP/TCP</rtpTransportType></Unicast>"
        )
        return (
            x("id", sid)
            + x("channelName", ch.name or f"IPCamera {n:02d}")
            + x("enabled", True)
            + f"<Transport>{transport}</Transport><Video>{video}</Video>"
        )

    async def get_streams(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        inner = "".join(f"<StreamingChannel>{self._stream_inner(sid)}</StreamingChannel>" for sid in self._stream_ids())
        return self.xml("StreamingChannelList", inner)

    async def get_stream(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid = int(m.group("id"))
        if sid not in self._stream_ids():
            raise IsapiError(4, "notSupport", http=403)
        return self.xml("StreamingChannel", self._stream_inner(sid))

    # ----------------------------------------------------------------- schedules

    def _track_channel(self, m: re.Match[str]) -> int:
        track = int(m.group("id"))
        n, stream = divmod(track, 100)
        if stream != 1 or not 1 <= n <= self.state.max_channels:
            raise IsapiError(4, "notSupport", http=403)
        return n

    def _track_inner(self, n: int) -> str:
        schedule = self.state.schedules.get(n, "none")
        actions = ""
        if schedule != "none":
            mode = "CMR" if schedule == "continuous" else "MOTION"
            for i, day in enumerate(DAYS, 1):
                following = DAYS[i % len(DAYS)]  # a day ends at the next one's 00:00, Sunday's on Monday
                actions += (
                    f"<ScheduleAction>{x('id', i)}"
                    f"<ScheduleActionStartTime>{x('DayOfWeek', day)}{x('TimeOfDay', '00:00:00')}</ScheduleActionStartTime>"
                    f"<ScheduleActionEndTime>{x('DayOfWeek', following)}{x('TimeOfDay', '00:00:00')}</ScheduleActionEndTime>"
                    f"{x('ScheduleDSTEnable', False)}{x('Description', 'nothing')}"
                    f"<Actions>{x('Record', True)}{x('ActionRecordingMode', mode)}</Actions></ScheduleAction>"
                )
        count = 0 if schedule == "none" else len(DAYS)
        block = (
            f'<ScheduleBlock ScheduleActionSize="{count}">'
            "<ScheduleBlockGUID>{00000000-0000-0000-0000-000000000000}</ScheduleBlockGUID>"
            f"{x('ScheduleBlockType', 'www.std-cgi.com/racm/schedule/ver10')}{actions}</ScheduleBlock>"
        )
        switch = self.state.schedule_switch.get(n, True)
        return (
            x("id", n * 100 + 1)
            + x("Channel", n * 100 + 1)
            + x("Enable", False)  # what the real recorders answer on every track
            + x("LoopEnable", self.state.overwrite)
            + f"<TrackSchedule><ScheduleBlockList>{block}</ScheduleBlockList></TrackSchedule>"
            + "<CustomExtensionList><CustomExtension>"
            + x("CustomExtensionName", "www.hikvision.com/RaCM/trackExt/ver10")
            + x("enableSchedule", switch)
            + "<SaveAudio>false</SaveAudio><PreRecordTimeSeconds>5</PreRecordTimeSeconds><PostRecordTimeSeconds>5</PostRecordTimeSeconds>"
            + "</CustomExtension></CustomExtensionList>"
        )

    async def get_tracks(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = "".join(f"<Track>{self._track_inner(n)}</Track>" for n in sorted(self.state.channels))
        return self.xml("TrackList", items)

    async def get_track(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("Track", self._track_inner(self._track_channel(m)))

    async def put_track(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n = self._track_channel(m)
        el = parse_body(body, "Track")
        switch = get_bool(el, "CustomExtensionList/CustomExtension/enableSchedule")
        loop = get_bool(el, "LoopEnable")
        cmr: list[tuple[int, int]] = []
        modes: set[str] = set()
        for block in findall(el, "TrackSchedule/ScheduleBlockList/ScheduleBlock"):
            actions = findall(block, "ScheduleAction")
            declared = block.get("ScheduleActionSize")
            if declared is not None and declared != str(len(actions)):
                raise IsapiError(6, "badXmlContent")
            for action in actions:
                if get_bool(action, "Actions/Record") is False:
                    continue
                start = _at(
                    text(action, "ScheduleActionStartTime/DayOfWeek"), text(action, "ScheduleActionStartTime/TimeOfDay")
                )
                end = _at(
                    text(action, "ScheduleActionEndTime/DayOfWeek"), text(action, "ScheduleActionEndTime/TimeOfDay")
                )
                if start is None or end is None:
                    raise IsapiError(6, "badParameters")
                mode = (text(action, "Actions/ActionRecordingMode") or "CMR").upper()
                modes.add(mode)
                if mode == "CMR":
                    end = end if end > start else end + WEEK_S
                    cmr += [(start, min(end, WEEK_S)), (0, max(0, end - WEEK_S))]
        reached = 0
        for a, b in sorted(cmr):
            reached = max(reached, b) if a <= reached else reached
        if not modes:
            schedule = "none"
        elif reached >= WEEK_S:
            schedule = "continuous"
        else:
            schedule = "event"
        self.state.schedules[n] = schedule
        if switch is not None:  # a body without the extension leaves the switch as it is
            self.state.schedule_switch[n] = switch
        if loop is not None:
            self.state.overwrite = loop
        self.changed()
        return self.status(request)

    async def get_record_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = ""
        for n, ch in sorted(self.state.channels.items()):
            items += f"<RecordStatus>{x('id', n * 100 + 1)}{x('recording', ch.recording)}{x('online', ch.online)}{x('schedule', self.state.schedules.get(n, 'none'))}</RecordStatus>"
        return self.xml("RecordStatusList", items)

    # ----------------------------------------------------------------- search

    async def post_search(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "CMSearchDescription")
        search_id = text(el, "searchID") or str(uuid.uuid4())
        track = get_int(el, "trackIDList/trackID") or get_int(el, "trackList/trackID")
        start_text, end_text = text(el, "timeSpanList/timeSpan/startTime"), text(el, "timeSpanList/timeSpan/endTime")
        if track is None or start_text is None or end_text is None:
            raise IsapiError(6, "badXmlContent")
        window = (parse_time(start_text, 0), parse_time(end_text, 0))
        max_results = get_int(el, "maxResults", 1, 10000) or 40
        max_results = min(max_results, 50)
        position = get_int(el, "searchResultPostion", 0) or get_int(el, "searchResultPosition", 0) or 0
        n, stream = divmod(track, 100)
        span = self.state.recordings.get(n) if stream == 1 else None
        matches, total = _segments(span, window, position, max_results)
        items = ""
        host = request.host.split(":")[0]
        port = self.rtsp_port() if self.rtsp_port is not None else 554
        host = host if port == 554 else f"{host}:{port}"  # a URI at a port that refuses is no URI
        for seg_start, seg_end in matches:
            a, b = utc_z(seg_start), utc_z(seg_end)
            name = file_name(n, seg_start)
            uri = f"rtsp://{host}/Streaming/tracks/{track}/?starttime={compact(seg_start)}&endtime={compact(seg_end)}&name={name}"
            items += (
                f"<searchMatchItem>{x('sourceID', '{0000-0000}')}{x('trackID', track)}"
                f"<timeSpan>{x('startTime', a)}{x('endTime', b)}</timeSpan>"
                f"<mediaSegmentDescriptor>{x('contentType', 'video')}{x('codecType', 'H.264-BP')}{x('playbackURI', uri)}"
                f"{x('lockStatus', 'unlock')}{x('name', name)}</mediaSegmentDescriptor>"
                f"<metadataMatches>{x('metadataDescriptor', 'recordType.meta.hikvision.com/timing')}</metadataMatches></searchMatchItem>"
            )
        state = "NO MATCHES" if not matches else "MORE" if position + len(matches) < total else "OK"
        inner = (
            x("searchID", search_id)
            + x("responseStatus", True)
            + x("responseStatusStrg", state)
            + x("numOfMatches", len(matches))
            + f"<matchList>{items}</matchList>"
        )
        return self.xml("CMSearchResult", inner)

    # ----------------------------------------------------------------- download

    async def get_download_capabilities(
        self, request: web.Request, m: re.Match[str], body: bytes
    ) -> web.StreamResponse:
        """``DownloadAbility`` (as HikLoad reads it [L]): by file name, and by time (the URI's times)."""
        inner = x("isSupportDownloadbyTime", True) + x("isSupportDownloadbyFileName", True)
        return self.xml("DownloadAbility", inner)

    async def download(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        """A recording as a program stream (``Opaque/data``): the file the URI names, or the part of it the
        URI's ``starttime``/``endtime`` ask for (this recorder downloads by time)."""
        el = parse_body(body, "downloadRequest")
        uri = text(el, "playbackURI")
        if not uri:
            raise IsapiError(6, "badXmlContent")
        parts = urlsplit(uri)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        track_m = re.search(r"/Streaming/tracks/(\d+)", parts.path)
        if track_m is None or "starttime" not in query or "endtime" not in query:
            raise IsapiError(6, "badXmlContent")
        n, stream = divmod(int(track_m.group(1)), 100)
        start, end = parse_time(query["starttime"], 0), parse_time(query["endtime"], 0)
        span = self.state.recordings.get(n) if stream == 1 else None
        pieces = [
            (max(a, start), min(b, end)) for a, b in (span.pieces() if span else []) if min(b, end) > max(a, start)
        ]
        spec = self.footage.spec_of(n) if self.footage else None
        if not pieces or spec is None:
            raise IsapiError(4, "notSupport", http=404, description="no such recording")
        resp = web.StreamResponse(headers={"Content-Type": "Opaque/data"})
        await resp.prepare(request)
        loop = asyncio.get_running_loop()
        zone = self.footage.zone if self.footage else "UTC"

        # A file (and each stretch of it after a hole) starts on a keyframe at or after its recording
        # started; the pictures of a hole are not in it.
        fps, gop = spec.fps, spec.gop
        writer = ProgramStream(fps)
        # Sent in blocks as a file server reads a file from disk, not one chunk per picture.
        pending = bytearray(writer.header())
        try:
            for a, b in pieces:
                epoch = int(a // CLIP_S) * CLIP_S
                lo = -(-round((a - epoch) * fps) // gop) * gop
                while epoch < b:
                    hi = min(CLIP_S * fps, round((b - epoch) * fps))
                    if hi > lo:
                        clip = await loop.run_in_executor(None, minute_clip, spec, epoch, zone)
                        for chunk in writer.pictures_of(clip, lo, hi):
                            pending += chunk
                            if len(pending) >= SEND_BLOCK:
                                await resp.write(bytes(pending))
                                pending.clear()
                    epoch, lo = epoch + CLIP_S, 0
            await resp.write(bytes(pending))
        except MediaError as exc:  # the headers are gone: cut the download short, as a failing disk would
            log.error("nvr download of %s: %s", uri, exc)
            if request.transport is not None:
                request.transport.abort()
            return resp
        await resp.write_eof()
        return resp

    async def get_picture(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, _ = divmod(int(m.group("id")), 100)
        ch = self.state.channels.get(n)
        if ch is None:
            raise IsapiError(4, "notSupport", http=403)
        if not ch.online:
            raise IsapiError(3, "deviceError")
        return web.Response(body=await snapshot_jpeg(1920, 1080), content_type="image/jpeg")


def _segments(
    span: RecordingSpan | None, window: tuple[float, float], position: int, limit: int
) -> tuple[list[tuple[float, float]], int]:
    """The recording files inside ``window``: every recorded stretch (the span minus its holes) cut
    at each hour, as (page from ``position``, total count)."""
    if span is None:
        return [], 0
    files = []
    for a, b in span.pieces():
        lo, hi = max(a, window[0]), min(b, window[1])
        k = int(a // SEGMENT_S)
        while k * SEGMENT_S < b:
            fa, fb = max(a, k * SEGMENT_S), min(b, (k + 1) * SEGMENT_S)
            if fb > lo and fa < hi:
                files.append((fa, fb))
            k += 1
    return files[position : position + limit], len(files)
