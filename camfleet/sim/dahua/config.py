"""The configuration tables of simulated Dahua devices: what ``configManager.cgi`` gets and sets.

Why: Dahua's CGI addresses settings as flat keys under a name (``Encode[0].MainFormat[0].Video.FPS``,
``NTP.Address``); a table renders a name's keys from the vendor-neutral device state and stores a
whole name back. A ``setConfig`` merges the keys it was given into the name's current keys, so one
bad value refuses the whole call. :class:`DeviceConfig` holds the names every Dahua device has
(``NTP``, ``Locales``, ``General``, ``Network``: a recorder answers these); :class:`ConfigTable`
adds a camera's (``Encode``, ``ChannelTitle``, ``VideoWidget``, ``SmartEncode``, the services, ``RTSP``
with the port its RTSP server really listens on, ``MotionDetect`` over the 22x18 grid).
Facts: ``NTP.TimeZone`` is Dahua's zone index (12 = GMT+07:00) [M]; rectangles are on an
8191-wide grid; ``SSHD.Enable`` drives ssh, ``T2UServer.Enable`` the P2P cloud.

Reproduce by hand (a Dahua camera of a running ``camfleet sim`` on 127.77.0.20)::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/configManager.cgi?action=getConfig&name=NTP'
    curl --digest -u admin:<password> \\
        'http://127.77.0.20/cgi-bin/configManager.cgi?action=setConfig&NTP.Enable=true&NTP.Address=10.0.0.1'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from camfleet.sim.dahua.cgi import CgiError, fmt, parse_bool, parse_int
from camfleet.sim.devices import MOTION_ROW_ALL, MOTION_ROWS, CameraState, DeviceState, MaskRect, StreamConfig

RECT_MAX = 8191
# Dahua's time-zone table, index -> minutes east of UTC [M]
ZONES = [0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 540, 570, 600, 660, 720, 780]
ZONES += [-60, -120, -180, -210, -240, -300, -360, -420, -480, -540, -600, -660, -720]
CODECS = {"h264": "H.264", "h265": "H.265", "mjpeg": "MJPG"}
CODECS_BACK = {v: k for k, v in CODECS.items()}
STREAM_KEYS = {101: "MainFormat[0]", 102: "ExtraFormat[0]", 103: "ExtraFormat[1]"}
#: ``Locales.TimeFormat`` is "<date> <clock>" (``yyyy-MM-dd HH:mm:ss``); the OSD shows the time in it [M].
DATE_PATTERNS = {"YYYY-MM-DD": "yyyy-MM-dd", "DD-MM-YYYY": "dd-MM-yyyy", "MM-DD-YYYY": "MM-dd-yyyy"}
CLOCK_PATTERNS = {"24h": "HH:mm:ss", "12h": "hh:mm:ss"}


def _zone_offset(state: DeviceState) -> int:
    return state.utc_offset_s() // 60


def _zone_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _posix_zone(minutes: int) -> str:
    sign = "-" if minutes >= 0 else "+"  # POSIX sign is inverted
    return f"CST{sign}{abs(minutes) // 60}:{abs(minutes) % 60:02d}:00"


class DeviceConfig:
    """getConfig/setConfig of the names every Dahua device has (a recorder answers only these)."""

    NAMES: ClassVar[tuple[str, ...]] = ("NTP", "Locales", "General", "Network")

    def __init__(self, state: DeviceState) -> None:
        self.state = state

    def render(self, name: str) -> dict[str, str]:
        s = self.state
        pairs: list[tuple[str, object]] = []
        if name == "NTP":
            minutes = _zone_offset(s)
            index = ZONES.index(minutes) if minutes in ZONES else 0
            pairs += [
                ("NTP.Enable", s.ntp.enabled),
                ("NTP.Address", s.ntp.server),
                ("NTP.Port", s.ntp.port),
                ("NTP.TimeZone", index),
                ("NTP.TimeZoneDesc", _zone_label(ZONES[index])),
                ("NTP.UpdatePeriod", s.ntp.interval_min),
            ]
        elif name == "Locales":
            pattern = (
                f"{DATE_PATTERNS[s.osd.date_style]} {CLOCK_PATTERNS[s.osd.time_style]}"
                if isinstance(s, CameraState)
                else ""
            )
            pairs += [("Locales.TimeFormat", pattern or "yyyy-MM-dd HH:mm:ss"), ("Locales.DSTEnable", False)]
        elif name == "General":
            pairs += [
                ("General.MachineName", s.device_name),
                ("General.LockLoginEnable", s.login_lock.enabled),
                ("General.LockLoginTimes", s.login_lock.max_failures),
                ("General.LoginFailLockTime", int(s.login_lock.lock_s)),
            ]
        elif name == "Network":
            pairs += [
                ("Network.Hostname", s.device_name),
                ("Network.eth0.IPAddress", s.network.address),
                ("Network.eth0.SubnetMask", s.network.netmask),
                ("Network.eth0.DefaultGateway", s.network.gateway),
                ("Network.eth0.DhcpEnable", s.network.dhcp),
                ("Network.eth0.PhysicalAddress", s.mac),
            ]
        else:
            raise CgiError()
        return {k: fmt(v) for k, v in pairs}

    def store(self, name: str, flat: dict[str, str]) -> None:
        """Write a name's (merged) keys back to the state; CgiError on any bad value."""
        s = self.state
        if name == "NTP":
            index = parse_int(flat["NTP.TimeZone"], 0, len(ZONES) - 1)
            server = flat["NTP.Address"]
            if not server or len(server) > 64:
                raise CgiError()
            s.ntp.enabled = parse_bool(flat["NTP.Enable"])
            s.ntp.server = server
            s.ntp.port = parse_int(flat["NTP.Port"], 1, 65535)
            s.ntp.interval_min = parse_int(flat["NTP.UpdatePeriod"], 1, 65535)
            if ZONES[index] != _zone_offset(s):
                s.time_zone = _posix_zone(ZONES[index])
            if s.ntp.enabled:
                s.clock_offset_s = 0.0
        elif name == "Locales":
            parse_bool(flat["Locales.DSTEnable"])
            date, _, clock = flat["Locales.TimeFormat"].partition(" ")
            dates = {v: k for k, v in DATE_PATTERNS.items()}
            clocks = {v: k for k, v in CLOCK_PATTERNS.items()}
            if date not in dates or clock not in clocks:  # the forms clients and replies show [M]; others refused here
                raise CgiError()
            if isinstance(s, CameraState):
                s.osd.date_style, s.osd.time_style = dates[date], clocks[clock]
        elif name == "General":
            machine = flat["General.MachineName"]
            if not 1 <= len(machine) <= 64:
                raise CgiError()
            s.device_name = machine
            s.login_lock.enabled = parse_bool(flat["General.LockLoginEnable"])
            s.login_lock.max_failures = parse_int(flat["General.LockLoginTimes"], 1, 30)
            s.login_lock.lock_s = float(parse_int(flat["General.LoginFailLockTime"], 60, 86400))
        elif name == "Network":
            if flat["Network.eth0.PhysicalAddress"] != s.mac:
                raise CgiError()
            for key, attr in (("IPAddress", "address"), ("SubnetMask", "netmask"), ("DefaultGateway", "gateway")):
                value = flat[f"Network.eth0.{key}"]
                if not re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", value):
                    raise CgiError()
                setattr(s.network, attr, value)
            s.network.dhcp = parse_bool(flat["Network.eth0.DhcpEnable"])
        else:
            raise CgiError()


class ConfigTable(DeviceConfig):
    """getConfig/setConfig for one camera: the device names plus the camera's own."""

    NAMES: ClassVar[tuple[str, ...]] = (
        "Encode",
        "NTP",
        "Locales",
        "ChannelTitle",
        "VideoWidget",
        "SmartEncode",
        "General",
        "Network",
        "UPnP",
        "Telnet",
        "SSHD",
        "T2UServer",
        "RTSP",
        "MotionDetect",
    )
    state: CameraState

    def __init__(self, state: CameraState, rtsp_port: Callable[[], int] | None = None) -> None:
        super().__init__(state)
        #: Where the camera's RTSP server really listens: ``RTSP.Port`` says it (clients build their URL from it).
        self.rtsp_port = rtsp_port or (lambda: 554)

    def render(self, name: str) -> dict[str, str]:
        if name in DeviceConfig.NAMES:
            return super().render(name)
        s = self.state
        pairs: list[tuple[str, object]] = []
        if name == "Encode":
            for sid, key in STREAM_KEYS.items():
                st = s.streams.get(sid)
                if st is None:
                    continue
                p = f"Encode[0].{key}"
                pairs += [
                    (f"{p}.Video.Compression", CODECS.get(st.codec, "H.264")),
                    (f"{p}.Video.Width", st.width),
                    (f"{p}.Video.Height", st.height),
                    (f"{p}.Video.resolution", f"{st.width}x{st.height}"),
                    (f"{p}.Video.FPS", st.fps),
                    (f"{p}.Video.BitRate", st.bitrate_kbps),
                    (f"{p}.Video.BitRateControl", st.bitrate_mode.upper()),
                    (f"{p}.Video.GOP", st.gop),
                    (f"{p}.Video.Profile", "Main"),
                    (f"{p}.Video.Quality", 4),
                    (f"{p}.VideoEnable", st.enabled),
                    (f"{p}.AudioEnable", False),
                ]
        elif name == "ChannelTitle":
            pairs += [("ChannelTitle[0].Name", s.osd.text)]
        elif name == "SmartEncode":
            pairs += [("SmartEncode[0].Enable", s.streams[101].smart_codec if 101 in s.streams else False)]
        elif name == "VideoWidget":
            pairs += self._widget()
        elif name == "UPnP":
            pairs += [
                ("UPnP.Enable", s.services.upnp),
                ("UPnP.MapTable[0].Enable", s.services.upnp),
                ("UPnP.MapTable[0].InnerPort", 80),
                ("UPnP.MapTable[0].OuterPort", 8080),
                ("UPnP.MapTable[0].Protocol", "TCP"),
                ("UPnP.MapTable[0].ServiceName", "HTTP"),
            ]
        elif name == "Telnet":
            pairs += [("Telnet.Enable", s.services.telnet)]
        elif name == "SSHD":
            pairs += [("SSHD.Enable", s.services.ssh)]
        elif name == "T2UServer":
            pairs += [("T2UServer.Enable", s.services.p2p), ("T2UServer.RegisterServer", "www.easy4ipcloud.com")]
        elif name == "RTSP":
            pairs += [
                ("RTSP.Enable", True),
                ("RTSP.Port", self.rtsp_port()),
                ("RTSP.RTP.EndPort", 40000),
                ("RTSP.RTP.StartPort", 20000),
            ]
        elif name == "MotionDetect":
            pairs += self._motion()
        else:
            raise CgiError()
        return {k: fmt(v) for k, v in pairs}

    def _motion(self) -> list[tuple[str, object]]:
        """Keys in the order cameras send them (alphabetical; the regions by number) [M]."""
        md, p = self.state.motion, "MotionDetect[0]"
        w = f"{p}.MotionDetectWindow[0]"
        pairs: list[tuple[str, object]] = [
            (f"{p}.Enable", md.enabled),
            (f"{p}.EventHandler.Dejitter", 5),
            (f"{p}.EventHandler.RecordEnable", True),
            (f"{p}.EventHandler.RecordLatch", 10),
            (f"{p}.Level", 1 + md.sensitivity * 5 // 100),  # the older 1..6 scale beside Sensitive [?]
            (f"{w}.Id", 0),
            (f"{w}.Name", "Region1"),
        ]
        pairs += [(f"{w}.Region[{i}]", row) for i, row in enumerate(md.rows)]
        pairs += [(f"{w}.Sensitive", md.sensitivity), (f"{w}.Threshold", md.threshold)]
        return pairs

    def _widget(self) -> list[tuple[str, object]]:
        o, masks = self.state.osd, self.state.masks
        p = "VideoWidget[0]"

        def rect(prefix: str, left: float, top: float, right: float, bottom: float) -> list[tuple[str, object]]:
            return [(f"{prefix}.Rect[{i}]", round(v * RECT_MAX)) for i, v in enumerate((left, top, right, bottom))]

        pairs: list[tuple[str, object]] = [(f"{p}.ChannelTitle.EncodeBlend", o.show_name)]
        pairs += rect(f"{p}.ChannelTitle", o.name_x, o.name_y, min(1.0, o.name_x + 0.25), min(1.0, o.name_y + 0.05))
        pairs += [(f"{p}.TimeTitle.EncodeBlend", o.show_datetime), (f"{p}.TimeTitle.ShowWeek", o.show_week)]
        pairs += rect(
            f"{p}.TimeTitle", o.datetime_x, o.datetime_y, min(1.0, o.datetime_x + 0.3), min(1.0, o.datetime_y + 0.05)
        )
        pairs += [(f"{p}.CustomTitle[0].EncodeBlend", bool(o.custom_text)), (f"{p}.CustomTitle[0].Text", o.custom_text)]
        for i in range(4):
            region = masks.regions[i] if i < len(masks.regions) else None
            pairs += [(f"{p}.Covers[{i}].EncodeBlend", bool(region) and masks.enabled)]
            r = region or MaskRect(0, 0, 0, 0)
            pairs += rect(f"{p}.Covers[{i}]", r.x, r.y, r.x + r.w, r.y + r.h)
        return pairs

    def store(self, name: str, flat: dict[str, str]) -> None:
        if name in DeviceConfig.NAMES:
            super().store(name, flat)
            return
        s = self.state
        if name == "Encode":
            streams = dict(s.streams)
            for sid, key in STREAM_KEYS.items():
                if sid in s.streams:
                    streams[sid] = self._stream(flat, f"Encode[0].{key}", s.streams[sid], sid)
            s.streams = streams
        elif name == "ChannelTitle":
            title = flat["ChannelTitle[0].Name"]
            if len(title) > 64:
                raise CgiError()
            s.osd.text = title
        elif name == "VideoWidget":
            self._store_widget(flat)
        elif name == "SmartEncode":
            if 101 in s.streams:
                s.streams[101].smart_codec = parse_bool(flat["SmartEncode[0].Enable"])
        elif name == "UPnP":
            s.services.upnp = parse_bool(flat["UPnP.Enable"])
        elif name == "Telnet":
            s.services.telnet = parse_bool(flat["Telnet.Enable"])
        elif name == "SSHD":
            s.services.ssh = parse_bool(flat["SSHD.Enable"])
        elif name == "T2UServer":
            s.services.p2p = parse_bool(flat["T2UServer.Enable"])
        elif name == "RTSP":
            # the simulator cannot move or stop its RTSP server: the values it has are the only ones taken [?]
            if not parse_bool(flat["RTSP.Enable"]) or parse_int(flat["RTSP.Port"], 1, 65535) != self.rtsp_port():
                raise CgiError()
        elif name == "MotionDetect":
            p, w = "MotionDetect[0]", "MotionDetect[0].MotionDetectWindow[0]"
            parse_bool(flat[f"{p}.EventHandler.RecordEnable"])
            parse_int(flat[f"{p}.Level"], 1, 6)
            md = s.motion
            md.enabled = parse_bool(flat[f"{p}.Enable"])
            md.sensitivity = parse_int(flat[f"{w}.Sensitive"], 0, 100)
            md.threshold = parse_int(flat[f"{w}.Threshold"], 0, 100)
            md.rows = [parse_int(flat[f"{w}.Region[{i}]"], 0, MOTION_ROW_ALL) for i in range(MOTION_ROWS)]

    def _stream(self, flat: dict[str, str], p: str, old: StreamConfig, sid: int) -> StreamConfig:
        codec = CODECS_BACK.get(flat[f"{p}.Video.Compression"])
        if codec is None or (codec == "mjpeg" and sid == 101):
            raise CgiError()
        if flat[f"{p}.Video.resolution"] != f"{old.width}x{old.height}":
            m = re.fullmatch(r"(\d+)x(\d+)", flat[f"{p}.Video.resolution"])
            if not m:
                raise CgiError()
            width, height = int(m.group(1)), int(m.group(2))
        else:
            width, height = parse_int(flat[f"{p}.Video.Width"], 1, 7680), parse_int(flat[f"{p}.Video.Height"], 1, 4320)
        max_w, max_h = (max(old.width, 3840), max(old.height, 2160)) if sid == 101 else (1280, 720)
        if not (160 <= width <= max_w and 120 <= height <= max_h):
            raise CgiError()
        mode = flat[f"{p}.Video.BitRateControl"].upper()
        if mode not in ("CBR", "VBR"):
            raise CgiError()
        return StreamConfig(
            codec=codec,
            width=width,
            height=height,
            fps=parse_int(flat[f"{p}.Video.FPS"], 1, 30),
            bitrate_kbps=parse_int(flat[f"{p}.Video.BitRate"], 32, 16384),
            bitrate_mode=mode.lower(),
            gop=parse_int(flat[f"{p}.Video.GOP"], 1, 400),
            enabled=parse_bool(flat[f"{p}.VideoEnable"]),
            smart_codec=old.smart_codec,  # its own table, SmartEncode
            average_kbps=old.average_kbps,
        )

    def _store_widget(self, flat: dict[str, str]) -> None:
        o = self.state.osd
        p = "VideoWidget[0]"

        def rect(prefix: str) -> tuple[float, float, float, float]:
            values = [parse_int(flat[f"{prefix}.Rect[{i}]"], 0, RECT_MAX) / RECT_MAX for i in range(4)]
            return values[0], values[1], values[2], values[3]

        o.show_name = parse_bool(flat[f"{p}.ChannelTitle.EncodeBlend"])
        o.name_x, o.name_y, _, _ = rect(f"{p}.ChannelTitle")
        o.show_datetime = parse_bool(flat[f"{p}.TimeTitle.EncodeBlend"])
        o.show_week = parse_bool(flat[f"{p}.TimeTitle.ShowWeek"])
        o.datetime_x, o.datetime_y, _, _ = rect(f"{p}.TimeTitle")
        custom = flat[f"{p}.CustomTitle[0].Text"]
        o.custom_text = custom if parse_bool(flat[f"{p}.CustomTitle[0].EncodeBlend"]) else ""
        regions, blended = [], False
        for i in range(4):
            left, top, right, bottom = rect(f"{p}.Covers[{i}]")
            on = parse_bool(flat[f"{p}.Covers[{i}].EncodeBlend"])
            if right > left and bottom > top:
                regions.append(MaskRect(round(left, 4), round(top, 4), round(right - left, 4), round(bottom - top, 4)))
                blended = blended or on
        self.state.masks.regions = regions
        self.state.masks.enabled = blended
