"""ONVIF Profile S as a simulated camera speaks it: the device service (``GetSystemDateAndTime``,
``GetCapabilities``, ``GetServices``, ``GetDeviceInformation``), the media service (``GetProfiles``,
``GetStreamUri``, ``GetSnapshotUri``) and the snapshot those URIs name, with the WS-Security
UsernameToken check a camera makes.

Why apart from the vendors' apps: ONVIF is one protocol on every camera; what differs per maker is
only where it answers and how it names things (:class:`Style`: Hikvision's ``/onvif/Media`` and
``Profile_1``, Dahua's ``/onvif/media_service`` and ``MediaProfile00000``; docs/reference/devices.md
§ONVIF). The replies are built from this module's own templates, never from a client library, so a
test of the ONVIF driver against it can fail when the driver's understanding is wrong.

The token check is the standard's: ``Password`` = Base64(SHA1(nonce bytes + Created + password))
(``#PasswordDigest``), and ``Created`` within ±:data:`CREATED_WINDOW_S` of the *device's* clock
(its ``clock_offset_s`` and any ``clock_drift`` fault count), else the SOAP fault
``ter:NotAuthorized``. ``GetSystemDateAndTime``, ``GetCapabilities`` and ``GetServices`` need no
token (device-apis.md §3), so a client can read the device's time first and build its token on it.
The users are the device's own (Dahua shares them with ONVIF; a Hikvision keeps a separate ONVIF
user list, which the simulator does not model [?]).

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl -s -H 'Content-Type: application/soap+xml' http://127.77.0.10/onvif/device_service \\
        -d '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>
            <GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>'
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from aiohttp import web

from camfleet.sim.devices import CameraState
from camfleet.sim.digest import AuthOutcome
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpserve import snapshot_jpeg, truncate

if TYPE_CHECKING:
    from camfleet.sim.digest import AuthResult

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
NS_TRT = "http://www.onvif.org/ver10/media/wsdl"
NS_TT = "http://www.onvif.org/ver10/schema"
NS_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = "#PasswordDigest"  # noqa: S105 - the token type URI, not a password

#: How far a token's ``Created`` may be from the device's clock (real firmware: a few seconds [?]).
CREATED_WINDOW_S = 5.0
#: A SOAP request larger than this is refused (a real camera's web server caps request bodies [?]).
REQUEST_MAX = 256 * 1024
#: Calls answered without a token (device-apis.md §3, go2rtc's table) [V].
OPEN_CALLS = frozenset({"GetSystemDateAndTime", "GetCapabilities", "GetServices"})

MAIN, SUB = 101, 102


@dataclass(frozen=True)
class Style:
    """How one maker's firmware lays out its ONVIF service: paths, names, tokens, stream paths."""

    manufacturer: str
    media_path: str
    #: Profile tokens and names, main then sub.
    tokens: tuple[str, str]
    names: tuple[str, str]
    #: RTSP path and query of the main and the sub stream (the sim's RTSP server serves them).
    rtsp_paths: tuple[str, str]
    #: Snapshot path and query of the main and the sub stream.
    snapshot_paths: tuple[str, str]
    hardware_id: str
    #: HTTP status of a refused token (``ter:NotAuthorized``) [M].
    refused_http: int
    #: Whose RTSP URL family the camera's RTSP server speaks.
    rtsp: Literal["hikvision", "dahua"]


HIKVISION = Style(
    manufacturer="HIKVISION",
    media_path="/onvif/Media",
    tokens=("Profile_1", "Profile_2"),
    names=("mainStream", "subStream"),
    rtsp_paths=(
        "/Streaming/Channels/101?transportmode=unicast&profile=Profile_1",
        "/Streaming/Channels/102?transportmode=unicast&profile=Profile_2",
    ),
    snapshot_paths=("/onvif-http/snapshot?Profile_1", "/onvif-http/snapshot?Profile_2"),
    hardware_id="88",
    refused_http=401,
    rtsp="hikvision",
)
DAHUA = Style(
    manufacturer="Dahua",
    media_path="/onvif/media_service",
    tokens=("MediaProfile00000", "MediaProfile00001"),
    names=("MediaProfile_Channel1_MainStream", "MediaProfile_Channel1_SubStream"),
    rtsp_paths=(
        "/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif",
        "/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif",
    ),
    snapshot_paths=(
        "/onvifsnapshot/media_service/snapshot?channel=1&subtype=0",
        "/onvifsnapshot/media_service/snapshot?channel=1&subtype=1",
    ),
    hardware_id="1.00",
    refused_http=400,
    rtsp="dahua",
)
#: Imou and KBVision cameras are Dahua inside and answer as Dahua does [M], naming their own brand [?].
STYLES = {
    "hikvision": HIKVISION,
    "dahua": DAHUA,
    "imou": dataclasses.replace(DAHUA, manufacturer="Imou"),
    "kbvision": dataclasses.replace(DAHUA, manufacturer="KBVISION"),
}

DEVICE_PATH = "/onvif/device_service"


def style_for(vendor: str) -> Style:
    """The ONVIF layout of a vendor's firmware; Hikvision's (the most copied) when unknown."""
    return STYLES.get(vendor, HIKVISION)


class SoapFault(Exception):
    """A SOAP 1.2 fault: ``code`` Sender/Receiver, ``subcode`` a ``ter:`` name."""

    def __init__(self, http: int, code: str, subcode: str, reason: str) -> None:
        self.http, self.code, self.subcode, self.reason = http, code, subcode, reason
        super().__init__(reason)


def _envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<env:Envelope xmlns:env="{NS_SOAP}" xmlns:tt="{NS_TT}" xmlns:tds="{NS_TDS}" xmlns:trt="{NS_TRT}"'
        ' xmlns:ter="http://www.onvif.org/ver10/error">'
        f"<env:Header/><env:Body>{body}</env:Body></env:Envelope>\n"
    ).encode()


def _fault_body(fault: SoapFault) -> bytes:
    return _envelope(
        f"<env:Fault><env:Code><env:Value>env:{fault.code}</env:Value>"
        f"<env:Subcode><env:Value>ter:{fault.subcode}</env:Value></env:Subcode></env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{escape(fault.reason)}</env:Text></env:Reason></env:Fault>'
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_created(text: str) -> float | None:
    """A token's ``Created`` (``2026-12-05T12:00:00Z``, fractions and offsets allowed) as UNIX time."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def token_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA1(nonce + created + password)), the UsernameToken ``PasswordDigest``."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()  # noqa: S324 - the standard's digest


class OnvifService:
    """One camera's ONVIF endpoints over its state; :meth:`answer` takes a request the device's
    connection-level faults let through."""

    def __init__(
        self,
        state: CameraState,
        faults: Faults,
        *,
        clock: Callable[[], float],
        style: Style,
        authenticate: Callable[[web.Request], AuthResult],
        challenge: Callable[[bool], str],
        rtsp_port: Callable[[], int] | None = None,
    ) -> None:
        self.state = state
        self.faults = faults
        self.clock = clock
        self.style = style
        self.authenticate = authenticate
        self.challenge = challenge
        self.rtsp_port = rtsp_port or (lambda: 554)
        #: Refused tokens so far (the town's control endpoint and tests read it).
        self.refused = 0

    def serves(self, path: str) -> bool:
        """Whether ``path`` is one of the ONVIF service's (the vendor's app answers the rest)."""
        return path.lower() in (DEVICE_PATH, self.style.media_path.lower()) or self._is_snapshot(path)

    def _is_snapshot(self, path: str) -> bool:
        return path == self.style.snapshot_paths[0].split("?", 1)[0]

    async def answer(self, request: web.Request) -> web.StreamResponse:
        if self._is_snapshot(request.path):
            return await self._snapshot(request)
        if request.method != "POST":
            return web.Response(status=405, text="Method Not Allowed")
        try:
            body = await request.content.read(REQUEST_MAX + 1)
            if len(body) > REQUEST_MAX:
                raise SoapFault(413, "Sender", "InvalidArgs", "request too large")
            resp_body = self._call(request, body)
            status = 200
        except SoapFault as fault:
            resp_body, status = _fault_body(fault), fault.http
        if self.faults.has(Fault.malformed):
            resp_body = truncate(resp_body)
        return web.Response(status=status, body=resp_body, content_type="application/soap+xml", charset="utf-8")

    # ----------------------------------------------------------------- SOAP

    def _call(self, request: web.Request, body: bytes) -> bytes:
        try:
            root = ET.fromstring(body)  # noqa: S314 - the simulator parses its clients' requests on loopback
        except ET.ParseError as err:
            raise SoapFault(400, "Sender", "WellFormed", f"not well-formed XML: {err}") from None
        if root.tag != f"{{{NS_SOAP}}}Envelope":
            raise SoapFault(400, "Sender", "WellFormed", "not a SOAP 1.2 envelope")
        soap_body = root.find(f"{{{NS_SOAP}}}Body")
        call = next(iter(soap_body), None) if soap_body is not None else None
        if call is None:
            raise SoapFault(400, "Sender", "WellFormed", "empty SOAP body")
        name = _local(call.tag)
        media = request.path.lower() == self.style.media_path.lower()
        ns = call.tag[1:].split("}", 1)[0] if call.tag.startswith("{") else ""
        handler = {
            (NS_TDS, False): {
                "GetSystemDateAndTime": self._date_and_time,
                "GetCapabilities": self._capabilities,
                "GetServices": self._services,
                "GetDeviceInformation": self._device_information,
            },
            (NS_TRT, True): {
                "GetProfiles": self._profiles,
                "GetStreamUri": self._stream_uri,
                "GetSnapshotUri": self._snapshot_uri,
            },
        }.get((ns, media), {}).get(name)
        if handler is None:
            raise SoapFault(400, "Receiver", "ActionNotSupported", f"{name} is not supported here")
        if name not in OPEN_CALLS:
            self._check_token(root)
        return _envelope(handler(request, call))

    def _check_token(self, root: ET.Element) -> None:
        token = root.find(f"{{{NS_SOAP}}}Header/{{{NS_WSSE}}}Security/{{{NS_WSSE}}}UsernameToken")
        refused = SoapFault(self.style.refused_http, "Sender", "NotAuthorized", "Sender not Authorized")
        if token is None or self.faults.has(Fault.locked):
            self.refused += 1
            raise refused
        user = (token.findtext(f"{{{NS_WSSE}}}Username") or "").strip()
        password_el = token.find(f"{{{NS_WSSE}}}Password")
        nonce_text = token.findtext(f"{{{NS_WSSE}}}Nonce") or ""
        created = token.findtext(f"{{{NS_WSU}}}Created") or ""
        known = self.state.passwords().get(user)
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
        except (binascii.Error, ValueError):
            nonce = b""
        when = parse_created(created)
        device_now = self.state.device_time(self.clock(), self.faults)
        ok = (
            known is not None
            and password_el is not None
            and (password_el.get("Type") or "").endswith(PASSWORD_DIGEST)
            and bool(nonce)
            and when is not None
            and abs(when - device_now) <= CREATED_WINDOW_S
            and hmac.compare_digest(token_digest(nonce, created, known), (password_el.text or "").strip())
        )
        if not ok:
            self.refused += 1
            raise refused

    # ----------------------------------------------------------------- device service

    def _base(self, request: web.Request) -> str:
        return f"http://{request.host}"

    def _date_and_time(self, request: web.Request, call: ET.Element) -> str:
        now = self.state.device_time(self.clock(), self.faults)
        utc = dt.datetime.fromtimestamp(now, dt.UTC)
        local = utc + dt.timedelta(seconds=self.state.utc_offset_s(now))
        kind = "NTP" if self.state.ntp.enabled else "Manual"
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            f"<tt:DateTimeType>{kind}</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
            f"<tt:TimeZone><tt:TZ>{escape(self.state.time_zone)}</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime>{_date_time(utc)}</tt:UTCDateTime>"
            f"<tt:LocalDateTime>{_date_time(local)}</tt:LocalDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    def _capabilities(self, request: web.Request, call: ET.Element) -> str:
        base = self._base(request)
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{base}{DEVICE_PATH}</tt:XAddr></tt:Device>"
            f"<tt:Media><tt:XAddr>{base}{self.style.media_path}</tt:XAddr>"
            "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
            "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    def _services(self, request: web.Request, call: ET.Element) -> str:
        base = self._base(request)
        rows = ((NS_TDS, DEVICE_PATH), (NS_TRT, self.style.media_path))
        return (
            "<tds:GetServicesResponse>"
            + "".join(
                f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{base}{path}</tds:XAddr>"
                "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
                for ns, path in rows
            )
            + "</tds:GetServicesResponse>"
        )

    def _device_information(self, request: web.Request, call: ET.Element) -> str:
        s = self.state
        return (
            "<tds:GetDeviceInformationResponse>"
            f"<tds:Manufacturer>{escape(self.style.manufacturer)}</tds:Manufacturer>"
            f"<tds:Model>{escape(s.model)}</tds:Model>"
            f"<tds:FirmwareVersion>{escape(s.firmware)}</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{escape(s.serial)}</tds:SerialNumber>"
            f"<tds:HardwareId>{self.style.hardware_id}</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        )

    # ----------------------------------------------------------------- media service

    def _profile_index(self, call: ET.Element) -> int:
        token = (call.findtext(f"{{{NS_TRT}}}ProfileToken") or "").strip()
        if token not in self.style.tokens:
            raise SoapFault(400, "Sender", "NoProfile", f"no profile {token!r}")
        index = self.style.tokens.index(token)
        config = self.state.streams.get((MAIN, SUB)[index])
        if config is None or not config.enabled:
            raise SoapFault(400, "Sender", "NoProfile", f"profile {token!r} has no enabled stream")
        return index

    def _profiles(self, request: web.Request, call: ET.Element) -> str:
        parts = []
        for index, stream_id in enumerate((MAIN, SUB)):
            config = self.state.streams.get(stream_id)
            if config is None or not config.enabled:
                continue
            encoding = {"h264": "H264", "h265": "H265", "mjpeg": "JPEG"}.get(config.codec, "H264")
            parts.append(
                f'<trt:Profiles fixed="true" token="{self.style.tokens[index]}">'
                f"<tt:Name>{self.style.names[index]}</tt:Name>"
                '<tt:VideoSourceConfiguration token="VideoSourceToken">'
                "<tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount>"
                "<tt:SourceToken>VideoSource_1</tt:SourceToken>"
                f'<tt:Bounds height="{config.height}" width="{config.width}" y="0" x="0"/>'
                "</tt:VideoSourceConfiguration>"
                f'<tt:VideoEncoderConfiguration token="VideoEncoderToken_{index + 1}">'
                f"<tt:Name>VideoEncoder_{index + 1}</tt:Name><tt:UseCount>1</tt:UseCount>"
                f"<tt:Encoding>{encoding}</tt:Encoding>"
                f"<tt:Resolution><tt:Width>{config.width}</tt:Width><tt:Height>{config.height}</tt:Height>"
                "</tt:Resolution><tt:Quality>3</tt:Quality>"
                f"<tt:RateControl><tt:FrameRateLimit>{config.fps}</tt:FrameRateLimit>"
                "<tt:EncodingInterval>1</tt:EncodingInterval>"
                f"<tt:BitrateLimit>{config.bitrate_kbps}</tt:BitrateLimit></tt:RateControl>"
                "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>"
                "</tt:Address><tt:Port>8860</tt:Port><tt:TTL>128</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
                "</tt:Multicast><tt:SessionTimeout>PT5S</tt:SessionTimeout>"
                "</tt:VideoEncoderConfiguration></trt:Profiles>"
            )
        return f"<trt:GetProfilesResponse>{''.join(parts)}</trt:GetProfilesResponse>"

    def _media_uri(self, uri: str, invalid_after_connect: bool) -> str:
        flag = "true" if invalid_after_connect else "false"
        return (
            f"<trt:MediaUri><tt:Uri>{escape(uri)}</tt:Uri><tt:InvalidAfterConnect>{flag}</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
        )

    def _stream_uri(self, request: web.Request, call: ET.Element) -> str:
        index = self._profile_index(call)
        protocol = (
            call.findtext(f"{{{NS_TRT}}}StreamSetup/{{{NS_TT}}}Transport/{{{NS_TT}}}Protocol") or "RTSP"
        ).strip()
        if protocol.upper() not in ("RTSP", "UDP", "TCP"):
            raise SoapFault(400, "Sender", "InvalidStreamSetup", f"transport {protocol!r} is not offered")
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        uri = f"rtsp://{host}:{self.rtsp_port()}{self.style.rtsp_paths[index]}"
        return f"<trt:GetStreamUriResponse>{self._media_uri(uri, False)}</trt:GetStreamUriResponse>"

    def _snapshot_uri(self, request: web.Request, call: ET.Element) -> str:
        index = self._profile_index(call)
        uri = f"{self._base(request)}{self.style.snapshot_paths[index]}"
        return f"<trt:GetSnapshotUriResponse>{self._media_uri(uri, False)}</trt:GetSnapshotUriResponse>"

    # ----------------------------------------------------------------- snapshot

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        """The JPEG a snapshot URI names, behind the device's HTTP digest login."""
        result = self.authenticate(request)
        if result.outcome is not AuthOutcome.ok:
            headers = {"WWW-Authenticate": self.challenge(result.outcome is AuthOutcome.stale)}
            return web.Response(status=401, text="Unauthorized", headers=headers)
        wanted = request.path_qs
        index = next((i for i, p in enumerate(self.style.snapshot_paths) if p == wanted), None)
        if index is None:
            return web.Response(status=404, text="Not Found")
        config = self.state.streams.get((MAIN, SUB)[index])
        if config is None or not config.enabled:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=await snapshot_jpeg(config.width, config.height), content_type="image/jpeg")


def _date_time(when: dt.datetime) -> str:
    return (
        f"<tt:Time><tt:Hour>{when.hour}</tt:Hour><tt:Minute>{when.minute}</tt:Minute>"
        f"<tt:Second>{when.second}</tt:Second></tt:Time>"
        f"<tt:Date><tt:Year>{when.year}</tt:Year><tt:Month>{when.month}</tt:Month><tt:Day>{when.day}</tt:Day></tt:Date>"
    )
