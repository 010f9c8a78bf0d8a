"""A simulated Hikvision IP camera: its encoder streams, snapshots, on-screen text, privacy masks
and network services, on top of what every ISAPI device has (:mod:`~camfleet.sim.hikvision.device`).

Why: camera baselines are set and read here. Values are stored vendor-neutral
(:class:`~camfleet.sim.devices.CameraState`) and written in Hikvision's words: codecs ``H.264``,
frame rates in hundredths (``maxFrameRate`` 2500), positions on a 704x576 normalised frame (overlays count
Y from the bottom [?]). The main stream carries ``SmartCodec`` and ``vbrAverageCap``, sub streams do not. A
resource the model lacks answers 403 ``notSupport``; a second stream cannot be MJPEG's main.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/Streaming/channels/101
    curl --digest -u admin:<password> -X PUT -d '<SSH><enabled>false</enabled></SSH>' \\
        http://127.77.0.10/ISAPI/System/Network/ssh
    curl --digest -u admin:<password> -o snap.jpg http://127.77.0.10/ISAPI/Streaming/channels/101/picture
"""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

from aiohttp import web

from camfleet.sim.devices import CameraState, MaskRect, StreamConfig
from camfleet.sim.hikvision.dispatch import routes
from camfleet.sim.hikvision.events import IsapiEvents
from camfleet.sim.hikvision.xml import IsapiError, find, findall, get_bool, get_int, parse_body, text, x
from camfleet.sim.httpserve import snapshot_jpeg

FRAME_W, FRAME_H = 704, 576  # the normalised frame of overlays and masks
CODEC_TO_HIK = {"h264": "H.264", "h265": "H.265", "mjpeg": "MJPEG"}
CODEC_FROM_HIK = {v.upper(): k for k, v in CODEC_TO_HIK.items()}
DATE_STYLES = ("YYYY-MM-DD", "MM-DD-YYYY", "DD-MM-YYYY")  # the three every client and reply seen uses
TIME_STYLES = {"24h": "24hour", "12h": "12hour"}


class IsapiCamera(IsapiEvents):
    """A Hikvision IP camera (its events, motion detection and alert stream: :mod:`~camfleet.sim.hikvision.events`)."""

    ROUTES = IsapiEvents.ROUTES + routes(
        ("GET", r"/ISAPI/Streaming/channels", "get_streams"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)", "get_stream"),
        ("PUT", r"/ISAPI/Streaming/channels/(?P<id>\d+)", "put_stream"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)/picture", "get_picture"),
        ("GET", r"/ISAPI/System/Video/inputs/channels", "get_video_inputs"),
        ("GET", r"/ISAPI/System/Video/inputs/channels/1", "get_video_input"),
        ("PUT", r"/ISAPI/System/Video/inputs/channels/1", "put_video_input"),
        ("GET", r"/ISAPI/System/Video/inputs/channels/1/overlays", "get_overlays"),
        ("PUT", r"/ISAPI/System/Video/inputs/channels/1/overlays", "put_overlays"),
        ("GET", r"/ISAPI/System/Video/inputs/channels/1/privacyMask", "get_privacy_mask"),
        ("PUT", r"/ISAPI/System/Video/inputs/channels/1/privacyMask", "put_privacy_mask"),
        ("GET", r"/ISAPI/System/Network/(?P<svc>UPnP|EZVIZ|ssh|telnetd)", "get_service"),
        ("PUT", r"/ISAPI/System/Network/(?P<svc>UPnP|EZVIZ|ssh|telnetd)", "put_service"),
    )
    state: CameraState

    # ----------------------------------------------------------------- streams

    def _stream(self, m: re.Match[str]) -> tuple[int, StreamConfig]:
        sid = int(m.group("id"))
        stream = self.state.streams.get(sid)
        if stream is None:
            raise IsapiError(4, "notSupport", http=403)
        return sid, stream

    def _stream_inner(self, sid: int, st: StreamConfig) -> str:
        video = (
            x("enabled", st.enabled)
            + x("videoInputChannelID", 1)
            + x("videoCodecType", CODEC_TO_HIK.get(st.codec, "H.264"))
            + x("videoScanType", "progressive")
            + x("videoResolutionWidth", st.width)
            + x("videoResolutionHeight", st.height)
            + x("videoQualityControlType", st.bitrate_mode.upper())
            + x("constantBitRate", st.bitrate_kbps)
            + x("fixedQuality", 60)
            + x("vbrUpperCap", st.bitrate_kbps)
            + x("vbrLowerCap", 32)
            + x("maxFrameRate", st.fps * 100)
            + x("keyFrameInterval", int(1000 * st.gop / max(st.fps, 1)))
            + x("GovLength", st.gop)
            + x("snapShotImageType", "JPEG")
            + x("H264Profile", "Main")
            + x("H265Profile", "Main")
        )
        if sid == 101:  # a main stream's switch and average, after the profiles (DS-2CD2346G2-ISU V5.7.18)
            video += f"<SmartCodec>{x('enabled', st.smart_codec)}</SmartCodec>"
            video += x("vbrAverageCap", min(st.average_kbps or max(32, st.bitrate_kbps // 2), st.bitrate_kbps))
        transport = (
            "<ControlProtocolList><ControlProtocol><streamingTransport>RTSP</streamingTransport></ControlProtocol>"
            "<ControlProtocol><streamingTransport>HTTP</streamingTransport></ControlProtocol></ControlProtocolList>"
            "<Unicast><enabled>true</enabled><rtpTransportType>RTP/TCP</rtpTransportType></Unicast>"
            "<Security><enabled>true</enabled><certificateType>digest</certificateType></Security>"
        )
        return (
            x("id", sid)
            + x("channelName", self.state.osd.text)
            + x("enabled", st.enabled)
            + f"<Transport>{transport}</Transport><Video>{video}</Video>"
            + "<Audio><enabled>false</enabled><audioCompressionType>G.711ulaw</audioCompressionType></Audio>"
        )

    async def get_streams(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        inner = "".join(
            f"<StreamingChannel>{self._stream_inner(sid, st)}</StreamingChannel>"
            for sid, st in sorted(self.state.streams.items())
        )
        return self.xml("StreamingChannelList", inner)

    async def get_stream(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid, st = self._stream(m)
        return self.xml("StreamingChannel", self._stream_inner(sid, st))

    async def put_stream(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid, st = self._stream(m)
        el = parse_body(body, "StreamingChannel")
        given_id = get_int(el, "id")
        if given_id is not None and given_id != sid:
            raise IsapiError(6, "badXmlContent")
        new = dataclasses.replace(st)
        max_w, max_h = self.state.streams[101].width, self.state.streams[101].height
        if sid == 101:
            max_w, max_h = (3840, 2160) if max_w >= 3840 else (max(max_w, 1920), max(max_h, 1080))
        else:
            max_w, max_h = 1280, 720
        codec = text(el, "Video/videoCodecType")
        if codec is not None:
            name = CODEC_FROM_HIK.get(codec.upper())
            if name is None or (name == "mjpeg" and sid == 101):
                raise IsapiError(6, "badParameters")
            new.codec = name
        width = get_int(el, "Video/videoResolutionWidth", 160, max_w)
        height = get_int(el, "Video/videoResolutionHeight", 120, max_h)
        new.width = width if width is not None else new.width
        new.height = height if height is not None else new.height
        mode = text(el, "Video/videoQualityControlType")
        if mode is not None:
            if mode.upper() not in ("CBR", "VBR"):
                raise IsapiError(6, "badParameters")
            new.bitrate_mode = mode.lower()
        cbr = get_int(el, "Video/constantBitRate", 32, 16384)
        vbr = get_int(el, "Video/vbrUpperCap", 32, 16384)
        chosen = (cbr if cbr is not None else vbr) if new.bitrate_mode == "cbr" else (vbr if vbr is not None else cbr)
        new.bitrate_kbps = chosen if chosen is not None else new.bitrate_kbps
        fps100 = get_int(el, "Video/maxFrameRate", 100, 3000)
        new.fps = fps100 // 100 if fps100 is not None else new.fps
        gop = get_int(el, "Video/GovLength", 1, 400)
        new.gop = gop if gop is not None else new.gop
        enabled = get_bool(el, "enabled")
        new.enabled = new.enabled if enabled is None else enabled
        smart = get_bool(el, "Video/SmartCodec/enabled")
        if smart is not None:
            if sid != 101:  # sub streams have no SmartCodec element on the cameras recorded
                raise IsapiError(6, "badXmlContent")
            new.smart_codec = smart
        average = get_int(el, "Video/vbrAverageCap", 32, 16384)
        if average is not None:
            if sid != 101 or average > new.bitrate_kbps:  # an average above the cap [?]
                raise IsapiError(6, "badParameters")
            new.average_kbps = average
        self.state.streams[sid] = new
        self.changed()
        return self.status(request)

    async def get_picture(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid = int(m.group("id"))
        st = self.state.streams.get(101 if sid == 1 else sid)  # channel 1: its main stream, as firmware takes it
        if st is None:
            raise IsapiError(4, "notSupport", http=403)
        try:
            width = int(request.query.get("videoResolutionWidth", request.query.get("width", st.width)))
            height = int(request.query.get("videoResolutionHeight", request.query.get("height", st.height)))
        except ValueError as exc:
            raise IsapiError(6, "badParameters") from exc
        return web.Response(body=await snapshot_jpeg(width, height), content_type="image/jpeg")

    # ----------------------------------------------------------------- OSD

    def _video_input_inner(self) -> str:
        return (
            x("id", 1)
            + x("inputPort", 1)
            + x("videoInputEnabled", True)
            + x("name", self.state.osd.text)
            + x("videoFormat", "PAL")
        )

    async def get_video_inputs(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("VideoInputChannelList", f"<VideoInputChannel>{self._video_input_inner()}</VideoInputChannel>")

    async def get_video_input(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("VideoInputChannel", self._video_input_inner())

    async def put_video_input(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "VideoInputChannel")
        name = text(el, "name")
        if name is not None:
            if len(name) > 32:
                raise IsapiError(6, "badParameters")
            self.state.osd.text = name
            self.changed()
        return self.status(request)

    async def get_overlays(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        """Positions on the 704x576 frame with Y counted from the bottom (the factory date/time at
        ``positionY`` 544 is at the top of the picture) [?]."""
        o = self.state.osd

        def pos(fx: float, fy: float) -> str:
            return x("positionX", round(fx * FRAME_W)) + x("positionY", round((1 - fy) * FRAME_H))

        inner = (
            f"<normalizedScreenSize>{x('normalizedScreenWidth', FRAME_W)}{x('normalizedScreenHeight', FRAME_H)}</normalizedScreenSize>"
            "<attribute><transparent>false</transparent><flashing>false</flashing></attribute><fontSize>adaptive</fontSize>"
            f'<TextOverlayList size="4"><TextOverlay>{x("id", 1)}{x("enabled", bool(o.custom_text))}{x("positionX", 16)}{x("positionY", 64)}{x("displayText", o.custom_text)}</TextOverlay></TextOverlayList>'
            f"<DateTimeOverlay>{x('enabled', o.show_datetime)}{pos(o.datetime_x, o.datetime_y)}{x('dateStyle', o.date_style)}{x('timeStyle', TIME_STYLES[o.time_style])}{x('displayWeek', o.show_week)}</DateTimeOverlay>"
            f"<channelNameOverlay>{x('enabled', o.show_name)}{pos(o.name_x, o.name_y)}</channelNameOverlay>"
            "<frontColorMode>auto</frontColorMode>"
        )
        return self.xml("VideoOverlay", inner)

    async def put_overlays(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "VideoOverlay")
        o = dataclasses.replace(self.state.osd)
        for block, flag, fx, fy in (
            ("DateTimeOverlay", "show_datetime", "datetime_x", "datetime_y"),
            ("channelNameOverlay", "show_name", "name_x", "name_y"),
        ):
            enabled = get_bool(el, f"{block}/enabled")
            if enabled is not None:
                setattr(o, flag, enabled)
            px = get_int(el, f"{block}/positionX", 0, FRAME_W)
            py = get_int(el, f"{block}/positionY", 0, FRAME_H)
            if px is not None:
                setattr(o, fx, px / FRAME_W)
            if py is not None:
                setattr(o, fy, 1 - py / FRAME_H)
        date_style = text(el, "DateTimeOverlay/dateStyle")
        if date_style is not None:
            if date_style not in DATE_STYLES:
                raise IsapiError(6, "badParameters")
            o.date_style = date_style
        time_style = text(el, "DateTimeOverlay/timeStyle")
        if time_style is not None:
            if time_style not in TIME_STYLES.values():
                raise IsapiError(6, "badParameters")
            o.time_style = next(k for k, v in TIME_STYLES.items() if v == time_style)
        week = get_bool(el, "DateTimeOverlay/displayWeek")
        o.show_week = o.show_week if week is None else week
        texts = findall(el, "TextOverlayList/TextOverlay")
        if texts:
            first = texts[0]
            shown = get_bool(first, "enabled")
            display = text(first, "displayText") or ""
            if len(display) > 44:
                raise IsapiError(6, "badParameters")
            o.custom_text = display if shown is not False else ""
        self.state.osd = o
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- privacy mask

    async def get_privacy_mask(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        pm = self.state.masks
        regions = ""
        for i, r in enumerate(pm.regions, 1):
            corners = ((r.x, r.y), (r.x + r.w, r.y), (r.x + r.w, r.y + r.h), (r.x, r.y + r.h))
            coords = "".join(
                f"<RegionCoordinates>{x('positionX', round(cx * FRAME_W))}{x('positionY', round(cy * FRAME_H))}</RegionCoordinates>"
                for cx, cy in corners
            )
            regions += f"<PrivacyMaskRegion>{x('id', i)}{x('enabled', True)}<RegionCoordinatesList>{coords}</RegionCoordinatesList></PrivacyMaskRegion>"
        inner = (
            x("enabled", pm.enabled)
            + f"<normalizedScreenSize>{x('normalizedScreenWidth', FRAME_W)}{x('normalizedScreenHeight', FRAME_H)}</normalizedScreenSize>"
            + f'<PrivacyMaskRegionList size="4">{regions}</PrivacyMaskRegionList>'
        )
        return self.xml("PrivacyMask", inner)

    async def put_privacy_mask(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "PrivacyMask")
        enabled = get_bool(el, "enabled")
        region_list = find(el, "PrivacyMaskRegionList")
        regions = self.state.masks.regions
        if region_list is not None:
            regions = []
            for region in findall(region_list, "PrivacyMaskRegion"):
                if get_bool(region, "enabled") is False:
                    continue
                points = [
                    (get_int(c, "positionX", 0, FRAME_W), get_int(c, "positionY", 0, FRAME_H))
                    for c in findall(region, "RegionCoordinatesList/RegionCoordinates")
                ]
                xs = [p[0] for p in points if p[0] is not None]
                ys = [p[1] for p in points if p[1] is not None]
                if len(xs) < 3 or len(ys) < 3 or max(xs) == min(xs) or max(ys) == min(ys):
                    raise IsapiError(6, "badParameters")
                regions.append(
                    MaskRect(
                        min(xs) / FRAME_W,
                        min(ys) / FRAME_H,
                        (max(xs) - min(xs)) / FRAME_W,
                        (max(ys) - min(ys)) / FRAME_H,
                    )
                )
            if len(regions) > 4:
                raise IsapiError(6, "badParameters")
        self.state.masks.regions = regions
        if enabled is not None:
            self.state.masks.enabled = enabled
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- services

    SERVICE_ROOTS: ClassVar[dict[str, tuple[str, str]]] = {
        "upnp": ("UPnP", "upnp"),
        "ezviz": ("EZVIZ", "p2p"),
        "ssh": ("SSH", "ssh"),
        "telnetd": ("Telnetd", "telnet"),
    }

    async def get_service(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        root, attr = self.SERVICE_ROOTS[m.group("svc").lower()]
        enabled = bool(getattr(self.state.services, attr))
        inner = x("enabled", enabled)
        if root == "UPnP":
            inner += x("name", self.state.device_name)
        elif root == "EZVIZ":
            inner += (
                x("registerStatus", "online" if enabled else "offline")
                + "<serverAddress><addressingFormatType>hostname</addressingFormatType><hostName>dev.hik-connect.com</hostName></serverAddress>"
                + x("verificationCode", "ABCDEF")
            )
        return self.xml(root, inner)

    async def put_service(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        root, attr = self.SERVICE_ROOTS[m.group("svc").lower()]
        el = parse_body(body, root)
        enabled = get_bool(el, "enabled")
        if enabled is None:
            raise IsapiError(6, "badXmlContent")
        setattr(self.state.services, attr, enabled)
        self.changed()
        return self.status(request)
