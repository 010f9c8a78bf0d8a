"""ISAPI ``/System`` resources every simulated Hikvision device has: identity (``deviceInfo``), live
status, time and NTP, and the network interface.

Why: these are what a driver reads first (model, serial, firmware) and what a baseline sets on
every device kind; cameras and NVRs answer them alike apart from their namespace and
``deviceType``. Writes to the address answer 7 ``rebootRequired``, as real devices do.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/System/deviceInfo
    curl --digest -u admin:<password> -X PUT http://127.77.0.10/ISAPI/System/time \\
        -d '<Time><timeMode>NTP</timeMode><timeZone>CST-7:00:00</timeZone></Time>'
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from xml.etree.ElementTree import Element

from aiohttp import web

from camfleet.sim.hikvision.dispatch import IsapiBase, routes
from camfleet.sim.hikvision.xml import IsapiError, find, findall, get_int, local, parse_body, parse_time, text, x

SYSTEM_ROUTES = routes(
    ("GET", r"/ISAPI/System/deviceInfo", "get_device_info"),
    ("PUT", r"/ISAPI/System/deviceInfo", "put_device_info"),
    ("GET", r"/ISAPI/System/status", "get_status"),
    ("GET", r"/ISAPI/System/time", "get_time"),
    ("PUT", r"/ISAPI/System/time", "put_time"),
    ("GET", r"/ISAPI/System/time/ntpServers", "get_ntp_list"),
    ("PUT", r"/ISAPI/System/time/ntpServers", "put_ntp"),
    ("GET", r"/ISAPI/System/time/ntpServers/1", "get_ntp"),
    ("PUT", r"/ISAPI/System/time/ntpServers/1", "put_ntp"),
    ("GET", r"/ISAPI/System/Network/interfaces", "get_interfaces"),
    ("GET", r"/ISAPI/System/Network/interfaces/1", "get_interface"),
    ("GET", r"/ISAPI/System/Network/interfaces/1/ipAddress", "get_ip_address"),
    ("PUT", r"/ISAPI/System/Network/interfaces/1/ipAddress", "put_ip_address"),
    ("PUT", r"/ISAPI/System/Network/interfaces/1", "put_interface"),
)


class System(IsapiBase):
    """deviceInfo, status, time, NTP and the network interface."""

    # ----------------------------------------------------------------- identity and status

    def device_info_inner(self) -> str:
        s = self.state
        version, released = s.hik_version()
        digits = re.sub(r"\D", "", s.serial)[-8:] or "0"
        return (
            x("deviceName", s.device_name)
            + x("deviceID", str(uuid.uuid5(uuid.NAMESPACE_OID, s.serial)))
            + x("deviceDescription", self.DEVICE_TYPE)
            + x("deviceLocation", "hangzhou")
            + x("systemContact", "Hikvision.China")
            + x("model", s.model)
            + x("serialNumber", s.serial)
            + x("macAddress", s.mac)
            + x("firmwareVersion", version)
            + x("firmwareReleasedDate", released)
            + x("encoderVersion", "V7.3")
            + x("encoderReleasedDate", "build 240110")
            + x("bootVersion", "V1.3.4")
            + x("hardwareVersion", "0x0")
            + x("deviceType", self.DEVICE_TYPE)
            + x("telecontrolID", int(digits) % 255 or 88)
            + x("manufacturer", "hikvision")
        )

    async def get_device_info(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("DeviceInfo", self.device_info_inner())

    async def put_device_info(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "DeviceInfo")
        name = text(el, "deviceName")
        if name is not None:
            if not 1 <= len(name) <= 32:
                raise IsapiError(6, "badParameters")
            self.state.device_name = name
            self.changed()
        return self.status(request)

    async def get_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        now = self.clock()
        inner = (
            x("currentDeviceTime", self._local_iso(now))
            + x("deviceUpTime", int(max(0.0, now - self._booted)))
            + "<CPUList><CPU><cpuDescription>ARM</cpuDescription><cpuUtilization>12</cpuUtilization></CPU></CPUList>"
            + "<MemoryList><Memory><memoryDescription>DDR Memory</memoryDescription><memoryUsage>96.0</memoryUsage><memoryAvailable>160.0</memoryAvailable></Memory></MemoryList>"
        )
        return self.xml("DeviceStatus", inner)

    # ----------------------------------------------------------------- time

    def _local_iso(self, now: float) -> str:
        device_now = self.state.device_time(now, self.faults)
        offset = self.state.utc_offset_s(device_now)  # daylight saving counted at that instant
        when = dt.datetime.fromtimestamp(device_now, dt.timezone(dt.timedelta(seconds=offset)))
        return when.isoformat(timespec="seconds")

    async def get_time(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        s = self.state
        inner = (
            x("timeMode", "NTP" if s.ntp.enabled else "manual")
            + x("localTime", self._local_iso(self.clock()))
            + x("timeZone", s.time_zone)
        )
        return self.xml("Time", inner)

    async def put_time(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "Time")
        mode, local_time, zone = text(el, "timeMode"), text(el, "localTime"), text(el, "timeZone")
        if mode is not None and mode.lower() not in ("ntp", "manual"):
            raise IsapiError(6, "badParameters")
        if zone is not None:
            if not re.fullmatch(r"[A-Za-z]{3,}[+-]?\d{1,2}(:\d{2}){0,2}([A-Za-z]{3,}.*)?", zone):
                raise IsapiError(6, "badParameters")
            self.state.time_zone = zone
        if mode is not None:
            self.state.ntp.enabled = mode.lower() == "ntp"
            if self.state.ntp.enabled:
                self.state.clock_offset_s = 0.0  # synchronised at once
        if local_time is not None and not self.state.ntp.enabled:
            target = parse_time(local_time, self.state.utc_offset_s(self.state.device_time(self.clock(), self.faults)))
            self.state.clock_offset_s = (
                target - self.state.device_time(self.clock(), self.faults) + self.state.clock_offset_s
            )
        self.changed()
        return self.status(request)

    def _ntp_inner(self) -> str:
        n = self.state.ntp
        is_ip = bool(re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+:[0-9a-fA-F:]*", n.server))
        addr = (
            x("addressingFormatType", "ipaddress") + x("ipAddress", n.server)
            if is_ip
            else x("addressingFormatType", "hostname") + x("hostName", n.server)
        )
        return x("id", 1) + addr + x("portNo", n.port) + x("synchronizeInterval", n.interval_min)

    async def get_ntp_list(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("NTPServerList", f"<NTPServer>{self._ntp_inner()}</NTPServer>", ' size="1"')

    async def get_ntp(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("NTPServer", self._ntp_inner())

    async def put_ntp(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "NTPServer", "NTPServerList")
        if local(el.tag) == "NTPServerList":
            servers = findall(el, "NTPServer")
            if not servers:
                raise IsapiError(6, "badXmlContent")
            el = servers[0]
        kind = (text(el, "addressingFormatType") or "hostname").lower()
        server = text(el, "ipAddress") if kind == "ipaddress" else text(el, "hostName")
        if kind not in ("hostname", "ipaddress") or not server or len(server) > 64:
            raise IsapiError(6, "badParameters")
        port = get_int(el, "portNo", 1, 65535)
        interval = get_int(el, "synchronizeInterval", 1, 10080)
        n = self.state.ntp
        n.server = server
        n.port = port if port is not None else n.port
        n.interval_min = interval if interval is not None else n.interval_min
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- network

    def _ip_inner(self) -> str:
        net = self.state.network
        return (
            x("ipVersion", "dual")
            + x("addressingType", "dynamic" if net.dhcp else "static")
            + x("ipAddress", net.address)
            + x("subnetMask", net.netmask)
            + f"<DefaultGateway>{x('ipAddress', net.gateway)}</DefaultGateway>"
            + f"<PrimaryDNS>{x('ipAddress', '8.8.8.8')}</PrimaryDNS><SecondaryDNS>{x('ipAddress', '0.0.0.0')}</SecondaryDNS>"  # noqa: S104 - an address in a document
        )

    def _interface_inner(self) -> str:
        return (
            x("id", 1)
            + f"<IPAddress>{self._ip_inner()}</IPAddress>"
            + f"<Link>{x('MACAddress', self.state.mac)}{x('autoNegotiation', True)}{x('speed', 100)}{x('duplex', 'full')}{x('MTU', 1500)}</Link>"
        )

    async def get_interfaces(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml(
            "NetworkInterfaceList", f"<NetworkInterface>{self._interface_inner()}</NetworkInterface>", ' size="1"'
        )

    async def get_interface(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("NetworkInterface", self._interface_inner())

    async def get_ip_address(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("IPAddress", self._ip_inner())

    def _apply_ip(self, el: Element) -> None:
        ipv4 = r"(\d{1,3}\.){3}\d{1,3}"
        net = self.state.network
        kind = text(el, "addressingType")
        values = {
            "address": text(el, "ipAddress"),
            "netmask": text(el, "subnetMask"),
            "gateway": text(el, "DefaultGateway/ipAddress"),
        }
        for key, value in values.items():
            if value is not None:
                if not re.fullmatch(ipv4, value):
                    raise IsapiError(6, "badIPv4Address")
                setattr(net, key, value)
        if kind is not None:
            net.dhcp = kind.lower() == "dynamic"

    async def put_ip_address(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        self._apply_ip(parse_body(body, "IPAddress"))
        self.changed()
        return self.status(request, 7, "rebootRequired")

    async def put_interface(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "NetworkInterface")
        ip = find(el, "IPAddress")
        if ip is not None:
            self._apply_ip(ip)
            self.changed()
        return self.status(request, 7, "rebootRequired")
