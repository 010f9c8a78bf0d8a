"""Hikvision drivers over ISAPI (XML over HTTP digest): :class:`HikvisionCamera`, :class:`HikvisionNvr`.

Why this shape: cameras and NVRs share identity, activation, users, time and maintenance
(:class:`IsapiDevice`); each adds its own resources. Replies are read the way device-apis.md §1
describes: any XML namespace (``hikvision.com`` or ``isapi.org``), a ``ResponseStatus`` on writes
(statusCode 1 OK, 7 OK-but-reboot, anything else an error), 403 ``notSupport`` for what a model
lacks, 401 with ``lockStatus`` once the device locks us out.

Mappings (see :mod:`camfleet.drivers.desired`):

- time zone ``UTC+07:00`` ↔ ``<timeZone>CST-7:00:00</timeZone>`` (POSIX, hours west: the sign is the
  opposite of the label's); with daylight saving ``UTC-05:00 DST UTC-04:00 M3.2.0/02:00:00,M11.1.0/02:00:00``
  ↔ ``CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00``, where the number after ``DST`` is how far
  the clock moves forward (Hikvision's reading, not POSIX's; docs/reference/devices.md §3). NTP on
  means ``<timeMode>NTP</timeMode>`` plus ``/ISAPI/System/time/ntpServers/1`` (one server).
- OSD text ↔ ``/ISAPI/System/Video/inputs/channels/1`` ``<name>`` (the channel-name overlay).
- streams ↔ ``/ISAPI/Streaming/channels/101`` and ``102``; fps ×100, kbit/s, ``GovLength``. H.264+/H.265+
  ↔ ``Video/SmartCodec/enabled`` and, with it on, ``Video/vbrAverageCap`` (the cap stays ``vbrUpperCap`` or,
  in CBR, ``constantBitRate``); a stream whose document has no ``SmartCodec`` (sub streams, cameras of
  2014) reports ``<stream>.smart_codec`` and ``.average_kbps`` as not supported (devices.md §6).
- date/time overlay ↔ ``/ISAPI/System/Video/inputs/channels/1/overlays`` ``DateTimeOverlay`` (``enabled``,
  ``dateStyle``, ``timeStyle`` 24hour/12hour, ``displayWeek``, ``positionX``/``positionY`` on the
  ``normalizedScreenSize`` frame with Y counted **from the bottom** [?], devices.md §7); written as the
  document read with only that block changed. A camera refusing the resource reports ``osd_time`` unsupported.
- services ↔ ``/ISAPI/System/Network/{UPnP,EZVIZ,ssh,telnetd}``; a service the model does not
  have (403/404) counts as off.
- masks ↔ ``privacyMask`` regions on the device's normalised frame (704x576), at most 4; a camera whose
  ``/ISAPI/System/capabilities`` says ``isSupportPrivacyMask`` false (or that refuses the resource when
  the capability is not listed) reports masks as not supported instead of failing the audit.
- recording schedule ↔ ``record/tracks/<n>01``: on/off is ``CustomExtension/enableSchedule`` (real
  recorders read ``Track/Enable`` false on every recording track); a day is written
  ``Monday 00:00:00 → Tuesday 00:00:00`` or ``Monday 00:00:00 → Monday 24:00:00`` (devices.md §1).
- disks ↔ ``ContentMgmt/Storage`` ``hddList/hdd`` and ``nasList/nas`` (kind ``nas``).

Reproduce by hand (a simulated camera on 127.77.0.10)::

    .venv/bin/python -c "from camfleet.drivers.hikvision import HikvisionCamera as C; \\
        d = C('cam-01-t01', '127.77.0.10', 80, 'admin', '<password>'); print(d.facts())"
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import BinaryIO, ClassVar
from urllib.parse import parse_qs, urlsplit, urlunsplit
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import httpx
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import ElementTree as SafeET

from camfleet.drivers.base import (
    Channel,
    ChannelIdentity,
    ChannelState,
    ConfigurableCamera,
    DeviceClock,
    Disk,
    Driver,
    Facts,
    LoginLock,
    Progress,
    RecorderDriver,
    Recording,
    RecordingRange,
    UpgradeStatus,
    User,
)
from camfleet.drivers.desired import (
    DesiredConfig,
    Mask,
    OsdTime,
    PosixZone,
    ServiceSwitches,
    StreamSettings,
    parse_posix_tz,
    zone_from_label,
)
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DriverError,
    LockedOut,
    MalformedReply,
    NotActivated,
    Unsupported,
)
from camfleet.drivers.http import (
    BACKUP_DEADLINE_S,
    BACKUP_MAX,
    DEADLINE_FACTOR,
    DOCUMENT_MAX,
    SNAPSHOT_MAX,
    STATUS_MAX,
    DeviceSession,
    body_chunks,
)

CODECS = {"H.264": "h264", "H.265": "h265", "MJPEG": "mjpeg"}
CODECS_BACK = {v: k for k, v in CODECS.items()}
LEVELS = {"administrator": "Administrator", "operator": "Operator", "viewer": "Viewer"}
SERVICES: dict[str, tuple[str, str]] = {  # switch -> (URL part, root element)
    "upnp": ("UPnP", "UPnP"),
    "p2p": ("EZVIZ", "EZVIZ"),
    "ssh": ("ssh", "SSH"),
    "telnet": ("telnetd", "Telnetd"),
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_MASKS = 4
OVERLAYS = "/ISAPI/System/Video/inputs/channels/1/overlays"
#: ``DateTimeOverlay/timeStyle`` ↔ the vocabulary's clock; ``dateStyle`` is already in its words (``YYYY-MM-DD``).
TIME_STYLES = {"24hour": "24h", "12hour": "12h"}
TIME_STYLES_BACK = {v: k for k, v in TIME_STYLES.items()}
SEARCH_PAGE = 40  # what Hikvision's own web client asks for; some NVRs answer 64 at most
SEARCH_MAX_PAGES = 200


# --------------------------------------------------------------------------- XML


def x(tag: str, value: object) -> str:
    """``<tag>value</tag>``, booleans as true/false, text escaped."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _path(path: str) -> str:
    return "/".join(f"{{*}}{p}" for p in path.split("/"))


def find(el: Element, path: str) -> Element | None:
    return el.find(_path(path))


def findall(el: Element, path: str) -> list[Element]:
    return el.findall(_path(path))


def text(el: Element, path: str) -> str | None:
    found = find(el, path)
    return None if found is None or found.text is None else found.text.strip()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() in ("true", "1")


def hik_zone(zone: str) -> PosixZone:
    """Hikvision's ``timeZone`` as a zone; ValueError if it is not a POSIX TZ string. The number after
    the daylight-saving name is the saving (``DST01:00:00`` = one hour forward), not POSIX's offset."""
    return parse_posix_tz(zone, dst_offset="saving")


def hik_zone_text(zone: PosixZone) -> str:
    """A zone as Hikvision writes it: ``CST-7:00:00``, ``CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00``
    (the saving forward, as the devices write it)."""
    zone = zone.normalized()
    west = -zone.std_offset_s
    s = abs(west)
    out = f"CST{'-' if west < 0 else '+'}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if zone.has_dst:
        assert zone.dst_offset_s is not None and zone.start is not None and zone.end is not None
        saving = zone.dst_offset_s - zone.std_offset_s
        sign, s = ("-" if saving < 0 else ""), abs(saving)
        out += f"DST{sign}{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d},{zone.start.text()},{zone.end.text()}"
    return out


def posix_zone(seconds_east: int) -> str:
    """+25200 → ``CST-7:00:00`` (POSIX counts hours west)."""
    return hik_zone_text(PosixZone(seconds_east))


def zone_label(posix: str) -> str:
    """``CST-7:00:00`` → ``UTC+07:00``; with daylight saving the full label
    (``UTC-05:00 DST UTC-04:00 M3.2.0/02:00:00,M11.1.0/02:00:00``); what is not a POSIX TZ string
    comes back as ``POSIX <zone>``."""
    try:
        return hik_zone(posix).label()
    except ValueError:
        return f"POSIX {posix.strip()}"


# --------------------------------------------------------------------------- shared by cameras and NVRs


class IsapiDevice(Driver):
    """ISAPI plumbing plus what cameras and NVRs share: identity, activation, users, time, maintenance."""

    vendor = "hikvision"
    #: Longest a firmware PUT may take: the device answers only once it has flashed.
    flash_timeout_s: ClassVar[float] = 600.0
    progress_poll_s: ClassVar[float] = 0.25

    # ----------------------------------------------------------------- plumbing

    def call(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        auth: bool = True,
        max_bytes: int = DOCUMENT_MAX,
        deadline: float | None = None,
    ) -> httpx.Response:
        """One request; 401 and error statuses become driver errors. ``max_bytes`` and ``deadline``
        bound the reply (:meth:`DeviceSession.request`: XML documents by default)."""
        if body is not None and headers is None:
            headers = {"Content-Type": "application/xml; charset=UTF-8"}
        resp = self.session.request(
            method,
            path,
            content=body.encode() if isinstance(body, str) else body,
            headers=headers,
            timeout=timeout,
            auth=auth,
            max_bytes=max_bytes,
            deadline=deadline,
        )
        if resp.status_code == 401:
            raise self._auth_error(resp, f"{method} {path}", sent_credentials=auth)
        if resp.status_code >= 400:
            raise self._device_error(resp, f"{method} {path}")
        return resp

    def get(self, path: str, *, auth: bool = True, root: str | None = None, max_bytes: int = DOCUMENT_MAX) -> Element:
        """The document at ``path``; with ``root``, a reply whose top element is another one raises
        MalformedReply (a ResponseStatus answered with HTTP 200 raises as the device's error),
        so a refusal is never read as an empty resource."""
        resp = self.call("GET", path, auth=auth, max_bytes=max_bytes)
        el = self.parse(resp, f"GET {path}")
        if root is not None and local(el.tag) != root:
            if local(el.tag) == "ResponseStatus":
                self._status(el, resp, f"GET {path}")
            raise MalformedReply(
                self.device_id, f"reply to GET {path} is <{local(el.tag)}>, not <{root}>", _snippet(resp)
            )
        return el

    def put(
        self,
        method: str,
        path: str,
        body: str | bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        auth: bool = True,
    ) -> int:
        """PUT/POST/DELETE; the ResponseStatus code (1 OK, 7 reboot required). Errors raise."""
        resp = self.call(
            method, path, body if method != "DELETE" else None, headers=headers, timeout=timeout, auth=auth
        )
        code, _ = self._status(self.parse(resp, f"{method} {path}"), resp, f"{method} {path}")
        return code

    def parse(self, resp: httpx.Response, what: str) -> Element:
        try:
            el: Element = SafeET.fromstring(resp.content)
        except Exception:  # ParseError or a defusedxml refusal: either way not a usable document
            raise MalformedReply(self.device_id, f"reply to {what} is not valid XML", _snippet(resp)) from None
        return el

    def _status(self, el: Element, resp: httpx.Response, what: str) -> tuple[int, Element]:
        if local(el.tag) != "ResponseStatus":
            return 1, el
        code = _int(text(el, "statusCode"), -1)
        if code in (0, 1, 7):
            return (7 if code == 7 else 1), el
        raise self._error_from(el, resp, what)

    def _error_from(self, el: Element, resp: httpx.Response, what: str) -> DeviceError:
        code = _int(text(el, "statusCode"), -1)
        sub = text(el, "subStatusCode") or ""
        said = ", ".join(s for s in (text(el, "statusString"), sub, text(el, "description"), text(el, "errorMsg")) if s)
        cls = Unsupported if sub == "notSupport" or resp.status_code == 404 else DeviceError
        return cls(
            self.device_id,
            f"{what} refused",
            said or None,
            status_code=code,
            sub_status=sub or None,
            http_status=resp.status_code,
        )

    def _device_error(self, resp: httpx.Response, what: str) -> DeviceError:
        try:
            el: Element = SafeET.fromstring(resp.content)
        except Exception:
            el = None  # type: ignore[assignment]
        if el is not None and local(el.tag) == "ResponseStatus":
            return self._error_from(el, resp, what)
        cls = Unsupported if resp.status_code == 404 else DeviceError
        return cls(
            self.device_id, f"{what} failed with HTTP {resp.status_code}", _snippet(resp), http_status=resp.status_code
        )

    def _auth_error(self, resp: httpx.Response, what: str, *, sent_credentials: bool = True) -> AuthError:
        """NotActivated, LockedOut or AuthError; the last two end the session's use of the
        credentials (only if they were sent: an open URL answering 401 refused nothing of ours).
        """
        remember = self.session.refuse if sent_credentials else _same
        try:
            el: Element | None = SafeET.fromstring(resp.content)
        except Exception:
            el = None
        sub = text(el, "subStatusCode") if el is not None else None
        if sub == "notActivated":
            return NotActivated(self.device_id, "device is not activated; run activate() first", sub)
        if el is not None and text(el, "lockStatus") == "locked":
            said = f"lockStatus=locked, resLockTime={text(el, 'resLockTime')} s"
            return remember(LockedOut(self.device_id, f"locked out after bad logins ({what})", said))
        retries = text(el, "retryTimes") if el is not None else None
        said = f"{sub or 'Unauthorized'}" + (f", retryTimes={retries}" if retries is not None else "")
        return remember(AuthError(self.device_id, f"login refused ({what})", said))

    # ----------------------------------------------------------------- identity

    def facts(self) -> Facts:
        try:
            info = self.get("/ISAPI/System/deviceInfo")
        except NotActivated:
            return Facts(vendor=self.vendor, activated=False)
        version, released = text(info, "firmwareVersion") or "", text(info, "firmwareReleasedDate") or ""
        m = re.search(r"(\d{2})(\d{2})(\d{2})", released)
        build_date = None
        if m:
            try:
                build_date = dt.date(2000 + int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                build_date = None
        return Facts(
            vendor=self.vendor,
            activated=True,
            model=text(info, "model"),
            serial=text(info, "serialNumber"),
            mac=(text(info, "macAddress") or "").lower() or None,
            firmware=f"{version} {released}".strip() or None,
            build_date=build_date,
            device_name=text(info, "deviceName"),
            device_type=text(info, "deviceType"),
        )

    def activation_status(self) -> bool:
        try:
            el = self.get("/SDK/activateStatus", auth=False)
        except (Unsupported, DeviceError):
            el = self.get("/ISAPI/Security/activateStatus", auth=False)
        return bool(_bool(text(el, "Activated")))

    def activate(self, password: str) -> bool:
        """The §1.4 challenge: RSA-1024 key to the device, AES-128-ECB password back."""
        if self.activation_status():
            return False
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the vendor protocol is RSA-1024
        public = base64.b64encode(format(key.public_key().public_numbers().n, "x").encode()).decode()
        reply = self.parse(
            self.call("POST", "/ISAPI/Security/challenge", f"<PublicKey>{x('key', public)}</PublicKey>", auth=False),
            "POST /ISAPI/Security/challenge",
        )
        try:
            sealed = bytes.fromhex(base64.b64decode(text(reply, "key") or "").decode())
            secret = key.decrypt(sealed, padding.PKCS1v15()).decode()[-32:]
            aes_key = bytes.fromhex(secret)
        except ValueError:
            raise MalformedReply(self.device_id, "activation challenge could not be decrypted") from None
        plain = (secret[:16] + password).encode()
        plain += b"\0" * (-len(plain) % 16)
        enc = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()  # noqa: S305 - the vendor protocol
        sealed_pw = base64.b64encode((enc.update(plain) + enc.finalize()).hex().encode()).decode()
        self.put(
            "PUT", "/ISAPI/System/activate", f"<ActivateInfo>{x('password', sealed_pw)}</ActivateInfo>", auth=False
        )
        self._set_password(password)
        return True

    # ----------------------------------------------------------------- users

    def users(self) -> list[User]:
        doc = self.get("/ISAPI/Security/users")
        return [
            User(
                _int(text(u, "id")),
                text(u, "userName") or "",
                (text(u, "userLevel") or "viewer").lower(),
            )
            for u in findall(doc, "User")
        ]

    def login_lock(self) -> LoginLock:
        """``/ISAPI/Security/illegalLoginLock``: ``enabled``, ``maxIllegalLoginTimes``, ``lockDuration`` (minutes)."""
        el = self.get("/ISAPI/Security/illegalLoginLock")
        times, minutes = text(el, "maxIllegalLoginTimes"), text(el, "lockDuration")
        return LoginLock(
            enabled=(text(el, "enabled") or "true").strip().lower() == "true",
            max_failures=_int(times) if times is not None else None,
            lock_s=_int(minutes) * 60.0 if minutes is not None else None,
        )

    def _user_id(self, name: str) -> int:
        for u in self.users():
            if u.name == name:
                return u.id
        raise DeviceError(self.device_id, f"no user named {name!r} on the device")

    def set_password(self, user: str, new: str) -> None:
        uid = self._user_id(user)
        self.put(
            "PUT",
            f"/ISAPI/Security/users/{uid}",
            f"<User>{x('id', uid)}{x('userName', user)}{x('password', new)}</User>",
        )
        if user == self.username:
            self._set_password(new)

    def add_user(self, name: str, password: str, level: str = "viewer") -> User:
        hik_level = LEVELS.get(level.lower())
        if hik_level is None:
            raise ValueError(f"{self.device_id}: user level must be one of {', '.join(LEVELS)}, not {level!r}")
        resp = self.call(
            "POST",
            "/ISAPI/Security/users",
            f"<User>{x('userName', name)}{x('password', password)}{x('userLevel', hik_level)}</User>",
        )
        _, el = self._status(self.parse(resp, "POST /ISAPI/Security/users"), resp, "POST /ISAPI/Security/users")
        return User(_int(text(el, "id")), name, level.lower())

    # ----------------------------------------------------------------- time and maintenance

    def time(self) -> DeviceClock:
        before = time.time()
        el = self.get("/ISAPI/System/time")
        after = time.time()
        raw = text(el, "localTime") or ""
        try:
            local_time = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise MalformedReply(self.device_id, "device time is not ISO 8601", raw) from None
        if local_time.tzinfo is None:  # the zone's offset at that wall-clock time, daylight saving included
            try:
                local_time = hik_zone(text(el, "timeZone") or "").localize(local_time)
            except ValueError:
                local_time = local_time.replace(tzinfo=dt.UTC)
        utcoffset = local_time.utcoffset() or dt.timedelta(0)
        device_utc = local_time.astimezone(dt.UTC)
        return DeviceClock(device_utc, int(utcoffset.total_seconds()), device_utc.timestamp() - (before + after) / 2)

    def reboot(self) -> None:
        self.put("PUT", "/ISAPI/System/reboot")

    def firmware_status(self) -> UpgradeStatus:
        el = self.get("/ISAPI/System/upgradeStatus", max_bytes=STATUS_MAX)
        upgrading = bool(_bool(text(el, "upgrading")))
        return UpgradeStatus("upgrading" if upgrading else "idle", _int(text(el, "percent")))

    def firmware_upload(self, data: bytes, progress: Progress | None = None) -> UpgradeStatus:
        """PUT the image; the device answers when flashed (statusCode 7), meanwhile a second
        session polls ``upgradeStatus`` and calls ``progress`` (from that helper thread). Then call
        :meth:`reboot`. A device that dies while flashing raises Unreachable.
        """
        self.firmware_status()  # a cheap request first, so the image is not sent twice for the digest challenge
        stop = threading.Event()
        poller = None
        if progress is not None:
            poller = threading.Thread(target=self._poll_progress, args=(progress, stop), daemon=True)
            poller.start()
        try:
            self.put(
                "PUT",
                "/ISAPI/System/updateFirmware",
                data,
                headers={"Content-Type": "application/octet-stream"},
                timeout=max(self.flash_timeout_s, self.timeout),
            )
        finally:
            stop.set()
            if poller is not None:
                poller.join(timeout=self.timeout + 1)
        if progress is not None:
            progress(100)
        # 7 "Reboot Required" is the documented answer (1 on some firmware [?]); the new build
        # runs only after a reboot either way.
        return UpgradeStatus("succeeded", 100, reboot_required=True)

    def _poll_progress(self, progress: Callable[[int], None], stop: threading.Event) -> None:
        """Report upgrade percentages from a session of its own (the upload holds the main one)."""
        session = DeviceSession(
            self.device_id,
            self.session.base_url,
            self.username,
            self._password,
            timeout=self.timeout,
            verify=self.session.verify,
        )
        last = -1
        try:
            while not stop.wait(self.progress_poll_s):
                try:
                    resp = session.request("GET", "/ISAPI/System/upgradeStatus", max_bytes=STATUS_MAX)
                    el: Element = SafeET.fromstring(resp.content)
                except (DriverError, SafeET.ParseError, ValueError):
                    continue
                if _bool(text(el, "upgrading")):
                    percent = _int(text(el, "percent"))
                    if percent != last:
                        last = percent
                        progress(percent)
        finally:
            session.close()

    def config_export(self) -> bytes:
        # Read whole into memory (the backup job checks it before anything is written), so capped;
        # a few MiB over a household uplink may take a while: a deadline of minutes, not seconds.
        resp = self.call(
            "GET",
            "/ISAPI/System/configurationData",
            max_bytes=BACKUP_MAX,
            deadline=max(BACKUP_DEADLINE_S, DEADLINE_FACTOR * self.timeout),
        )
        if not resp.content:
            raise MalformedReply(self.device_id, "empty configuration export")
        return resp.content

    def _jpeg(self, path: str) -> bytes:
        resp = self.call("GET", path, max_bytes=SNAPSHOT_MAX)
        if resp.headers.get("content-type", "").startswith(("application/xml", "text/xml")):
            self._status(self.parse(resp, f"GET {path}"), resp, f"GET {path}")
        if not (resp.content.startswith(b"\xff\xd8") and resp.content.rstrip(b"\0").endswith(b"\xff\xd9")):
            raise MalformedReply(self.device_id, f"GET {path} did not return a whole JPEG", _snippet(resp))
        return resp.content


def _same(error: AuthError) -> AuthError:
    return error


def _snippet(resp: httpx.Response) -> str:
    return " ".join(resp.content[:120].decode("utf-8", "replace").split())


# --------------------------------------------------------------------------- camera


class HikvisionCamera(IsapiDevice, ConfigurableCamera):
    """A Hikvision IP camera (one video input, streams 101/102)."""

    name = "hikvision_isapi"
    max_ntp_servers: ClassVar[int] = 1

    _frame: tuple[int, int] = (704, 576)  # the mask frame; read_config learns the device's
    _mask_cap: tuple[bool | None] | None = None  # isSupportPrivacyMask, once asked
    _osd_frame: tuple[int, int] = (704, 576)  # the overlays' normalizedScreenSize, as read
    _overlays: str | None = None  # the overlays document as read: written back with only the clock changed

    def snapshot(self) -> bytes:
        return self._jpeg("/ISAPI/Streaming/channels/101/picture")

    # ----------------------------------------------------------------- read

    def read_config(self) -> DesiredConfig:
        info = self.get("/ISAPI/System/deviceInfo")
        clock = self.get("/ISAPI/System/time")
        ntp = self.get("/ISAPI/System/time/ntpServers")
        video_input = self.get("/ISAPI/System/Video/inputs/channels/1")
        streams = {
            _int(text(s, "id")): s for s in [*findall(self.get("/ISAPI/Streaming/channels"), "StreamingChannel")]
        }
        if 101 not in streams:
            raise MalformedReply(self.device_id, "no main stream (101) in /ISAPI/Streaming/channels")
        ntp_on = (text(clock, "timeMode") or "").upper() == "NTP"
        servers: tuple[str, ...] = ()
        if ntp_on:
            servers = tuple(
                s
                for s in (
                    text(n, "ipAddress")
                    if (text(n, "addressingFormatType") or "").lower() == "ipaddress"
                    else text(n, "hostName")
                    for n in findall(ntp, "NTPServer")
                )
                if s
            )
        self.unsupported = tuple(f for f in self.unsupported if not f.startswith(("main.", "sub.")))
        for part, sid in (("main", 101), ("sub", 102)):
            if sid in streams and find(streams[sid], "Video/SmartCodec") is None:
                self.unsupported += (f"{part}.smart_codec", f"{part}.average_kbps")
        return DesiredConfig(
            device_name=text(info, "deviceName") or "",
            timezone=zone_label(text(clock, "timeZone") or ""),
            ntp_servers=servers[: self.max_ntp_servers],
            osd_text=text(video_input, "name") or "",
            main=self._stream(streams[101]),
            sub=self._stream(streams[102]) if 102 in streams else None,
            services=ServiceSwitches(**{k: self._service_on(k) for k in SERVICES}),
            masks=self._read_masks(),
            osd_time=self._read_osd_time(),
        )

    def masks_supported(self) -> bool | None:
        """``DeviceCap/SysCap/VideoCap/isSupportPrivacyMask`` of ``/ISAPI/System/capabilities`` (asked once);
        None where the camera does not say (the element missing, as on a DS-2CD2443G0-IW V5.6.5, or the
        resource refused)."""
        if self._mask_cap is None:
            said: bool | None = None
            try:
                caps = self.get("/ISAPI/System/capabilities", root="DeviceCap")
                said = _bool(text(caps, "SysCap/VideoCap/isSupportPrivacyMask"))
            except (Unsupported, MalformedReply):
                said = None
            except DeviceError as err:
                if err.http_status not in (403, 404):
                    raise
            self._mask_cap = (said,)
        return self._mask_cap[0]

    def _stream(self, el: Element) -> StreamSettings:
        mode = (text(el, "Video/videoQualityControlType") or "VBR").lower()
        bitrate = text(el, "Video/constantBitRate") if mode == "cbr" else text(el, "Video/vbrUpperCap")
        codec = text(el, "Video/videoCodecType") or ""
        smart = bool(_bool(text(el, "Video/SmartCodec/enabled")))  # vbrAverageCap means nothing with it off
        return StreamSettings(
            codec=CODECS.get(codec.upper(), codec.lower()),
            width=_int(text(el, "Video/videoResolutionWidth")),
            height=_int(text(el, "Video/videoResolutionHeight")),
            fps=_int(text(el, "Video/maxFrameRate")) // 100,
            bitrate_kbps=_int(bitrate or text(el, "Video/vbrUpperCap") or text(el, "Video/constantBitRate")),
            bitrate_mode=mode,
            gop=_int(text(el, "Video/GovLength")),
            smart_codec=smart,
            average_kbps=(_int(text(el, "Video/vbrAverageCap")) or None) if smart else None,
        )

    def _service_on(self, switch: str) -> bool:
        part, _ = SERVICES[switch]
        try:
            el = self.get(f"/ISAPI/System/Network/{part}")
        except Unsupported:
            return False  # the model has no such service
        except DeviceError as err:
            if err.http_status in (403, 404):
                return False
            raise
        return bool(_bool(text(el, "enabled")))

    def _read_masks(self) -> tuple[Mask, ...]:
        """The masks; none, and ``masks`` in :attr:`unsupported`, where the camera has no privacy masks
        (its capabilities say so, or, where they do not say, it refuses the resource)."""
        self.unsupported = tuple(f for f in self.unsupported if f != "masks")
        supported = self.masks_supported()
        if supported is False:
            self.unsupported += ("masks",)
            return ()
        try:
            el = self.get("/ISAPI/System/Video/inputs/channels/1/privacyMask", root="PrivacyMask")
        except DeviceError as err:
            if supported is None and (isinstance(err, Unsupported) or err.http_status in (403, 404)):
                self.unsupported += ("masks",)
                return ()
            raise
        fw = _int(text(el, "normalizedScreenSize/normalizedScreenWidth"), 704) or 704
        fh = _int(text(el, "normalizedScreenSize/normalizedScreenHeight"), 576) or 576
        self._frame = (fw, fh)
        if not _bool(text(el, "enabled")):
            return ()
        masks = []
        for region in findall(el, "PrivacyMaskRegionList/PrivacyMaskRegion"):
            if _bool(text(region, "enabled")) is False:
                continue
            xs = [_int(text(c, "positionX")) for c in findall(region, "RegionCoordinatesList/RegionCoordinates")]
            ys = [_int(text(c, "positionY")) for c in findall(region, "RegionCoordinatesList/RegionCoordinates")]
            if len(xs) >= 3 and max(xs) > min(xs) and max(ys) > min(ys):
                masks.append(Mask(min(xs) / fw, min(ys) / fh, (max(xs) - min(xs)) / fw, (max(ys) - min(ys)) / fh))
        return tuple(masks)

    def _read_osd_time(self) -> OsdTime | None:
        """The ``DateTimeOverlay``; None, and ``osd_time`` in :attr:`unsupported`, where the camera refuses
        the overlays resource or its document has no such block. Y is counted from the bottom of the frame."""
        self.unsupported = tuple(f for f in self.unsupported if f != "osd_time")
        self._overlays = None
        try:
            resp = self.call("GET", OVERLAYS)
        except DeviceError as err:
            if isinstance(err, Unsupported) or err.http_status in (403, 404):
                self.unsupported += ("osd_time",)
                return None
            raise
        el = self.parse(resp, f"GET {OVERLAYS}")
        if local(el.tag) != "VideoOverlay":
            if local(el.tag) == "ResponseStatus":
                self._status(el, resp, f"GET {OVERLAYS}")
            raise MalformedReply(self.device_id, f"reply to GET {OVERLAYS} is <{local(el.tag)}>", _snippet(resp))
        block = find(el, "DateTimeOverlay")
        if block is None:
            self.unsupported += ("osd_time",)
            return None
        self._overlays = resp.content.decode("utf-8", "replace")
        fw = _int(text(el, "normalizedScreenSize/normalizedScreenWidth"), 704) or 704
        fh = _int(text(el, "normalizedScreenSize/normalizedScreenHeight"), 576) or 576
        self._osd_frame = (fw, fh)
        style = text(block, "timeStyle") or ""
        return OsdTime(
            enabled=bool(_bool(text(block, "enabled"))),
            date_format=text(block, "dateStyle") or "",
            time_format=TIME_STYLES.get(style, style),
            show_week=bool(_bool(text(block, "displayWeek"))),
            x=_int(text(block, "positionX")) / fw,
            y=1 - _int(text(block, "positionY")) / fh,
        )

    # ----------------------------------------------------------------- fit and write

    def fit(self, desired: DesiredConfig) -> DesiredConfig:
        if "masks" not in self.unsupported and len(desired.masks) > MAX_MASKS:
            raise ValueError(
                f"{self.device_id}: {len(desired.masks)} privacy masks wanted; the camera holds {MAX_MASKS}"
            )
        fw, fh = self._frame
        masks = []
        for m in desired.masks:
            x1, y1 = round(m.x * fw), round(m.y * fh)
            x2, y2 = round(min(1.0, m.x + m.w) * fw), round(min(1.0, m.y + m.h) * fh)
            masks.append(Mask(x1 / fw, y1 / fh, (x2 - x1) / fw, (y2 - y1) / fh))
        return DesiredConfig(
            device_name=desired.device_name,
            timezone=desired.timezone,
            ntp_servers=desired.ntp_servers[: self.max_ntp_servers],
            osd_text=desired.osd_text,
            main=desired.main,
            sub=desired.sub,
            services=desired.services,
            masks=tuple(masks),
            osd_time=self._fit_osd_time(desired.osd_time),
        )

    def _fit_osd_time(self, wanted: OsdTime | None) -> OsdTime | None:
        """The position on the camera's overlay grid, as it will read back."""
        if wanted is None:
            return None
        fw, fh = self._osd_frame
        x = min(fw, max(0, round(wanted.x * fw)))
        y = min(fh, max(0, round((1 - wanted.y) * fh)))
        return dataclasses.replace(wanted, x=x / fw, y=1 - y / fh)

    def write(self, resource: str, before: DesiredConfig, after: DesiredConfig) -> bool:
        codes: list[int] = []
        if resource == "device_name":
            codes.append(
                self.put(
                    "PUT", "/ISAPI/System/deviceInfo", f"<DeviceInfo>{x('deviceName', after.device_name)}</DeviceInfo>"
                )
            )
        elif resource == "timezone":
            codes.append(self._put_time(after, zone=True))
        elif resource == "ntp_servers":
            if after.ntp_servers:
                codes.append(self.put("PUT", "/ISAPI/System/time/ntpServers/1", _ntp_server(after.ntp_servers[0])))
            if (not before.ntp_servers or not after.ntp_servers) and before.timezone == after.timezone:
                codes.append(self._put_time(after, zone=False))  # else the time zone write set the mode
        elif resource == "osd_text":
            body = f"<VideoInputChannel>{x('id', 1)}{x('inputPort', 1)}{x('name', after.osd_text)}</VideoInputChannel>"
            codes.append(self.put("PUT", "/ISAPI/System/Video/inputs/channels/1", body))
        elif resource in ("main", "sub"):
            settings = after.main if resource == "main" else after.sub
            assert settings is not None
            sid = 101 if resource == "main" else 102
            smart = f"{resource}.smart_codec" not in self.unsupported
            codes.append(self.put("PUT", f"/ISAPI/Streaming/channels/{sid}", _stream_body(sid, settings, smart)))
        elif resource == "services":
            for switch, (part, root) in SERVICES.items():
                wanted = getattr(after.services, switch)
                if getattr(before.services, switch) != wanted:
                    codes.append(
                        self.put("PUT", f"/ISAPI/System/Network/{part}", f"<{root}>{x('enabled', wanted)}</{root}>")
                    )
        elif resource == "masks":
            codes.append(
                self.put("PUT", "/ISAPI/System/Video/inputs/channels/1/privacyMask", self._mask_body(after.masks))
            )
        elif resource == "osd_time":
            assert after.osd_time is not None
            codes.append(self.put("PUT", OVERLAYS, self._osd_time_body(after.osd_time)))
        else:
            raise ValueError(f"unknown resource {resource!r}")
        return 7 in codes

    def _osd_time_body(self, wanted: OsdTime) -> str:
        """The overlays document as read, with the ``DateTimeOverlay`` values set (its other children, the
        channel name and text overlays kept: a partial document may clear what it leaves out [?])."""
        style = TIME_STYLES_BACK.get(wanted.time_format)
        if style is None:
            raise ValueError(f"{self.device_id}: time format {wanted.time_format!r} has no ISAPI timeStyle")
        fw, fh = self._osd_frame
        values = {
            "enabled": wanted.enabled,
            "positionX": round(wanted.x * fw),
            "positionY": round((1 - wanted.y) * fh),
            "dateStyle": wanted.date_format,
            "timeStyle": style,
            "displayWeek": wanted.show_week,
        }
        doc = self._overlays or '<VideoOverlay xmlns="http://www.hikvision.com/ver20/XMLSchema"></VideoOverlay>'
        doc = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", doc)
        m = re.search(r"<DateTimeOverlay\b[^>]*>(.*?)</DateTimeOverlay>", doc, re.DOTALL)
        if m is None:
            block = "".join(x(tag, value) for tag, value in values.items())
            return doc.replace("</VideoOverlay>", f"<DateTimeOverlay>{block}</DateTimeOverlay></VideoOverlay>", 1)
        inner = m.group(1)
        for tag, value in values.items():
            element = x(tag, value)
            inner, found = re.subn(rf"<{tag}>[^<]*</{tag}>|<{tag}\s*/>", lambda _m, e=element: e, inner, count=1)
            if not found:
                inner += element
        return doc[: m.start(1)] + inner + doc[m.end(1) :]

    def _put_time(self, after: DesiredConfig, *, zone: bool) -> int:
        wanted = zone_from_label(after.timezone)
        if zone and wanted is None:
            raise ValueError(f"{self.device_id}: time zone {after.timezone!r} is not a time-zone label")
        body = x("timeMode", "NTP" if after.ntp_servers else "manual")
        if zone and wanted is not None:
            body += x("timeZone", hik_zone_text(wanted))  # daylight saving and its rules written in full
        return self.put("PUT", "/ISAPI/System/time", f"<Time>{body}</Time>")

    def _mask_body(self, masks: tuple[Mask, ...]) -> str:
        fw, fh = self._frame
        regions = ""
        for i, m in enumerate(masks, 1):
            x1, y1, x2, y2 = (round(v * s) for v, s in zip(m.edges(), (fw, fh, fw, fh), strict=True))
            corners = ((x1, y1), (x2, y1), (x2, y2), (x1, y2))
            coords = "".join(
                f"<RegionCoordinates>{x('positionX', cx)}{x('positionY', cy)}</RegionCoordinates>" for cx, cy in corners
            )
            regions += f"<PrivacyMaskRegion>{x('id', i)}{x('enabled', True)}<RegionCoordinatesList>{coords}</RegionCoordinatesList></PrivacyMaskRegion>"
        size = f"<normalizedScreenSize>{x('normalizedScreenWidth', fw)}{x('normalizedScreenHeight', fh)}</normalizedScreenSize>"
        return f"<PrivacyMask>{x('enabled', bool(masks))}{size}<PrivacyMaskRegionList>{regions}</PrivacyMaskRegionList></PrivacyMask>"


def _ntp_server(server: str) -> str:
    is_ip = bool(re.fullmatch(r"[\d.]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*", server))
    where = (
        x("addressingFormatType", "ipaddress") + x("ipAddress", server)
        if is_ip
        else x("addressingFormatType", "hostname") + x("hostName", server)
    )
    return f"<NTPServer>{x('id', 1)}{where}{x('portNo', 123)}</NTPServer>"


def _stream_body(sid: int, s: StreamSettings, smart: bool = False) -> str:
    """A partial ``StreamingChannel``; ``smart``: the stream has a ``SmartCodec`` switch to write (never sent to
    one without: the camera would refuse the element)."""
    codec = CODECS_BACK.get(s.codec)
    if codec is None:
        raise ValueError(f"codec {s.codec!r} has no ISAPI name")
    rate = x("constantBitRate", s.bitrate_kbps) if s.bitrate_mode == "cbr" else x("vbrUpperCap", s.bitrate_kbps)
    video = (
        x("videoCodecType", codec)
        + x("videoResolutionWidth", s.width)
        + x("videoResolutionHeight", s.height)
        + x("videoQualityControlType", s.bitrate_mode.upper())
        + rate
        + x("maxFrameRate", s.fps * 100)
        + x("GovLength", s.gop)
    )
    if smart:  # after the profile elements, as the cameras recorded order them
        video += f"<SmartCodec>{x('enabled', s.smart_codec)}</SmartCodec>"
        if s.smart_codec and s.average_kbps is not None:
            video += x("vbrAverageCap", s.average_kbps)
    return f"<StreamingChannel>{x('id', sid)}<Video>{video}</Video></StreamingChannel>"


# --------------------------------------------------------------------------- NVR


class HikvisionNvr(IsapiDevice, RecorderDriver):
    """A Hikvision NVR: IP-camera channels (``InputProxy``), record tracks, disks, footage search."""

    name = "hikvision_isapi_nvr"
    #: How the search reads and writes ``...Z`` times: ``utc``, or ``local`` wall clock (many NVRs do,
    #: docs/reference/footage.md §1.5); set from the inventory's ``footage_time_basis``.
    time_basis: str = "utc"
    _offset_s: int | None = None
    _by_time: bool | None = None

    def protocol_for(self, vendor: str) -> str:
        """``proxyProtocol``: Hikvision's own SDK protocol for its cameras, ONVIF for every other make."""
        return "HIKVISION" if vendor == "hikvision" else "ONVIF"

    def snapshot(self, channel: int = 1) -> bytes:
        return self._jpeg(f"/ISAPI/Streaming/channels/{channel}01/picture")

    # ----------------------------------------------------------------- channels

    def _channel(self, el: Element) -> Channel:
        return Channel(
            number=_int(text(el, "id")),
            name=text(el, "name") or "",
            address=text(el, "sourceInputPortDescriptor/ipAddress")
            or text(el, "sourceInputPortDescriptor/hostName")
            or "",
            port=_int(text(el, "sourceInputPortDescriptor/managePortNo")),
            protocol=(text(el, "sourceInputPortDescriptor/proxyProtocol") or "").upper(),
            username=text(el, "sourceInputPortDescriptor/userName") or "",
        )

    def channels(self) -> list[Channel]:
        doc = self.get("/ISAPI/ContentMgmt/InputProxy/channels")
        return [self._channel(c) for c in findall(doc, "InputProxyChannel")]

    def _get_channel(self, n: int) -> Channel | None:
        try:
            return self._channel(self.get(f"/ISAPI/ContentMgmt/InputProxy/channels/{n}"))
        except Unsupported:
            return None
        except DeviceError as err:
            if err.http_status in (403, 404):
                return None
            raise

    def set_channel(
        self,
        n: int,
        address: str,
        port: int,
        username: str,
        password: str,
        name: str,
        *,
        protocol: str = "HIKVISION",
        rewrite_password: bool = False,
    ) -> bool:
        current = self._get_channel(n)
        wanted = Channel(n, name, address, port, protocol.upper(), username)
        if current == wanted and not rewrite_password:
            return False
        src = (
            x("proxyProtocol", wanted.protocol)
            + x("addressingFormatType", "ipaddress")
            + x("ipAddress", address)
            + x("managePortNo", port)
            + x("srcInputPort", 1)
            + x("userName", username)
        )
        if current is None or rewrite_password:
            src += x("password", password)
        body = f"<InputProxyChannel>{x('id', n)}{x('name', name)}<sourceInputPortDescriptor>{src}</sourceInputPortDescriptor></InputProxyChannel>"
        if current is None:
            self.put("POST", "/ISAPI/ContentMgmt/InputProxy/channels", body)
        else:
            self.put("PUT", f"/ISAPI/ContentMgmt/InputProxy/channels/{n}", body)
        return True

    def delete_channel(self, n: int) -> bool:
        if self._get_channel(n) is None:
            return False
        self.put("DELETE", f"/ISAPI/ContentMgmt/InputProxy/channels/{n}")
        return True

    def channel_status(self) -> dict[int, ChannelState]:
        """Online from ``InputProxy/channels/status`` (a missing ``<online>`` is unknown, not
        offline); recording from ``record/status`` where the NVR offers it [?].
        """
        online: dict[int, tuple[bool | None, str | None]] = {}
        for st in findall(self.get("/ISAPI/ContentMgmt/InputProxy/channels/status"), "InputProxyChannelStatus"):
            online[_int(text(st, "id"))] = (_bool(text(st, "online")), text(st, "chanDetectResult"))
        recording: dict[int, bool | None] = {}
        try:
            for rs in findall(self.get("/ISAPI/ContentMgmt/record/status"), "RecordStatus"):
                recording[_int(text(rs, "id")) // 100] = _bool(text(rs, "recording"))
        except Unsupported:
            pass
        except DeviceError as err:
            if err.http_status not in (403, 404):
                raise
        return {n: ChannelState(on, recording.get(n), detail) for n, (on, detail) in sorted(online.items())}

    def channel_identities(self) -> dict[int, ChannelIdentity]:
        """What each channel's camera said it is when the NVR connected: ``model``, ``serialNumber``
        (and ``macAddress`` on some firmware) inside ``sourceInputPortDescriptor`` of
        ``InputProxy/channels`` (device-apis.md §1, docs/reference/devices.md §9); a channel without
        any of them is left out (the recorder does not say)."""
        out: dict[int, ChannelIdentity] = {}
        for el in findall(self.get("/ISAPI/ContentMgmt/InputProxy/channels"), "InputProxyChannel"):
            src = "sourceInputPortDescriptor/"
            serial, mac, model = (
                (text(el, src + tag) or "").strip() or None for tag in ("serialNumber", "macAddress", "model")
            )
            if serial or mac or model:
                number = _int(text(el, "id"))
                address = text(el, src + "ipAddress") or text(el, src + "hostName")
                out[number] = ChannelIdentity(number, serial, mac, model, address)
        return out

    # ----------------------------------------------------------------- schedules

    def recording_schedule(self, n: int) -> str:
        return _schedule_mode(self.get(f"/ISAPI/ContentMgmt/record/tracks/{n}01", root="Track"))

    def set_recording_schedule(self, n: int, continuous: bool = True) -> bool:
        """Every day 00:00-24:00 CMR with the schedule switched on (``enableSchedule``), or the switch off;
        the track's other extension settings (pre/post-record, audio) are written back as read."""
        track = self.get(f"/ISAPI/ContentMgmt/record/tracks/{n}01", root="Track")
        mode = _schedule_mode(track)
        if mode == ("continuous" if continuous else "none"):
            return False
        loop = text(track, "LoopEnable") or "true"
        actions = ""
        if continuous:
            for i, day in enumerate(DAYS, 1):
                actions += (
                    f"<ScheduleAction>{x('id', i)}"
                    f"<ScheduleActionStartTime>{x('DayOfWeek', day)}{x('TimeOfDay', '00:00:00')}</ScheduleActionStartTime>"
                    f"<ScheduleActionEndTime>{x('DayOfWeek', day)}{x('TimeOfDay', '24:00:00')}</ScheduleActionEndTime>"
                    f"{x('ScheduleDSTEnable', False)}{x('Description', 'nothing')}"
                    f"<Actions>{x('Record', True)}{x('ActionRecordingMode', 'CMR')}</Actions></ScheduleAction>"
                )
        count = len(DAYS) if continuous else 0
        block = (
            f'<ScheduleBlock ScheduleActionSize="{count}">'
            "<ScheduleBlockGUID>{00000000-0000-0000-0000-000000000000}</ScheduleBlockGUID>"
            f"{x('ScheduleBlockType', 'www.std-cgi.com/racm/schedule/ver10')}{actions}</ScheduleBlock>"
        )
        body = (
            f"<Track>{x('id', n * 100 + 1)}{x('Channel', n * 100 + 1)}{x('Enable', continuous)}{x('LoopEnable', loop)}"
            f"<TrackSchedule><ScheduleBlockList>{block}</ScheduleBlockList></TrackSchedule>"
            f"{_track_extension(track, continuous)}</Track>"
        )
        self.put("PUT", f"/ISAPI/ContentMgmt/record/tracks/{n}01", body)
        return True

    # ----------------------------------------------------------------- disks

    def disks(self) -> list[Disk]:
        """Local disks (``hddList/hdd``, kind from ``hddType``) and network volumes (``nasList/nas``,
        kind ``nas``, ``source`` its address, path and mount type); MiB on the wire."""
        doc = self.get("/ISAPI/ContentMgmt/Storage", root="storage")
        mib = 2**20
        out = [
            Disk(
                slot=_int(text(h, "id")),
                capacity_bytes=_int(text(h, "capacity")) * mib,
                free_bytes=_int(text(h, "freeSpace")) * mib,
                status=text(h, "status") or "unknown",
                property=text(h, "property"),
                kind=(text(h, "hddType") or "hdd").lower(),
            )
            for h in findall(doc, "hddList/hdd")
        ]
        for nas in findall(doc, "nasList/nas"):
            where = text(nas, "ipAddress") or text(nas, "hostName") or "?"
            mount = text(nas, "mountType") or text(nas, "nasType")
            out.append(
                Disk(
                    slot=_int(text(nas, "id")),
                    capacity_bytes=_int(text(nas, "capacity")) * mib,
                    free_bytes=_int(text(nas, "freeSpace")) * mib,
                    status=text(nas, "status") or "unknown",
                    property=text(nas, "property"),
                    kind="nas",
                    source=f"{where}:{text(nas, 'path') or ''}" + (f" ({mount})" if mount else ""),
                )
            )
        return out

    def format_disk(self, slot: int) -> None:
        self.put("PUT", f"/ISAPI/ContentMgmt/Storage/hdd/{slot}/format", timeout=max(self.timeout, 120.0))

    def overwrite(self) -> bool | None:
        """The tracks' ``LoopEnable`` (device-apis.md, record/tracks): off on any track is off; None with no track."""
        loops = [_bool(text(t, "LoopEnable")) for t in findall(self.get("/ISAPI/ContentMgmt/record/tracks"), "Track")]
        known = [loop for loop in loops if loop is not None]
        return all(known) if known else None

    def set_overwrite(self, on: bool) -> None:
        """``<hdd><overWrite>`` on each local disk (device-apis.md, Storage/hdd [L])."""
        for disk in self.disks():
            if disk.kind != "nas":
                body = f"<hdd>{x('id', disk.slot)}{x('property', disk.property or 'RW')}{x('overWrite', on)}</hdd>"
                self.put("PUT", f"/ISAPI/ContentMgmt/Storage/hdd/{disk.slot}", body)

    # ----------------------------------------------------------------- footage

    def find_footage(self, channel: int, start: dt.datetime, end: dt.datetime) -> list[Recording]:
        """The channel's recording files overlapping the window (``POST /ISAPI/ContentMgmt/search``, paged
        while ``MORE``), main-stream track ``<channel>01``, de-duplicated and sorted."""
        track = channel * 100 + 1
        found: dict[tuple[str, dt.datetime], Recording] = {}
        position = 0
        for _ in range(SEARCH_MAX_PAGES):
            items, more = self._search_items(track, start, end, position, SEARCH_PAGE)
            before = len(found)
            for item in items:
                found.setdefault((item.name or item.handle, item.start), item)
            if not more or len(found) == before:  # done, or a page that only repeats what came (a stuck MORE)
                break
            position += len(items)
        return sorted(found.values(), key=lambda r: r.start)

    def download_footage(
        self, recording: Recording, sink: BinaryIO, *, within: tuple[dt.datetime, dt.datetime] | None = None
    ) -> Recording:
        """``/ISAPI/ContentMgmt/download`` of the search's ``playbackURI`` (a program stream), streamed to
        ``sink``. Where the recorder says it downloads by time (``download/capabilities``), only the
        part ``within`` the window, by the URI's ``starttime``/``endtime``; else the whole file. GET with
        the XML body, as most firmware takes it; POST when the recorder refuses that method
        (docs/reference/footage.md §2.1)."""
        delivered, uri = recording, recording.handle
        if within is not None and self.downloads_by_time():
            a, b = max(recording.start, within[0]), min(recording.end, within[1])
            if (a, b) != (recording.start, recording.end):
                uri = _with_times(uri, self._search_time(a), self._search_time(b))
                delivered = dataclasses.replace(recording, start=a, end=b, handle=uri, size_bytes=None)
        body = (
            '<downloadRequest version="1.0" xmlns="http://www.isapi.org/ver20/XMLSchema">'
            f"{x('playbackURI', uri)}</downloadRequest>"
        )
        try:
            written = self._download("GET", body, sink)
        except DeviceError as err:
            if err.http_status not in (400, 405) and err.sub_status != "methodNotAllowed":
                raise
            written = self._download("POST", body, sink)
        if delivered.size_bytes is not None and written < delivered.size_bytes:
            raise MalformedReply(
                self.device_id, f"download of {recording.name or recording.handle} stopped at {written} of "
                f"{delivered.size_bytes} bytes"
            )  # fmt: skip
        return dataclasses.replace(delivered, size_bytes=written)

    def downloads_by_time(self) -> bool:
        """``GET /ISAPI/ContentMgmt/download/capabilities`` says ``isSupportDownloadbyTime`` (asked once);
        False where the recorder does not answer it (docs/reference/footage.md §2.1: some refuse)."""
        if self._by_time is None:
            try:
                self._by_time = bool(
                    _bool(text(self.get("/ISAPI/ContentMgmt/download/capabilities"), "isSupportDownloadbyTime"))
                )
            except (Unsupported, DeviceError):
                self._by_time = False
        return self._by_time

    def _download(self, method: str, body: str, sink: BinaryIO) -> int:
        what = f"{method} /ISAPI/ContentMgmt/download"
        headers = {"Content-Type": "application/xml; charset=UTF-8"}
        with self.session.stream(method, "/ISAPI/ContentMgmt/download", content=body.encode(), headers=headers) as resp:
            if resp.status_code >= 400 or resp.headers.get("content-type", "").startswith(
                ("application/xml", "text/xml")
            ):
                resp.read()
                if resp.status_code == 401:
                    raise self._auth_error(resp, what)
                if resp.status_code >= 400:
                    raise self._device_error(resp, what)
                self._status(self.parse(resp, what), resp, what)  # an XML answer to a download is an error
                raise MalformedReply(self.device_id, f"{what} answered XML, not footage", _snippet(resp))
            written = 0
            for chunk in body_chunks(resp):
                sink.write(chunk)
                written += len(chunk)
            return written

    def playback_url(self, recording: Recording, rtsp_port: int = 554) -> str:
        """The recording's RTSP playback URL at this recorder's address (the search's URI may carry another
        host or the HTTP port, docs/reference/footage.md §1.4); without credentials."""
        parts = urlsplit(recording.handle)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return urlunsplit(("rtsp", f"{host}:{rtsp_port}", parts.path, parts.query, ""))

    def lock_footage(self, channel: int, start: dt.datetime, end: dt.datetime) -> None:
        raise Unsupported(
            self.device_id,
            "no ISAPI call locks recordings (only the vendor SDK's NET_DVR_LockFileByName over port 8000 does, "
            "unconfirmed here): export before the recorder overwrites them",
        )

    def _basis_offset(self) -> int:
        if self._offset_s is None:
            self._offset_s = self.time().utc_offset_s
        return self._offset_s

    def _search_time(self, when: dt.datetime) -> str:
        """A search time as this recorder reads it: UTC, or its wall clock marked ``Z`` all the same."""
        when = when.astimezone(dt.UTC)
        if self.time_basis == "local":
            when = when + dt.timedelta(seconds=self._basis_offset())
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _found_time(self, value: str) -> dt.datetime:
        when = _utc(value)
        if self.time_basis == "local":
            when = when - dt.timedelta(seconds=self._basis_offset())
        return when

    def search_recordings(self, channel: int) -> RecordingRange:
        """Oldest start: the first match of a search from 2000 to now. Newest end: the last page
        of a search over a recent window, widened (1, 7, 31, 366 days, all) until it matches.
        Times are read as UTC, as the ``Z`` says (device-apis.md §1.14 warns some NVRs mean local).
        """
        track = channel * 100 + 1
        now = self.time().device_utc
        end = now + dt.timedelta(days=1)
        first, _ = self._search(track, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), end, 0, 1)
        if not first:
            return RecordingRange(None, None)
        oldest = first[0][0]
        for days in (1, 7, 31, 366, None):
            start = now - dt.timedelta(days=days) if days is not None else oldest
            newest = self._last_match(track, start, end)
            if newest is not None:
                return RecordingRange(oldest, newest)
        return RecordingRange(oldest, None)

    def _last_match(self, track: int, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
        position, last = 0, None
        for _ in range(SEARCH_MAX_PAGES):
            matches, more = self._search(track, start, end, position, SEARCH_PAGE)
            if matches:
                last = matches[-1][1]
            if not more or not matches:
                return last
            position += len(matches)
        return last

    def _search(
        self, track: int, start: dt.datetime, end: dt.datetime, position: int, limit: int
    ) -> tuple[list[tuple[dt.datetime, dt.datetime]], bool]:
        items, more = self._search_items(track, start, end, position, limit)
        return [(i.start, i.end) for i in items], more

    def _search_items(
        self, track: int, start: dt.datetime, end: dt.datetime, position: int, limit: int
    ) -> tuple[list[Recording], bool]:
        body = (
            f"<CMSearchDescription>{x('searchID', str(uuid.uuid4()).upper())}"
            f"<trackIDList>{x('trackID', track)}</trackIDList>"
            f"<timeSpanList><timeSpan>{x('startTime', self._search_time(start))}"
            f"{x('endTime', self._search_time(end))}</timeSpan></timeSpanList>"
            f"{x('maxResults', limit)}{x('searchResultPostion', position)}"
            "<metadataList><metadataDescriptor>//recordType.meta.std-cgi.com</metadataDescriptor></metadataList>"
            "</CMSearchDescription>"
        )
        resp = self.call("POST", "/ISAPI/ContentMgmt/search", body)
        el = self.parse(resp, "POST /ISAPI/ContentMgmt/search")
        self._status(el, resp, "POST /ISAPI/ContentMgmt/search")
        items = []
        for item in findall(el, "matchList/searchMatchItem"):
            a, b = text(item, "timeSpan/startTime"), text(item, "timeSpan/endTime")
            if a is None or b is None:
                continue
            try:
                span = (self._found_time(a), self._found_time(b))
            except ValueError:
                raise MalformedReply(self.device_id, "search match time is not ISO 8601", f"{a} / {b}") from None
            uri = text(item, "mediaSegmentDescriptor/playbackURI") or ""
            query = parse_qs(urlsplit(uri).query)
            name = text(item, "mediaSegmentDescriptor/name") or (query.get("name") or [""])[0]
            sizes = query.get("size")
            size = _int(sizes[0] if sizes else None, -1)
            lock = text(item, "mediaSegmentDescriptor/lockStatus")
            items.append(
                Recording(
                    channel=track // 100,
                    start=span[0],
                    end=span[1],
                    handle=uri,
                    name=name,
                    size_bytes=size if size >= 0 else None,
                    locked=None if lock is None else lock.lower() == "lock",
                )
            )
        return items, (text(el, "responseStatusStrg") or "").upper() == "MORE"


def _with_times(uri: str, start: str, end: str) -> str:
    """The playback URI asking for ``start``..``end`` (ISAPI times) instead of its file's span."""
    compact = {k: v.replace("-", "").replace(":", "") for k, v in (("starttime", start), ("endtime", end))}
    parts = urlsplit(uri)
    query = [(k, compact.get(k, v[-1])) for k, v in parse_qs(parts.query, keep_blank_values=True).items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(f"{k}={v}" for k, v in query), ""))


def _utc(value: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


WEEK_S = 7 * 86400


def _schedule_mode(track: Element) -> str:
    """continuous (CMR around the whole week), event (anything else recorded) or none.

    The switch is ``CustomExtension/enableSchedule``: real recorders read ``Track/Enable`` false on every
    recording track, so ``Enable`` counts only where the extension is missing (older firmware [?]).
    A day is ``Monday 00:00:00 → Monday 24:00:00`` or ``Monday 00:00:00 → Tuesday 00:00:00`` (Sunday's
    ends on Monday); spans are joined over the week before asking whether CMR covers all of it.
    """
    switch = _bool(text(track, "CustomExtensionList/CustomExtension/enableSchedule"))
    if switch is False or (switch is None and _bool(text(track, "Enable")) is False):
        return "none"
    spans: list[tuple[int, int]] = []
    modes: set[str] = set()
    for action in findall(track, "TrackSchedule/ScheduleBlockList/ScheduleBlock/ScheduleAction"):
        if _bool(text(action, "Actions/Record")) is False:
            continue
        mode = (text(action, "Actions/ActionRecordingMode") or "CMR").upper()
        modes.add(mode)
        start = _week_second(
            text(action, "ScheduleActionStartTime/DayOfWeek"), text(action, "ScheduleActionStartTime/TimeOfDay")
        )
        end = _week_second(
            text(action, "ScheduleActionEndTime/DayOfWeek"), text(action, "ScheduleActionEndTime/TimeOfDay")
        )
        if mode != "CMR" or start is None or end is None:
            continue
        if end <= start:
            end += WEEK_S  # Sunday 00:00 → Monday 00:00 wraps to the week's start
        spans += [(start, min(end, WEEK_S))] + ([(0, end - WEEK_S)] if end > WEEK_S else [])
    if not modes:
        return "none"
    reached = 0
    for a, b in sorted(spans):
        if a > reached:
            break
        reached = max(reached, b)
    return "continuous" if reached >= WEEK_S else "event"


def _week_second(day: str | None, time_of_day: str | None) -> int | None:
    """Seconds from Monday 00:00 (``24:00:00`` allowed); None for a day or time that is not one."""
    if day not in DAYS or time_of_day is None:
        return None
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", time_of_day.strip())
    if m is None:
        return None
    return DAYS.index(day) * 86400 + int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)


def _track_extension(track: Element, on: bool) -> str:
    """The track's ``CustomExtensionList`` with ``enableSchedule`` set: the extension name and the plain
    settings as read (pre/post-record seconds, audio), nested blocks (``HolidaySchedule``) left out."""
    ext = find(track, "CustomExtensionList/CustomExtension")
    kept = ""
    name = "www.hikvision.com/RaCM/trackExt/ver10"
    if ext is not None:
        for child in ext:
            tag = local(child.tag)
            if tag == "CustomExtensionName":
                name = (child.text or "").strip() or name
            elif tag != "enableSchedule" and len(child) == 0 and re.fullmatch(r"[A-Za-z][\w.-]*", tag):
                kept += x(tag, (child.text or "").strip())
    return (
        f"<CustomExtensionList><CustomExtension>{x('CustomExtensionName', name)}{x('enableSchedule', on)}"
        f"{kept}</CustomExtension></CustomExtensionList>"
    )
