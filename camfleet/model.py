"""The inventory schema: what a town's camera network is made of.

Every inventory file of a town folder is one :class:`InventoryFile`; the
loader (:mod:`camfleet.inventory`) merges the files of a folder into one
:class:`Fleet` and runs the cross-checks no single file can.

Personal data stays out of this schema on purpose: households are ids with an
owner kind and a consent record; their names and phone numbers live only in
the town's ansible-vault file, keyed by the same ids.

    .venv/bin/camfleet schema -o schema/inventory.schema.json
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
Id = Annotated[
    str,
    Field(
        pattern=ID_PATTERN,
        description="Identifier: lower-case letters, digits and '-', e.g. cam-kp01-03.",
    ),
]
MAC_PATTERN = r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4_PATTERN = rf"^({_OCTET}\.){{3}}{_OCTET}$"
IPV4_PREFIX_PATTERN = rf"^({_OCTET}\.){{3}}{_OCTET}/(3[0-2]|[12]?[0-9])$"
# Addresses stay strings checked by pattern: Python's ipaddress parser costs more than the
# rest of validation together on a district-sized inventory; checks convert where they compute.
IPv4 = Annotated[str, Field(pattern=IPV4_PATTERN, json_schema_extra={"format": "ipv4"})]
IPv4Prefix = Annotated[str, Field(pattern=IPV4_PREFIX_PATTERN)]
Port = Annotated[int, Field(ge=1, le=65535)]
Vnd = Annotated[int, Field(ge=0, description="Amount in Vietnamese dong (VND).")]


class Strict(BaseModel):
    """Base of every inventory model: unknown fields are errors, not ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=False)


class CameraKind(StrEnum):
    """Loại hình: a community camera re-aimed at the street, or a town camera."""

    community = "community"
    town = "town"


class CameraStatus(StrEnum):
    """Lifecycle of a camera eye, from the survey to retirement."""

    planned = "planned"
    surveyed = "surveyed"
    installed = "installed"
    commissioned = "commissioned"
    faulty = "faulty"
    retired = "retired"


#: Statuses of a camera that is mounted and reachable (or should be).
DEPLOYED = frozenset({CameraStatus.installed, CameraStatus.commissioned, CameraStatus.faulty})


class OwnerKind(StrEnum):
    """Who owns a community camera or hosts a town camera."""

    household = "household"
    business = "business"
    agency = "agency"
    school = "school"


class CampaignStep(StrEnum):
    """Where the loại hình 1 campaign is with a community camera: its owner's camera was surveyed, the
    owner was asked to turn it to the street, it was re-aimed, and the khu phố head confirmed the view."""

    surveyed = "surveyed"
    asked = "asked"
    re_aimed = "re_aimed"
    confirmed = "confirmed"


class TownKind(StrEnum):
    """The kind of administrative unit running the plan (xã, phường and thị trấn all run such plans)."""

    xa = "xã"
    phuong = "phường"
    thi_tran = "thị trấn"


class Funding(StrEnum):
    """Which fund pays for an item of the plan."""

    site_fund = "site_fund"  # quỹ khu phố
    town_board = "town_board"  # Ban vận động xã/phường/thị trấn (xã hội hóa): the station's recorders, disks, screens
    owner = "owner"  # the owner's own camera, no cost to the plan
    donation = "donation"  # xã hội hóa


class Vendor(StrEnum):
    """Camera and recorder makers seen in the field."""

    hikvision = "hikvision"
    dahua = "dahua"
    ezviz = "ezviz"
    imou = "imou"
    tplink = "tplink"
    kbvision = "kbvision"
    other = "other"


class Codec(StrEnum):
    """Video codec of a stream profile."""

    h264 = "h264"
    h265 = "h265"


class RouterRole(StrEnum):
    """A link router sits at a camera site, or is the station's core router."""

    site = "site"
    core = "core"


class Cost(Strict):
    """What an item costs the plan, and which fund pays."""

    amount_vnd: Vnd = Field(description="Cost in VND, installed (device, bracket, cable, labour).")
    funding: Funding = Field(description="The fund that pays: site_fund, town_board, owner or donation.")


# --------------------------------------------------------------------------- town


class BoundingBox(Strict):
    """The town's extent; every coordinate in the inventory must lie inside."""

    south: float = Field(ge=-90, le=90, description="Southern latitude, decimal degrees.")
    west: float = Field(ge=-180, le=180, description="Western longitude, decimal degrees.")
    north: float = Field(ge=-90, le=90, description="Northern latitude, decimal degrees.")
    east: float = Field(ge=-180, le=180, description="Eastern longitude, decimal degrees.")

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


class Station(Strict):
    """The police station (Công an xã, phường or thị trấn: ``Town.kind``) where the recorders are."""

    name: str = Field(description="Station name as printed on documents.")
    lat: float = Field(ge=-90, le=90, description="Latitude, decimal degrees.")
    lon: float = Field(ge=-180, le=180, description="Longitude, decimal degrees.")
    duty_phone: str = Field(
        pattern=r"^\+?[0-9 .]{6,20}$",
        description="The station's public duty phone, printed on every 'CAMERA AN NINH' sign.",
    )
    wireguard_endpoint: str | None = Field(
        default=None,
        description="Public address or name the site link routers dial for the WireGuard tunnel to the station.",
    )
    wireguard_port: Port = Field(default=13231, description="UDP port of the station's WireGuard endpoint.")


class Budget(Strict):
    """The approved plan the inventory's costs must add up to."""

    plan_ref: str = Field(description="Reference of the plan (kế hoạch), e.g. its number and date.")
    plan_date: dt.date = Field(description="Date the plan was approved.")
    plan_total_vnd: Vnd = Field(description="Total of the plan in VND; the inventory's costs must equal it.")
    mobilisation_by: dt.date | None = Field(
        default=None,
        description="The plan's date for the loại hình 1 campaign to be done: owners asked, cameras re-aimed, "
        "commitments signed (the progress report counts what is late against it).",
    )
    install_from: dt.date | None = Field(default=None, description="The plan's first day of town camera installation.")
    install_to: dt.date | None = Field(
        default=None, description="The plan's last day of installation: town cameras installed, signs up."
    )


class StoragePolicy(Strict):
    """How recordings are kept."""

    retention_days: int = Field(ge=1, le=365, description="Days of 24/7 recording the town must keep.")
    usable_fraction: float = Field(
        default=0.92,
        gt=0,
        le=1,
        description="Share of raw disk capacity usable for video (file system, index, reserve).",
    )


class OsdClock(Strict):
    """The date/time overlay every town camera burns into its video (evidence of when a picture was
    taken). The baseline switches it on and puts it here; an audit finds it switched off or moved."""

    enabled: bool = Field(default=True, description="Show the date and time in the picture (keep it on: evidence).")
    date_format: Literal["YYYY-MM-DD", "DD-MM-YYYY", "MM-DD-YYYY"] = Field(
        default="YYYY-MM-DD", description="Date order: YYYY-MM-DD (unambiguous, the default), DD-MM-YYYY or MM-DD-YYYY."
    )
    time_format: Literal["24h", "12h"] = Field(default="24h", description="24-hour (default) or 12-hour clock.")
    show_week: bool = Field(default=False, description="Also show the day of the week.")
    x: float = Field(default=0.0, ge=0, le=1, description="Left edge, 0..1 of the frame width from the left.")
    y: float = Field(
        default=0.0556,
        ge=0,
        le=1,
        description="Top edge, 0..1 of the frame height from the top (0.0556: Hikvision's factory place, 32 of 576).",
    )


class AlertKind(StrEnum):
    """How the station's duty officer is reached."""

    telegram = "telegram"
    email = "email"
    webhook = "webhook"


class AlertReceiver(Strict):
    """One way Alertmanager reaches the station. Its secret (Telegram bot token, SMTP password, webhook
    bearer token) is ``vault_alerting_secrets[<id>]`` in the town's vault/secrets.yml, never here."""

    id: Id = Field(description="Name of this receiver; its secret's key in vault_alerting_secrets.")
    kind: AlertKind = Field(description="telegram, email or webhook (an SMS or Zalo gateway).")
    chat_id: int | None = Field(default=None, description="telegram: the duty group's chat id (negative for groups).")
    api_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="telegram: the Bot API server; default Telegram's own (https://api.telegram.org).",
    )
    to: str | None = Field(
        default=None, pattern=r"^[^@\s]+@[^@\s]+$", description="email: the duty mailbox the alerts go to."
    )
    sender: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", description="email: the From address.")
    smarthost: str | None = Field(
        default=None, pattern=r"^[^:\s]+:[0-9]+$", description="email: the SMTP server, HOST:PORT."
    )
    username: str | None = Field(
        default=None, description="email: the SMTP login (its password is the vault secret); none: no login."
    )
    url: str | None = Field(
        default=None, pattern=r"^https?://\S+$", description="webhook: the SMS or Zalo gateway's URL."
    )
    bearer: bool = Field(default=False, description="webhook: send the vault secret as an Authorization: Bearer token.")

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> AlertReceiver:
        needed = {
            AlertKind.telegram: ("chat_id",),
            AlertKind.email: ("to", "sender", "smarthost"),
            AlertKind.webhook: ("url",),
        }[self.kind]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(
                f"loại {self.kind.value} cần thêm {', '.join(missing)} / kind {self.kind.value} needs {', '.join(missing)}"
            )
        return self

    @property
    def has_secret(self) -> bool:
        """Whether Alertmanager reads a secret file for it (bot token, SMTP password, bearer token)."""
        return self.kind is AlertKind.telegram or bool(self.username) or self.bearer


class Alerting(Strict):
    """Where the station's alerts go (Alertmanager's receivers)."""

    receivers: list[AlertReceiver] = Field(
        min_length=1, description="Every way the duty officer is reached; each gets every alert."
    )


class SignLayout(Strict):
    """The printed 'CAMERA AN NINH' sign: its size as the plan has it (`camfleet report signs` fits as many as
    an A4 page holds)."""

    width_mm: int = Field(
        default=190, ge=50, le=190, description="Sign width in millimetres (at most A4's 190 usable)."
    )
    height_mm: int = Field(default=130, ge=40, le=277, description="Sign height in millimetres (at most A4's 277).")


class Town(Strict):
    """The town itself: one per inventory folder."""

    id: Id
    name: str = Field(description="Official name, e.g. 'Thị trấn Ngọc Lặc'.")
    kind: TownKind = Field(
        default=TownKind.thi_tran,
        description="xã, phường or thị trấn: the word every report, sign and message uses for the town.",
    )
    province: str = Field(description="Province (tỉnh).")
    district: str = Field(description="District (huyện).")
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="IANA time zone of every device.")
    ntp_servers: list[str] = Field(min_length=1, description="NTP servers the devices use, in order.")
    bbox: BoundingBox = Field(description="The town's bounding box.")
    station: Station = Field(description="The police station that records and answers the signs' phone.")
    budget: Budget = Field(description="The approved plan's budget.")
    storage: StoragePolicy = Field(description="Recording retention target and disk policy.")
    osd_clock: OsdClock = Field(
        default_factory=OsdClock,
        description="The date/time overlay of every camera's baseline (on, top left, YYYY-MM-DD 24h unless set).",
    )
    sign: SignLayout = Field(default_factory=SignLayout, description="Size of the printed 'CAMERA AN NINH' signs.")
    alerting: Alerting | None = Field(
        default=None,
        description="Where Alertmanager sends the alerts (Telegram, e-mail, webhook); none: shown in Alertmanager only.",
    )


# --------------------------------------------------------------------------- people and places


class Site(Strict):
    """A khu phố (neighbourhood): it owns cameras and a fund."""

    id: Id
    name: str = Field(description="Name, e.g. 'Khu phố 1'.")
    head_contact: Id | None = Field(
        default=None,
        description="Key of the khu phố head's contact in the vault (name and phone stay there).",
    )
    fund_vnd: Vnd = Field(description="What the khu phố fund has committed to its cameras, in VND.")


class Consent(Strict):
    """The owner's signed commitment (cam kết)."""

    signed_on: dt.date | None = Field(default=None, description="Date the commitment was signed; null if not yet.")
    document: str | None = Field(default=None, description="Reference of the signed paper, e.g. 'CK-KP01-003'.")
    footage_handover: bool = Field(default=False, description="Owner agrees to hand over footage when the police ask.")
    hosts_town_camera: bool = Field(
        default=False, description="Owner agrees to host a town camera: mounting, power and wifi."
    )
    retention_days: int | None = Field(
        default=None, ge=1, le=365, description="Days the owner keeps their own recordings, if known."
    )


class Household(Strict):
    """An owner or host, by id only: name and phone live in the vault."""

    id: Id
    site: Id = Field(description="The khu phố the household belongs to.")
    owner_kind: OwnerKind = Field(description="household, business, agency or school.")
    consent: Consent = Field(description="The signed commitment.")


# --------------------------------------------------------------------------- profiles and firmware


class StreamProfile(Strict):
    """A named stream setting applied to cameras (main or sub stream)."""

    id: Id
    codec: Codec = Field(description="h264 or h265.")
    width: int = Field(ge=160, le=7680, description="Width in pixels.")
    height: int = Field(ge=120, le=4320, description="Height in pixels.")
    fps: int = Field(ge=1, le=60, description="Frames per second.")
    bitrate_kbps: int = Field(ge=32, le=32768, description="Target (CBR) or cap (VBR) bitrate in kbit/s.")
    bitrate_mode: Literal["cbr", "vbr"] = Field(default="vbr", description="Constant or variable bitrate.")
    gop: int = Field(ge=1, le=400, description="Keyframe interval in frames (I-frame interval).")
    smart_codec: bool = Field(
        default=False,
        description=(
            "H.264+/H.265+ (Hikvision SmartCodec, Dahua Smart Codec): a long-term background reference, bits spent on"
            " what moves; recordings shrink, a still background loses detail. Main streams only on the cameras seen."
        ),
    )
    average_kbps: int | None = Field(
        default=None,
        ge=32,
        le=32768,
        description=(
            "With smart_codec: the average bitrate the encoder keeps over about a day, in kbit/s (Hikvision"
            " vbrAverageCap; at most bitrate_kbps, which stays the cap). Required with smart_codec; retention is"
            " planned on it."
        ),
    )

    @model_validator(mode="after")
    def _average_with_smart_codec(self) -> StreamProfile:
        if self.smart_codec and self.average_kbps is None:
            raise ValueError(
                "smart_codec cần average_kbps (bitrate trung bình để tính số ngày lưu) / "
                "smart_codec needs average_kbps (the average the retention plan counts)"
            )
        if not self.smart_codec and self.average_kbps is not None:
            raise ValueError(
                "average_kbps chỉ có nghĩa khi smart_codec: true / average_kbps means something only with smart_codec: true"
            )
        if self.average_kbps is not None and self.average_kbps > self.bitrate_kbps:
            raise ValueError(
                f"average_kbps {self.average_kbps} vượt mức trần bitrate_kbps {self.bitrate_kbps} / "
                f"average_kbps {self.average_kbps} is above the cap bitrate_kbps {self.bitrate_kbps}"
            )
        return self

    @property
    def recorded_kbps(self) -> int:
        """What a recorder stores per second on average planning: the average with smart_codec, else the
        cap (CBR: the rate; VBR: the worst case)."""
        return self.average_kbps if self.smart_codec and self.average_kbps is not None else self.bitrate_kbps


class FirmwareBuild(Strict):
    """An approved firmware file."""

    build: str = Field(description="Version string as the device reports it, e.g. 'V5.7.15 build 230519'.")
    file: str = Field(description="File name in the firmware store.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file, lower-case hex.")


class BadBuild(Strict):
    """A build known to be vulnerable or broken."""

    build: str = Field(description="Version string as the device reports it.")
    cves: list[str] = Field(default_factory=list, description="CVE ids, e.g. CVE-2021-36260.")
    note: str | None = Field(default=None, description="Why the build is bad.")


CVE_PATTERN = r"^CVE-\d{4}-\d{4,}$"


class VulnerableRange(Strict):
    """Builds a published advisory names as affected, compared in version order (Hikvision: version,
    then build date; Dahua: build date, then version), so a build the catalogue never saw is still
    caught. Give ``fixed_in`` (the first fixed build) or ``last_affected`` (the last affected one)."""

    cves: list[Annotated[str, Field(pattern=CVE_PATTERN)]] = Field(
        min_length=1, description="CVE ids the range is affected by, e.g. CVE-2021-36260."
    )
    affected_from: str | None = Field(
        default=None,
        description="First affected build (inclusive), as the device writes it; omit: every older build is affected.",
    )
    fixed_in: str | None = Field(
        default=None,
        description="First fixed build: every build before it (in version order) is affected, e.g. 'V5.5.800 build "
        "210628'. A version without a build date ('V5.5.0') stands for every build of that version.",
    )
    last_affected: str | None = Field(
        default=None,
        description="Last affected build (inclusive), when the advisory names that instead of a fixed build.",
    )
    note: str | None = Field(default=None, description="What the flaw does, in one line.")
    source: str | None = Field(default=None, description="Where the range comes from (advisory or NVD address).")


class FirmwareEntry(Strict):
    """Catalogue line: one device model, its approved build, its known-bad builds and vulnerable ranges."""

    vendor: Vendor = Field(description="Maker.")
    model: str = Field(description="Model as the device reports it, e.g. 'DS-2CD1023G2-LIU'.")
    approved: FirmwareBuild = Field(description="The build every device of this model should run.")
    known_bad: list[BadBuild] = Field(
        default_factory=list, description="Exact builds to move off, with reasons (broken or vulnerable)."
    )
    vulnerable: list[VulnerableRange] = Field(
        default_factory=list,
        description="Ranges of builds affected by published vulnerabilities, compared in version order.",
    )
    view: CameraView | None = Field(
        default=None,
        description="The model's field of view as mounted by default (its lens); a camera's location.view overrides it.",
    )


# --------------------------------------------------------------------------- cameras


class CameraView(Strict):
    """What a camera sees well enough to be useful: a cone from the lens along its bearing."""

    angle_deg: float = Field(gt=0, le=360, description="Horizontal field of view, degrees (a 2.8 mm lens: about 100).")
    range_m: float = Field(
        gt=0, le=500, description="Distance within which a person is recognisable, metres (about 30 for 2 MP)."
    )


class Location(Strict):
    """Where a camera is mounted and where it looks."""

    street: str = Field(description="Street or road, e.g. 'Đường Lê Lợi'.")
    landmark: str | None = Field(default=None, description="What the camera watches, e.g. 'Ngã tư chợ'.")
    address: str | None = Field(default=None, description="Mounting address (house number and street).")
    lat: float = Field(ge=-90, le=90, description="Latitude, decimal degrees (WGS84).")
    lon: float = Field(ge=-180, le=180, description="Longitude, decimal degrees (WGS84).")
    bearing_deg: int = Field(ge=0, lt=360, description="Compass direction the lens faces, 0 = north.")
    height_m: float = Field(default=3.5, gt=0, le=30, description="Mounting height in metres.")
    view: CameraView | None = Field(
        default=None,
        description="This camera's field of view, when it differs from its model's (firmware catalogue 'view') "
        "or the town default (90 degrees, 30 m).",
    )


class Device(Strict):
    """What is mounted: identity as the device reports it."""

    vendor: Vendor = Field(description="Maker.")
    model: str = Field(description="Model as the device reports it.")
    mac: str | None = Field(default=None, pattern=MAC_PATTERN, description="MAC, lower-case, colon-separated.")
    serial: str | None = Field(default=None, description="Serial number as the device reports it.")
    firmware: str | None = Field(default=None, description="Firmware build as last seen.")
    driver: str | None = Field(
        default=None,
        description="Driver override (e.g. hikvision_isapi); by default chosen from the vendor.",
    )


class Network(Strict):
    """How the station reaches a camera."""

    link: Id | None = Field(default=None, description="The household wifi link a town camera rides.")
    address: IPv4 | None = Field(default=None, description="Address the station reaches it at.")
    http_port: Port = Field(default=80, description="HTTP API port.")
    rtsp_port: Port = Field(default=554, description="RTSP port.")


class Streams(Strict):
    """Stream profiles of a camera."""

    main: Id = Field(description="Profile of the main stream, recorded 24/7.")
    sub: Id | None = Field(default=None, description="Profile of the sub stream, used for live view and probes.")


class RecorderSlot(Strict):
    """The recorder channel a camera is recorded on."""

    id: Id = Field(description="Recorder id.")
    channel: int = Field(ge=1, description="Channel number, from 1 to the recorder's capacity.")


class Sign(Strict):
    """The 'CAMERA AN NINH' sign under a town camera."""

    installed_on: dt.date | None = Field(default=None, description="Date the sign was put up; null if not yet.")
    photo: str | None = Field(
        default=None,
        pattern=r"^([A-Za-z0-9_][A-Za-z0-9_.-]*/)*[A-Za-z0-9_][A-Za-z0-9_.-]*\.(jpg|jpeg|png)$",
        description="Photo of the sign as put up, relative to the town folder, e.g. photos/signs/cam-01-t01.jpg.",
    )


class PrivacyMask(Strict):
    """A rectangle blacked out in the picture (a window, a yard), in 0..1 of the frame."""

    name: str = Field(description="What it hides, e.g. 'cửa sổ nhà bên'.")
    x: float = Field(ge=0, le=1, description="Left edge, share of the frame width.")
    y: float = Field(ge=0, le=1, description="Top edge, share of the frame height.")
    w: float = Field(gt=0, le=1, description="Width, share of the frame width.")
    h: float = Field(gt=0, le=1, description="Height, share of the frame height.")


class Camera(Strict):
    """A camera eye (mắt camera)."""

    id: Id
    kind: CameraKind = Field(description="community (owner's camera re-aimed) or town (paid by the plan).")
    status: CameraStatus = Field(description="planned, surveyed, installed, commissioned, faulty or retired.")
    site: Id = Field(description="The khu phố it belongs to.")
    household: Id | None = Field(default=None, description="Owner (community) or host (town) household id.")
    managed: bool | None = Field(
        default=None,
        description="Whether camfleet configures the device; default: true for town cameras, false for community.",
    )
    location: Location = Field(description="Mounting point and aim.")
    device: Device | None = Field(default=None, description="What is mounted; may be unknown while planned.")
    network: Network = Field(default_factory=Network, description="How the station reaches it.")
    stream: Streams | None = Field(default=None, description="Stream profiles; required for town cameras.")
    recorder: RecorderSlot | None = Field(default=None, description="Station recorder channel, if recorded there.")
    sign: Sign | None = Field(default=None, description="The 'CAMERA AN NINH' sign (town cameras).")
    privacy_masks: list[PrivacyMask] = Field(default_factory=list, description="Areas blacked out.")
    cost: Cost = Field(description="What it costs the plan and who pays.")
    campaign: CampaignStep | None = Field(
        default=None,
        description="Community cameras: the loại hình 1 campaign's step (surveyed, asked, re_aimed, confirmed); "
        "unset: read from the status (surveyed → surveyed, installed → re_aimed, commissioned → confirmed).",
    )

    @property
    def is_managed(self) -> bool:
        return self.managed if self.managed is not None else self.kind is CameraKind.town

    @model_validator(mode="after")
    def _campaign_of_community_cameras(self) -> Camera:
        if self.campaign is not None and self.kind is not CameraKind.community:
            raise ValueError(
                "campaign (bước vận động loại hình 1) chỉ dành cho camera loại hình 1; xóa dòng này hoặc đặt "
                "kind: community / campaign (the loại hình 1 campaign's step) is for community cameras only; "
                "remove it or set kind: community"
            )
        return self


# --------------------------------------------------------------------------- links and routers


class Link(Strict):
    """A household wifi uplink carrying a town camera to the station."""

    id: Id
    site: Id = Field(description="The khu phố.")
    household: Id = Field(description="The host household whose internet is used.")
    isp: str = Field(description="Internet provider, e.g. VNPT, Viettel, FPT.")
    uplink_mbps: float = Field(gt=0, le=10000, description="The household's upstream bandwidth, Mbit/s.")
    camera_share_mbps: float = Field(gt=0, le=10000, description="Upstream cap for the camera(s), Mbit/s.")
    router: Id = Field(description="The link router at the site.")
    camera_subnet: IPv4Prefix = Field(description="Subnet behind the router for the camera(s), routed via the tunnel.")
    tunnel_address: IPv4Prefix = Field(
        description="The router's WireGuard address toward the station, e.g. 10.77.0.11/24."
    )


class LinkRouter(Strict):
    """A router driven over SSH with netmiko: a site link router or the station core."""

    id: Id
    role: RouterRole = Field(description="site (at a camera site) or core (at the station).")
    site: Id | None = Field(default=None, description="The khu phố (site routers).")
    vendor: Literal["mikrotik", "openwrt"] = Field(description="mikrotik (RouterOS) or openwrt.")
    model: str = Field(description="Model, e.g. 'hAP ac lite'.")
    device_type: Literal["mikrotik_routeros", "linux"] = Field(
        description="netmiko device_type: mikrotik_routeros, or linux for OpenWrt."
    )
    address: IPv4 = Field(description="Management address (the tunnel address for site routers).")
    ssh_port: Port = Field(default=22, description="SSH port.")
    mac: str | None = Field(default=None, pattern=MAC_PATTERN, description="MAC, lower-case, colon-separated.")
    serial: str | None = Field(default=None, description="Serial number.")
    firmware: str | None = Field(default=None, description="OS version as last seen, e.g. '7.15.3'.")
    cost: Cost = Field(description="What it costs the plan and who pays.")


# --------------------------------------------------------------------------- station


class Disk(Strict):
    """A hard drive in a recorder."""

    slot: int = Field(ge=1, le=64, description="Bay number, from 1.")
    model: str = Field(description="Model, e.g. 'WD84PURZ'.")
    serial: str = Field(description="Serial number.")
    capacity_tb: float = Field(gt=0, le=100, description="Capacity as sold, decimal terabytes.")
    cost: Cost = Field(description="What it costs the plan and who pays.")

    @property
    def capacity_bytes(self) -> int:
        return int(self.capacity_tb * 10**12)


class Recorder(Strict):
    """An NVR (đầu ghi) at the station."""

    id: Id
    vendor: Vendor = Field(description="Maker.")
    model: str = Field(description="Model as the device reports it.")
    address: IPv4 = Field(description="Address on the station LAN.")
    http_port: Port = Field(default=80, description="HTTP API port.")
    rtsp_port: Port = Field(default=554, description="RTSP port.")
    mac: str | None = Field(default=None, pattern=MAC_PATTERN, description="MAC, lower-case, colon-separated.")
    serial: str | None = Field(default=None, description="Serial number.")
    firmware: str | None = Field(default=None, description="Firmware build as last seen.")
    channels: int = Field(ge=1, le=256, description="IP camera channels the recorder takes.")
    incoming_mbps: float = Field(gt=0, description="Incoming bandwidth the recorder can record, Mbit/s.")
    disk_bays: int = Field(ge=1, le=64, description="Number of SATA bays.")
    disks: list[Disk] = Field(default_factory=list, description="The hard drives fitted.")
    footage_time_basis: Literal["utc", "local"] = Field(
        default="utc",
        description="How the recorder's footage search reads '...Z' times: true UTC, or its local wall clock (many "
        "Hikvision NVRs do; check once against a recording of now).",
    )
    cost: Cost = Field(description="What the recorder itself costs and who pays.")


class AuthorityKind(StrEnum):
    """Which competent authority (cơ quan có thẩm quyền) footage may be handed to."""

    police = "police"  # Cơ quan Công an (huyện, tỉnh)
    procuracy = "procuracy"  # Viện kiểm sát
    court = "court"  # Tòa án


class Authority(Strict):
    """A competent authority the station hands footage to; its contacts stay in the vault."""

    id: Id
    name: str = Field(description="The authority's name as on its documents, e.g. 'Công an huyện Ngọc Lặc'.")
    kind: AuthorityKind = Field(description="police, procuracy or court.")
    contact: Id | None = Field(default=None, description="Key of its contact in the vault (vault/contacts.yml).")


class Officer(Strict):
    """Someone who asks for, approves or receives footage, by id: the name stays in the vault."""

    id: Id
    organisation: Id = Field(description="'station' (the town's police station) or the id of an authority.")
    role: str = Field(description="Rank or function, e.g. 'Trưởng Công an thị trấn / station chief'.")
    approves_footage: bool = Field(
        default=False, description="Whether this officer may approve a footage request (station officers only)."
    )


class Equipment(Strict):
    """Other station equipment of the plan: screens, UPS, rack, cabling."""

    id: Id
    item: str = Field(description="What it is, in Vietnamese with English, e.g. 'Màn hình 43\" / 43\" monitor'.")
    quantity: int = Field(ge=1, description="How many.")
    unit_cost_vnd: Vnd = Field(description="Cost of one, VND.")
    funding: Funding = Field(description="The fund that pays.")

    @property
    def amount_vnd(self) -> int:
        return self.quantity * self.unit_cost_vnd


# --------------------------------------------------------------------------- routes


class RouteKind(StrEnum):
    """A surveyed route: a street (tuyến đường) or an alley (ngõ)."""

    street = "street"  # tuyến đường
    alley = "alley"  # ngõ


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class Route(Strict):
    """A surveyed route the cameras should watch, as a polyline; coverage is measured along it."""

    id: Id
    name: str = Field(description="Street or alley name as people say it, e.g. 'Đường Lê Lai' or 'Ngõ 12 Lê Lợi'.")
    kind: RouteKind = Field(description="street (tuyến đường) or alley (ngõ).")
    priority: int = Field(ge=1, le=5, description="How much watching it matters: 1 (most: market, school) to 5.")
    sites: list[Id] = Field(min_length=1, description="The khu phố it crosses.")
    points: list[tuple[Latitude, Longitude]] = Field(
        min_length=2, description="The polyline, [[lat, lon], ...] in decimal degrees (WGS84), from its start."
    )


# --------------------------------------------------------------------------- files


class InventoryFile(Strict):
    """One YAML file of a town folder. Every section is optional; the folder's files together make the town."""

    model_config = ConfigDict(
        extra="forbid",
        title="camfleet inventory file",
        json_schema_extra={"$id": "https://camfleet.invalid/schema/inventory.schema.json"},
    )

    town: Town | None = Field(default=None, description="The town (exactly one file of the folder has it).")
    sites: list[Site] = Field(default_factory=list, description="Khu phố.")
    households: list[Household] = Field(default_factory=list, description="Owners and hosts, by id.")
    cameras: list[Camera] = Field(default_factory=list, description="Camera eyes.")
    links: list[Link] = Field(default_factory=list, description="Household wifi uplinks.")
    link_routers: list[LinkRouter] = Field(default_factory=list, description="Site link routers and the core router.")
    recorders: list[Recorder] = Field(default_factory=list, description="NVRs at the station.")
    equipment: list[Equipment] = Field(default_factory=list, description="Other station equipment.")
    authorities: list[Authority] = Field(default_factory=list, description="Competent authorities footage goes to.")
    officers: list[Officer] = Field(default_factory=list, description="Who asks for, approves or receives footage.")
    profiles: list[StreamProfile] = Field(default_factory=list, description="Stream profiles.")
    firmware: list[FirmwareEntry] = Field(default_factory=list, description="Firmware catalogue.")
    routes: list[Route] = Field(default_factory=list, description="Surveyed routes (tuyến đường, ngõ) to cover.")


#: The list sections of a file, in the order they are validated.
SECTIONS: tuple[str, ...] = (
    "sites",
    "households",
    "profiles",
    "firmware",
    "recorders",
    "equipment",
    "authorities",
    "officers",
    "link_routers",
    "links",
    "cameras",
    "routes",
)
SECTION_MODELS: dict[str, type[Strict]] = {
    "sites": Site,
    "households": Household,
    "profiles": StreamProfile,
    "firmware": FirmwareEntry,
    "recorders": Recorder,
    "equipment": Equipment,
    "authorities": Authority,
    "officers": Officer,
    "link_routers": LinkRouter,
    "links": Link,
    "cameras": Camera,
    "routes": Route,
}


# --------------------------------------------------------------------------- which driver a device needs

#: Camera driver per vendor; vendors without one are cameras camfleet cannot administer.
#: The names are the inventory's ``device.driver`` vocabulary (checked by the loader);
#: :mod:`camfleet.drivers` maps each to its class.
CAMERA_DRIVERS: dict[Vendor, str] = {
    Vendor.hikvision: "hikvision_isapi",
    Vendor.dahua: "dahua_cgi",
    Vendor.kbvision: "dahua_cgi",  # KBVision cameras are Dahua OEM builds
    # Consumer brands the town does not administer: read through ONVIF only (shared cameras, managed: true);
    # `other` makers need `device.driver: onvif` said outright.
    Vendor.imou: "onvif",
    Vendor.ezviz: "onvif",
    Vendor.tplink: "onvif",
}
RECORDER_DRIVERS: dict[Vendor, str] = {
    Vendor.hikvision: "hikvision_isapi_nvr",
    Vendor.dahua: "dahua_cgi_nvr",  # identity, disks, time and footage; channels and schedules by hand
}
KNOWN_DRIVERS = frozenset(CAMERA_DRIVERS.values()) | frozenset(RECORDER_DRIVERS.values())


def driver_name(entry: Camera | Recorder) -> str:
    """The driver an inventory camera or recorder needs: its ``device.driver`` override, else its vendor's.

    ValueError (naming the device) when it has no device or camfleet has no driver for its vendor.
    """
    if isinstance(entry, Camera):
        if entry.device is None:
            raise ValueError(
                f"{entry.id}: kho chưa có thiết bị, không có gì để điều khiển / no device in the inventory; nothing to drive"
            )
        name = entry.device.driver or CAMERA_DRIVERS.get(entry.device.vendor)
        vendor = entry.device.vendor
    else:
        name, vendor = RECORDER_DRIVERS.get(entry.vendor), entry.vendor
    if name is None:
        raise ValueError(
            f"{entry.id}: camfleet chưa có driver cho thiết bị {vendor.value} / camfleet has no driver for {vendor.value} devices"
        )
    return name
