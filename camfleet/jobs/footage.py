"""Footage for investigations: a request checked against the inventory, every chosen camera's recordings
searched, the window exported into a signed evidence package, and household files imported with
their provenance — each step an entry of the town's custody log (:mod:`camfleet.jobs.custody`).

Who may ask: a request names a competent authority listed in the inventory (``authorities``), its
legal document (công văn / quyết định số ..., date), who asked and who approved at the station
(``officers``: ids; names live in the vault). Anything missing is refused with one line and the
refusal is logged; nothing else is written.

What is exported: for each camera recorded at the station, its recorder channel's files for the
window, downloaded whole over the recorder's API (streamed to disk, hashed as they arrive),
remuxed to MP4 without re-encoding and cut to the window on keyframes (:mod:`camfleet.jobs.media`),
each clip checked with ffprobe (codec, picture size, a duration covering its span within a GOP at
each end). The recorder's clock is read against the station's before and after (a court asks what
time the picture really shows). Community cameras (loại hình 1) are exported by their owners and
added with :func:`import_household`.

    .venv/bin/camfleet footage export inventory/ngoc-lac --case VV-2026-0142 --authority ca-huyen \\
        --document "CV 123/CAH-CSHS ngày 01/12/2026" --requested-by dtv-01 --approved-by cb-01 \\
        --purpose "Điều tra vụ trộm xe máy" --from "2026-12-01 19:40" --to "2026-12-01 20:10" \\
        --near 20.0912,105.3701 --radius 200 -o /media/usb
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from camfleet import __version__
from camfleet.drivers.base import DeviceClock, RecorderDriver, Recording
from camfleet.drivers.errors import DriverError, Unsupported
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.base import Credentials, JobError, connect
from camfleet.jobs.custody import CustodyLog, holds, verify_chain
from camfleet.jobs.evidence import MANIFEST, SigningKey, fingerprint, seal, verify, zip_package
from camfleet.jobs.files import sha256_file
from camfleet.jobs.media import MediaError, MediaFacts, probe, remux
from camfleet.model import Camera, CameraKind
from camfleet.reports.handover import HANDOVER_FILE, handover_html

CASE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LOCAL_TIME = "%Y-%m-%d %H:%M"
MAX_WINDOW = dt.timedelta(days=7)
#: A hole in the footage shorter than this is a seam between files, not a gap.
MIN_GAP_S = 2.0
#: Footage whose overwrite is nearer than this is urgent.
URGENT = dt.timedelta(days=3)
#: A lens sees this wide when the inventory does not say (degrees).
DEFAULT_FOV_DEG = 90.0
EARTH_RADIUS_M = 6_371_000.0
#: Closer than this, a camera is at the point: a bearing to it means nothing.
AT_POINT_M = 10.0


class Refused(JobError):
    """A request that may not go ahead: one line saying why; the refusal is in the custody log."""


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True)
class Window:
    """The footage asked for, as aware UTC times, and the town's zone to show them in."""

    start: dt.datetime
    end: dt.datetime
    zone: str

    @classmethod
    def parse(cls, start: str, end: str, zone: str) -> Window:
        """``YYYY-MM-DD HH:MM`` in the town's time zone; ValueError saying what is wrong."""
        tz = ZoneInfo(zone)
        try:
            a = dt.datetime.strptime(start.strip(), LOCAL_TIME).replace(tzinfo=tz)
            b = dt.datetime.strptime(end.strip(), LOCAL_TIME).replace(tzinfo=tz)
        except ValueError:
            raise ValueError(f"write times as 'YYYY-MM-DD HH:MM' ({zone} time), e.g. '2026-12-01 19:40'") from None
        if b <= a:
            raise ValueError("the window ends before it starts")
        if b - a > MAX_WINDOW:
            raise ValueError(f"a window longer than {MAX_WINDOW.days} days is not one request; split it")
        return cls(a.astimezone(dt.UTC), b.astimezone(dt.UTC), zone)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def local(self, when: dt.datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return when.astimezone(ZoneInfo(self.zone)).strftime(fmt)

    def as_dict(self) -> dict[str, str]:
        return {
            "from": self.local(self.start, LOCAL_TIME),
            "to": self.local(self.end, LOCAL_TIME),
            "time_zone": self.zone,
            "from_utc": self.start.isoformat(),
            "to_utc": self.end.isoformat(),
        }


@dataclass(frozen=True)
class Selection:
    """How the cameras were chosen: by id, khu phố, street, or a point and a radius."""

    cameras: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    near: tuple[float, float, float] | None = None  # lat, lon, radius in metres

    def describe(self) -> str:
        parts = [*(f"camera {c}" for c in self.cameras), *(f"khu phố {s}" for s in self.sites)]
        parts += [f"street {s}" for s in self.streets]
        if self.near is not None:
            parts.append(f"within {self.near[2]:g} m of ({self.near[0]}, {self.near[1]})")
        return "; ".join(parts)


def selection_of(
    cameras: Sequence[str] = (),
    sites: Sequence[str] = (),
    streets: Sequence[str] = (),
    near: str | None = None,
    radius: float | None = None,
) -> Selection:
    """A selection from what a person types (``near`` as ``LAT,LON``); ValueError saying what is wrong."""
    point = None
    if near:
        try:
            lat, lon = (float(v) for v in near.split(","))
        except ValueError:
            raise ValueError("near is LAT,LON in decimal degrees, e.g. 20.0912,105.3701") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"near {near}: latitude first (-90..90), then longitude (-180..180)")
        if radius is None or radius <= 0:
            raise ValueError("near needs a radius in metres")
        point = (lat, lon, float(radius))
    elif radius is not None:
        raise ValueError("a radius needs a point (near LAT,LON)")
    return Selection(tuple(cameras or ()), tuple(sites or ()), tuple(streets or ()), point)


@dataclass(frozen=True)
class Chosen:
    """A camera of the request, and for a point-and-radius choice, how far it is and whether it faces it."""

    camera: str
    distance_m: float | None = None
    faces_point: bool | None = None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial compass bearing from point 1 to point 2, degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def faces(camera: Camera, lat: float, lon: float, fov_deg: float = DEFAULT_FOV_DEG) -> bool:
    """Whether the point is inside the camera's horizontal field of view (its bearing ± fov/2)."""
    toward = bearing_deg(camera.location.lat, camera.location.lon, lat, lon)
    off = abs((toward - camera.location.bearing_deg + 180) % 360 - 180)
    return off <= fov_deg / 2


def choose_cameras(fleet: Fleet, selection: Selection) -> list[Chosen]:
    """The cameras a selection names (not retired, not merely planned); ValueError for a name the town
    does not have or a choice that finds none."""
    picked: dict[str, Chosen] = {}
    usable = {c.id: c for c in fleet.cameras.values() if c.status.value not in ("retired", "planned", "surveyed")}
    for camera_id in selection.cameras:
        if camera_id not in fleet.cameras:
            raise ValueError(f"no camera {camera_id!r} in the inventory")
        if camera_id not in usable:
            raise ValueError(f"camera {camera_id} is {fleet.cameras[camera_id].status.value}: it records nothing")
        picked[camera_id] = Chosen(camera_id)
    for site in selection.sites:
        if site not in fleet.sites:
            raise ValueError(f"no khu phố {site!r} in the inventory; use one of: {', '.join(sorted(fleet.sites))}")
        for cam in fleet.cameras_of_site(site):
            if cam.id in usable:
                picked.setdefault(cam.id, Chosen(cam.id))
    for street in selection.streets:
        found = [c for c in usable.values() if c.location.street.casefold() == street.strip().casefold()]
        if not found:
            raise ValueError(f"no working camera on a street named {street!r}")
        for cam in found:
            picked.setdefault(cam.id, Chosen(cam.id))
    if selection.near is not None:
        lat, lon, radius = selection.near
        for cam in usable.values():
            d = distance_m(lat, lon, cam.location.lat, cam.location.lon)
            if d <= radius:  # a camera at the point (within AT_POINT_M) is taken to see it
                picked[cam.id] = Chosen(cam.id, round(d, 1), d <= AT_POINT_M or faces(cam, lat, lon))
    if not picked:
        raise ValueError(f"no working camera matches {selection.describe() or 'the request'}")
    return sorted(picked.values(), key=lambda c: (c.distance_m if c.distance_m is not None else -1, c.camera))


@dataclass(frozen=True)
class Request:
    """A checked request: who asks, on what authority, for which cameras and minutes."""

    case: str
    authority: str
    document: str
    requested_by: str
    approved_by: str
    purpose: str
    window: Window
    selection: Selection
    chosen: tuple[Chosen, ...]

    def as_log(self) -> dict[str, Any]:
        return {
            "authority": self.authority,
            "document": self.document,
            "requested_by": self.requested_by,
            "approved_by": self.approved_by,
            "purpose": self.purpose,
            "window": self.window.as_dict(),
            "selection": self.selection.describe(),
            "cameras": [c.camera for c in self.chosen],
        }


def request(
    fleet: Fleet,
    log: CustodyLog,
    *,
    case: str,
    authority: str,
    document: str,
    requested_by: str,
    approved_by: str,
    purpose: str,
    window_from: str,
    window_to: str,
    selection: Selection,
) -> Request:
    """Check a request against the inventory; log it (request, approval) or its refusal (and raise :class:`Refused`)."""
    asked = {
        "authority": authority,
        "document": document,
        "requested_by": requested_by,
        "approved_by": approved_by,
        "purpose": purpose,
        "window": {"from": window_from, "to": window_to},
        "selection": selection.describe(),
    }

    def refuse(reason: str, message: str) -> Refused:
        log.append("refusal", case, requested_by or None, reason=reason, message=message, asked=asked)
        return Refused(f"từ chối / refused: {message}", reason=reason)

    if not CASE_PATTERN.fullmatch(case or ""):
        raise refuse("case", f"case number {case!r}: use letters, digits, '.', '-' and '_' (e.g. VV-2026-0142)")
    found = fleet.authorities.get(authority)
    if found is None:
        listed = ", ".join(sorted(fleet.authorities)) or "none listed"
        raise refuse("authority", f"{authority!r} is not a competent authority of the inventory ({listed})")
    if not document.strip():
        raise refuse(
            "document", "no legal document (công văn / quyết định số ..., ngày ...): footage goes out only on one"
        )
    approver = fleet.officers.get(approved_by)
    if approver is None or approver.organisation != "station" or not approver.approves_footage:
        raise refuse("approver", f"{approved_by or 'nobody'} is not an officer of the station who approves footage")
    asker = fleet.officers.get(requested_by)
    if asker is None or asker.organisation not in (authority, "station"):
        raise refuse("requester", f"{requested_by or 'nobody'} is not an officer of {authority} or of the station")
    if not purpose.strip():
        raise refuse("purpose", "no purpose: say what the footage is for")
    try:
        window = Window.parse(window_from, window_to, fleet.town.timezone)
    except ValueError as err:
        raise refuse("window", str(err)) from None
    if window.start > dt.datetime.now(dt.UTC):
        raise refuse("window", "the window is in the future")
    try:
        chosen = tuple(choose_cameras(fleet, selection))
    except ValueError as err:
        raise refuse("cameras", str(err)) from None
    made = Request(
        case, authority, document.strip(), requested_by, approved_by, purpose.strip(), window, selection, chosen
    )
    log.append("request", case, requested_by, **made.as_log())
    log.append("approval", case, approved_by, authority=authority, document=made.document)
    return made


# --------------------------------------------------------------------------- the search


@dataclass
class Coverage:
    """What one camera has of the window: its status, the recorded spans, the holes, when it is overwritten."""

    camera: str
    status: str  # covered | partial | none | household | no_commitment | not_recorded | unreachable
    recorder: str | None = None
    channel: int | None = None
    spans: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    gaps: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    files: list[Recording] = field(default_factory=list)
    export_by: dt.datetime | None = None
    lock: str = ""
    detail: str = ""
    distance_m: float | None = None
    faces_point: bool | None = None

    def as_dict(self, window: Window) -> dict[str, Any]:
        def span(pair: tuple[dt.datetime, dt.datetime]) -> dict[str, str]:
            return {"from": window.local(pair[0]), "to": window.local(pair[1])}

        return {
            "camera": self.camera,
            "status": self.status,
            "recorder": self.recorder,
            "channel": self.channel,
            "recorded": [span(s) for s in self.spans],
            "gaps": [span(g) for g in self.gaps],
            "export_by": window.local(self.export_by) if self.export_by else None,
            "lock": self.lock,
            "detail": self.detail,
            "distance_m": self.distance_m,
            "faces_point": self.faces_point,
        }


def covered(
    files: Sequence[Recording], window: Window
) -> tuple[list[tuple[dt.datetime, dt.datetime]], list[tuple[dt.datetime, dt.datetime]]]:
    """(recorded spans, holes) of the window from the recorder's files (sorted, merged, clipped)."""
    spans: list[list[dt.datetime]] = []
    for f in sorted(files, key=lambda f: f.start):
        a, b = max(f.start, window.start), min(f.end, window.end)
        if b <= a:
            continue
        if spans and (a - spans[-1][1]).total_seconds() < MIN_GAP_S:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    holes, cursor = [], window.start
    for a, b in spans:
        if (a - cursor).total_seconds() >= MIN_GAP_S:
            holes.append((cursor, a))
        cursor = max(cursor, b)
    if (window.end - cursor).total_seconds() >= MIN_GAP_S:
        holes.append((cursor, window.end))
    return [(a, b) for a, b in spans], holes


def search(
    fleet: Fleet, req: Request, creds: dict[str, dict[str, str]], log: CustodyLog, *, timeout: float
) -> list[Coverage]:
    """Every chosen camera's footage of the window: recorded cameras searched on their recorder channel,
    community cameras told apart by their owner's commitment. Logged as one ``search`` entry."""
    found: list[Coverage] = []
    by_recorder: dict[str, list[tuple[Chosen, Camera]]] = {}
    for chosen in req.chosen:
        cam = fleet.cameras[chosen.camera]
        if cam.recorder is not None and cam.is_managed:
            by_recorder.setdefault(cam.recorder.id, []).append((chosen, cam))
        else:
            found.append(_not_at_the_station(fleet, chosen, cam))
    for recorder_id, cams in by_recorder.items():
        found += _search_recorder(fleet, recorder_id, cams, req.window, creds, timeout)
    order = {c.camera: i for i, c in enumerate(req.chosen)}
    found.sort(key=lambda c: order[c.camera])
    log.append(
        "search",
        req.case,
        req.approved_by,
        results=[{"camera": c.camera, "status": c.status, "gaps": len(c.gaps)} for c in found],
    )
    return found


def _not_at_the_station(fleet: Fleet, chosen: Chosen, cam: Camera) -> Coverage:
    found = Coverage(cam.id, "not_recorded", distance_m=chosen.distance_m, faces_point=chosen.faces_point)
    if cam.kind is not CameraKind.community:
        found.detail = "không ghi ở trạm / not recorded at the station"
        return found
    household = fleet.households.get(cam.household or "")
    consent = household.consent if household else None
    if consent is None or consent.signed_on is None or not consent.footage_handover:
        found.status = "no_commitment"
        found.detail = (
            f"hộ {cam.household} chưa ký cam kết giao nộp dữ liệu / household {cam.household} has no signed "
            "footage-handover commitment"
        )
        return found
    found.status = "household"
    found.detail = (
        f"đề nghị hộ {cam.household} trích xuất (cam kết {consent.document or consent.signed_on}), rồi "
        f"camfleet footage import / ask household {cam.household} to export it (commitment "
        f"{consent.document or consent.signed_on}), then camfleet footage import"
    )
    return found


def _search_recorder(
    fleet: Fleet,
    recorder_id: str,
    cams: list[tuple[Chosen, Camera]],
    window: Window,
    creds: dict[str, dict[str, str]],
    timeout: float,
) -> list[Coverage]:
    login = creds.get(recorder_id)
    out = []
    if login is None:
        return [
            Coverage(c.camera, "unreachable", recorder_id, detail=f"no login for {recorder_id} in the vault")
            for c, _ in cams
        ]
    try:
        with connect(fleet, recorder_id, Credentials(login["username"], login["password"]), timeout=timeout) as nvr:
            if not isinstance(nvr, RecorderDriver):
                raise JobError(f"không phải đầu ghi / {recorder_id} is not a recorder")
            for chosen, cam in cams:
                assert cam.recorder is not None
                out.append(_coverage(nvr, chosen, cam.recorder.channel, recorder_id, window))
    except (DriverError, JobError) as err:
        done = {c.camera for c in out}
        out += [
            Coverage(
                c.camera, "unreachable", recorder_id, cam.recorder.channel if cam.recorder else None, detail=str(err)
            )
            for c, cam in cams
            if c.camera not in done
        ]
    return out


def _coverage(nvr: RecorderDriver, chosen: Chosen, channel: int, recorder_id: str, window: Window) -> Coverage:
    result = Coverage(
        chosen.camera, "none", recorder_id, channel, distance_m=chosen.distance_m, faces_point=chosen.faces_point
    )
    try:
        result.files = nvr.find_footage(channel, window.start, window.end)
        result.spans, result.gaps = covered(result.files, window)
        oldest, newest = nvr.search_recordings(channel)
    except DriverError as err:
        result.status, result.detail = "unreachable", str(err)
        return result
    if result.spans:
        result.status = "partial" if result.gaps else "covered"
    if oldest is not None and newest is not None:
        # The recorder overwrites its oldest footage first: the window's start is gone once it is as
        # old as the footage the recorder keeps now.
        result.export_by = window.start + (newest - oldest)
        if oldest >= window.end:
            result.detail = f"đã bị ghi đè / overwritten: the recorder keeps footage from {window.local(oldest)} only"
        elif oldest > window.start:
            result.detail = "đã bị ghi đè một phần / partly overwritten already"
        elif not result.spans:
            result.detail = "camera không ghi lúc đó (mất kết nối?) / the camera was not recorded then (offline?)"
    elif not result.spans:
        result.detail = "đầu ghi không có dữ liệu của kênh này / the recorder has no footage of this channel"
    try:
        nvr.lock_footage(channel, window.start, window.end)
        result.lock = "locked"
    except Unsupported as err:
        result.lock = f"không khóa được / cannot lock: {err.message}"
    except DriverError as err:
        result.lock = f"khóa lỗi / lock failed: {err}"
    return result


def urgent(coverage: Coverage, now: dt.datetime | None = None) -> bool:
    return coverage.export_by is not None and coverage.export_by - (now or dt.datetime.now(dt.UTC)) < URGENT


# --------------------------------------------------------------------------- the export


@dataclass
class Clip:
    """One exported MP4: which camera, which minutes, its hash and what ffprobe read."""

    file: str
    camera: str
    start: dt.datetime
    end: dt.datetime
    size_bytes: int
    sha256: str
    facts: MediaFacts
    recorder: str
    channel: int
    clock: dict[str, Any]


@dataclass
class Package:
    folder: Path
    zip: Path
    clips: list[Clip]
    manifest: dict[str, Any]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def export(
    fleet: Fleet,
    req: Request,
    coverage: list[Coverage],
    creds: dict[str, dict[str, str]],
    out_dir: Path,
    key: SigningKey,
    log: CustodyLog,
    *,
    timeout: float,
) -> Package:
    """Download, remux, check and package every covered camera's footage of the window (see the module
    docstring); the package is sealed (manifest, signature, SHA256SUMS) and zipped."""
    folder = out_dir / _safe(req.case)
    if folder.exists() and any(folder.iterdir()):
        raise JobError(
            f"gói dữ liệu đã có / {folder} exists already; export into another folder (or delete that package first)"
        )
    work = folder / ".work"
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JobError(f"không ghi được vào thư mục / cannot write into {out_dir}: {exc.strerror}") from None
    clips: list[Clip] = []
    try:
        for cov in coverage:
            if cov.status in ("covered", "partial") and cov.recorder is not None:
                clips += _export_camera(fleet, req, cov, creds, folder, work, timeout)
    except BaseException as exc:
        # An unsealed folder is not evidence: remove it, and log that footage was read and not packaged.
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, Exception):
            why = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) else str(exc)
            log.append("export", req.case, req.approved_by, package=folder.name, failed=why,
                       clips=[{"file": c.file, "sha256": c.sha256, "camera": c.camera} for c in clips])  # fmt: skip
            if isinstance(exc, OSError):
                raise JobError(
                    f"không ghi được gói dữ liệu / cannot write the package {folder}: {why}; nothing was kept"
                ) from None
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    manifest = _manifest(fleet, req, coverage, clips, key)
    (folder / HANDOVER_FILE).write_text(handover_html(fleet, manifest), encoding="utf-8")
    log.append(
        "export",
        req.case,
        req.approved_by,
        package=folder.name,
        clips=[{"file": c.file, "sha256": c.sha256, "camera": c.camera} for c in clips],
    )
    seal(folder, manifest, key, log.case_lines(req.case), [HANDOVER_FILE], town_head=log.head())
    archive = zip_package(folder)
    return Package(folder, archive, clips, manifest)


def _export_camera(
    fleet: Fleet,
    req: Request,
    cov: Coverage,
    creds: dict[str, dict[str, str]],
    folder: Path,
    work: Path,
    timeout: float,
) -> list[Clip]:
    assert cov.recorder is not None and cov.channel is not None
    login = creds[cov.recorder]
    cam = fleet.cameras[cov.camera]
    out: list[Clip] = []
    with connect(fleet, cov.recorder, Credentials(login["username"], login["password"]), timeout=timeout) as nvr:
        assert isinstance(nvr, RecorderDriver)
        before = _clock(nvr)
        for span_start, span_end in cov.spans:
            files = [f for f in cov.files if f.end > span_start and f.start < span_end]
            paths, delivered = [], []
            for n, f in enumerate(files):
                path = work / f"{cov.camera}-{int(span_start.timestamp())}-{n}.{f.container}"
                with path.open("wb") as sink:
                    delivered.append(nvr.download_footage(f, sink, within=(span_start, span_end)))
                paths.append(path)
            first = delivered[0].start
            name = f"clips/{cov.camera}_{req.window.local(span_start, '%Y%m%d-%H%M%S')}_{req.window.local(span_end, '%H%M%S')}.mp4"
            target = folder / name
            try:
                remux(
                    paths,
                    target,
                    start_s=max(0.0, (span_start - first).total_seconds()),
                    duration_s=(span_end - max(span_start, first)).total_seconds(),
                )
                facts = probe(target)
            except MediaError as err:
                raise JobError(f"{cov.camera}: {err}") from None
            finally:
                for path in paths:
                    path.unlink(missing_ok=True)
            _check_clip(fleet, cam, facts, span_end - span_start)
            out.append(
                Clip(name, cov.camera, span_start, span_end, target.stat().st_size, sha256_file(target), facts,
                     cov.recorder, cov.channel, {})
            )  # fmt: skip
        after = _clock(nvr)
    for clip in out:
        clip.clock = {"before": before, "after": after}
    return out


def _clock(nvr: RecorderDriver) -> dict[str, Any]:
    """The recorder's clock against the station's: offset in seconds (+ when the recorder is ahead),
    with the uncertainty of the round trip."""
    t0 = time.time()
    clock: DeviceClock = nvr.time()
    t1 = time.time()
    return {
        "station_utc": dt.datetime.fromtimestamp((t0 + t1) / 2, dt.UTC).isoformat(timespec="milliseconds"),
        "recorder_utc": clock.device_utc.isoformat(),
        "offset_s": round(clock.skew_s, 3),
        "uncertainty_s": round((t1 - t0) / 2 + 1.0, 3),  # devices report whole seconds
    }


def _check_clip(fleet: Fleet, cam: Camera, facts: MediaFacts, span: dt.timedelta) -> None:
    """The clip is the camera's main stream and covers its span within a GOP at each end."""
    if facts.codec not in ("h264", "hevc"):
        raise JobError(
            f"{cam.id}: đoạn trích xuất không phải video H.264/H.265 / the exported clip is {facts.codec}, not H.264/H.265 video"
        )
    profile = fleet.profiles.get(cam.stream.main) if cam.stream else None
    if profile is not None and (facts.width, facts.height) != (profile.width, profile.height):
        raise JobError(
            f"{cam.id}: độ phân giải đoạn trích xuất không khớp camera / the clip is {facts.width}x{facts.height}, the camera records {profile.width}x{profile.height}"
        )
    slack = (profile.gop / profile.fps if profile else 4.0) + 1.0
    wanted = span.total_seconds()
    if not wanted - slack <= facts.duration_s <= wanted + 2 * slack:
        raise JobError(
            f"{cam.id}: thời lượng đoạn trích xuất không khớp / the clip lasts {facts.duration_s:.1f} s, its span {wanted:.0f} s"
        )


def _manifest(
    fleet: Fleet, req: Request, coverage: list[Coverage], clips: list[Clip], key: SigningKey
) -> dict[str, Any]:
    authority = fleet.authorities[req.authority]
    w = req.window
    by_camera = {c.camera: c for c in coverage}
    return {
        "format": "camfleet-evidence/1",
        "camfleet_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "case": req.case,
        "authority": {"id": authority.id, "name": authority.name, "kind": authority.kind.value},
        "document": req.document,
        "requested_by": req.requested_by,
        "approved_by": req.approved_by,
        "purpose": req.purpose,
        "window": w.as_dict(),
        "selection": req.selection.describe(),
        "station": {"name": fleet.town.station.name, "town": fleet.town.name},
        "signing_key_fingerprint": fingerprint(key.public()),
        "cameras": [c.as_dict(w) for c in coverage],
        "clips": [_clip_entry(fleet, c, by_camera[c.camera], w) for c in clips],
    }


def _clip_entry(fleet: Fleet, clip: Clip, cov: Coverage, w: Window) -> dict[str, Any]:
    cam = fleet.cameras[clip.camera]
    rec = fleet.recorders[clip.recorder]
    return {
        "file": clip.file,
        "source": "recorder",
        "camera": clip.camera,
        "site": cam.site,
        "street": cam.location.street,
        "landmark": cam.location.landmark,
        "recorder": rec.id,
        "recorder_model": rec.model,
        "recorder_serial": rec.serial,
        "channel": clip.channel,
        "start": w.local(clip.start),
        "end": w.local(clip.end),
        "start_utc": clip.start.isoformat(),
        "end_utc": clip.end.isoformat(),
        "duration_s": round(clip.facts.duration_s, 3),
        "size_bytes": clip.size_bytes,
        "sha256": clip.sha256,
        "video": clip.facts.as_dict(),
        "gaps_in_window": [{"from": w.local(a), "to": w.local(b)} for a, b in cov.gaps],
        "recorder_clock": clip.clock,
    }


# --------------------------------------------------------------------------- household footage (loại hình 1)


def import_household(
    fleet: Fleet,
    folder: Path,
    files: Sequence[Path],
    log: CustodyLog,
    key: SigningKey,
    *,
    household: str,
    received_by: str,
    received_on: str,
    camera: str | None = None,
) -> list[dict[str, Any]]:
    """Add an owner's exported files of their own camera (``camera``; the household's only one when not
    given) to a case's package: hashed at receipt, checked with ffprobe, with their provenance; the
    package is sealed again. A household without a signed footage-handover commitment is refused (logged)."""
    manifest_path = folder / "manifest.json"
    try:
        manifest = _read_manifest(manifest_path)
    except (OSError, ValueError):
        raise JobError(
            f"{folder}: không phải gói dữ liệu chứng cứ / not an evidence package (no readable manifest.json)"
        ) from None
    case = str(manifest["case"])
    found = fleet.households.get(household)
    consent = found.consent if found else None
    if consent is None or consent.signed_on is None or not consent.footage_handover:
        log.append("refusal", case, received_by, reason="commitment", household=household)
        raise Refused(
            f"từ chối / refused: household {household} has no signed footage-handover commitment "
            "(consent.signed_on, consent.footage_handover)",
            reason="commitment",
        )
    officer = fleet.officers.get(received_by)
    if officer is None or officer.organisation != "station":
        log.append("refusal", case, received_by, reason="receiver", household=household)
        raise Refused(f"từ chối / refused: {received_by} is not an officer of the station", reason="receiver")
    own = sorted(c.id for c in fleet.cameras.values() if c.household == household and c.kind is CameraKind.community)
    if camera is None and len(own) == 1:
        camera = own[0]
    if camera is None or camera not in own:
        which = ", ".join(own) or "none"
        raise JobError(
            f"household {household}'s cameras (loại hình 1): {which}; "
            + ("say which one the files are from with --camera" if own else "it has no camera of its own to hand over")
        )
    cam = fleet.cameras[camera]
    added = []
    existing = {c["file"] for c in manifest["clips"]}
    for n, source in enumerate(files, 1):
        digest = _hash_file(source)  # at receipt, before anything else touches it
        try:
            facts = probe(source)
        except MediaError as err:
            raise JobError(f"{source}: {err}") from None
        name = f"household/{_safe(household)}_{n:02d}_{_safe(source.name)}"
        while name in existing:
            name = name.replace(".", "_1.", 1)
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if sha256_file(target) != digest:
            raise JobError(f"{source}: bản sao khác tệp đã nhận / the copy differs from the file received")
        entry = {
            "file": name,
            "source": "household",
            "camera": camera,
            "site": cam.site,
            "street": cam.location.street,
            "landmark": cam.location.landmark,
            "household": household,
            "commitment": consent.document or consent.signed_on.isoformat(),
            "received_by": received_by,
            "received_on": received_on,
            "received_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "original_name": source.name,
            "size_bytes": target.stat().st_size,
            "sha256": digest,
            "duration_s": round(facts.duration_s, 3),
            "video": facts.as_dict(),
        }
        manifest["clips"].append(entry)
        existing.add(name)
        added.append(entry)
    log.append(
        "import",
        case,
        received_by,
        household=household,
        files=[{"file": a["file"], "sha256": a["sha256"]} for a in added],
    )
    others = [HANDOVER_FILE] if (folder / HANDOVER_FILE).exists() else []
    if others:
        (folder / HANDOVER_FILE).write_text(handover_html(fleet, manifest), encoding="utf-8")
    seal(folder, manifest, key, log.case_lines(case), others, town_head=log.head())
    zip_package(folder)
    return added


def _read_manifest(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "case" not in data or "clips" not in data:
        raise ValueError("not a manifest")
    return data


def _hash_file(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise JobError(f"{path}: không đọc được tệp / cannot read it ({exc.strerror})") from None


def handover(fleet: Fleet, folder: Path, log: CustodyLog, station_key: str, *, by: str, to: str) -> dict[str, Any]:
    """Log that the package went from a station officer (``by``) to an officer of the requesting
    authority (``to``), after checking it is intact and signed by the station's key (``station_key``: its
    fingerprint): the entry carries the manifest's SHA-256 and the key's fingerprint, what the signed
    paper record refers to."""
    try:
        manifest = _read_manifest(folder / MANIFEST)
    except (OSError, ValueError):
        raise JobError(
            f"{folder}: không phải gói dữ liệu chứng cứ / not an evidence package (no readable manifest.json)"
        ) from None
    case = str(manifest["case"])
    authority = str(manifest.get("authority", {}).get("id", ""))
    giver, receiver = fleet.officers.get(by), fleet.officers.get(to)
    if giver is None or giver.organisation != "station":
        log.append("refusal", case, by, reason="giver", package=folder.name)
        raise Refused(f"từ chối / refused: {by} is not an officer of the station", reason="giver")
    if receiver is None or receiver.organisation != authority:
        log.append("refusal", case, by, reason="receiver", package=folder.name, receiver=to)
        raise Refused(
            f"từ chối / refused: {to} is not an officer of {authority}, the authority that asked", reason="receiver"
        )
    checked = verify(folder, expected_fingerprint=station_key)
    if not checked.intact:
        log.append("refusal", case, by, reason="not_intact", package=folder.name, problems=checked.problems[:20])
        raise JobError(
            f"{folder}: gói dữ liệu không còn nguyên vẹn, không bàn giao / not intact, not handed over: {checked.problems[0]}"
        )
    return log.append(
        "handover",
        case,
        by,
        to=to,
        authority=authority,
        package=folder.name,
        manifest_sha256=sha256_file(folder / MANIFEST),
        signing_key_fingerprint=checked.fingerprint,
        files=checked.files,
    ).data


def town_log_problems(folder: Path, log: CustodyLog) -> list[str]:
    """What the town's custody log says against a package: its chain whole, and still holding the
    entry the package's signed manifest was sealed after (``custody_log``): a log cut or rewritten
    since is found by any package the authorities hold."""
    raw = log.read()
    problems = [f"{log.path.name}: {p}" for p in verify_chain(raw)]
    try:
        anchor = _read_manifest(folder / MANIFEST).get("custody_log")
    except (OSError, ValueError):
        return problems  # verify() names an unreadable manifest
    if not isinstance(anchor, dict) or "seq" not in anchor or "head_sha256" not in anchor:
        return [*problems, f"{MANIFEST}: no custody_log anchor (sealed by an older camfleet)"]
    said = holds(raw, int(anchor["seq"]), str(anchor["head_sha256"]))
    return problems if said is None else [*problems, f"{log.path.name}: {said}"]


def delete_package(folder: Path, log: CustodyLog, *, by: str, reason: str) -> None:
    """Delete a package (folder and zip), logging who did and why first (no log, no deletion)."""
    try:
        manifest = _read_manifest(folder / MANIFEST)
    except (OSError, ValueError):
        raise JobError(
            f"{folder}: không phải gói dữ liệu chứng cứ / not an evidence package (no readable manifest.json); nothing deleted"
        ) from None
    if not reason.strip():
        raise JobError("cần ghi lý do xóa gói dữ liệu / say why the package is deleted (--reason)")
    log.append("deletion", str(manifest["case"]), by, package=folder.name, reason=reason)
    shutil.rmtree(folder)
    folder.with_suffix(".zip").unlink(missing_ok=True)


__all__ = [
    "Chosen",
    "Coverage",
    "Package",
    "Refused",
    "Request",
    "Selection",
    "Window",
    "choose_cameras",
    "covered",
    "delete_package",
    "export",
    "handover",
    "import_household",
    "request",
    "search",
    "selection_of",
    "town_log_problems",
    "urgent",
]
