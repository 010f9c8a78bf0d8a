"""The firmware catalogue's answers (``<town>/firmware.yml``): which build a device should run, and
which builds are known bad. Nothing here talks to a device.

A device is vulnerable when its build is one of the model's ``known_bad`` builds (compared exactly,
as the device reports it: ``V5.7.15 build 230519``, ``V2.840.0000000.11.R.230412``) or falls in one
of its ``vulnerable`` ranges, compared in version order (:mod:`camfleet.inventory.versions`), so a
build older than every one the catalogue names is caught too. A build that cannot be read while the
model has ranges is reported as vulnerable ("cannot rule out"): an audit never clears what it
cannot read. The rollout
(:mod:`camfleet.jobs.firmware`), the exporter's ``device`` module and ``camfleet firmware
vulnerable`` all ask here.

    .venv/bin/camfleet firmware vulnerable inventory/ngoc-lac
"""

from __future__ import annotations

from dataclasses import dataclass

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.versions import BuildVersion, parse_build
from camfleet.model import BadBuild, Camera, FirmwareEntry, Recorder, VulnerableRange


class FirmwareError(Exception):
    """The catalogue has no entry, or the file in the store is missing or not the approved one."""


@dataclass(frozen=True)
class Vulnerability:
    """A known-bad build a device runs: its CVEs and the catalogue's note."""

    build: str
    cves: tuple[str, ...]
    note: str | None = None

    def label(self) -> str:
        return ", ".join(self.cves) if self.cves else "known bad"


@dataclass(frozen=True)
class FirmwareStatus:
    """Where one device stands against the catalogue (``current`` None when its build is unknown)."""

    device: str
    vendor: str
    model: str
    current: str | None
    approved: str
    file: str
    sha256: str
    vulnerable: Vulnerability | None = None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.approved

    def as_dict(self) -> dict[str, object]:
        bad = self.vulnerable
        return {
            "device": self.device,
            "vendor": self.vendor,
            "model": self.model,
            "current": self.current,
            "approved": self.approved,
            "file": self.file,
            "up_to_date": self.up_to_date,
            "vulnerable": bad is not None,
            "cves": list(bad.cves) if bad else [],
            "vulnerability_note": bad.note if bad else None,
        }


def device_identity(entry: Camera | Recorder) -> tuple[str, str, str | None]:
    """(vendor, model, last-seen build) of an inventory camera or recorder."""
    if isinstance(entry, Camera):
        if entry.device is None:
            raise FirmwareError(f"{entry.id}: no device in the inventory; nothing to upgrade")
        return entry.device.vendor.value, entry.device.model, entry.device.firmware
    return entry.vendor.value, entry.model, entry.firmware


def catalogue_entry(fleet: Fleet, vendor: str, model: str) -> FirmwareEntry:
    """The catalogue line for a model, or FirmwareError saying where to add one."""
    found = fleet.firmware_for(vendor, model)
    if found is None:
        raise FirmwareError(
            f"no approved firmware for {vendor} {model} in {fleet.folder}/firmware.yml; "
            "add the model with its approved build, file and sha256"
        )
    return found


def known_bad(entry: FirmwareEntry, build: str | None) -> BadBuild | None:
    """The catalogue's known-bad line for ``build``, if it has one."""
    if build is None:
        return None
    return next((bad for bad in entry.known_bad if bad.build == build), None)


def range_bounds(entry: FirmwareEntry, rng: VulnerableRange) -> dict[str, BuildVersion | None]:
    """Each build a range names (``affected_from``, ``fixed_in``, ``last_affected``), read for the
    entry's maker; a name maps to None when its text is not a build (the loader reports it)."""
    return {
        name: parse_build(text, entry.vendor.value)
        for name in ("affected_from", "fixed_in", "last_affected")
        if (text := getattr(rng, name)) is not None
    }


def in_range(entry: FirmwareEntry, rng: VulnerableRange, build: BuildVersion) -> bool | None:
    """Whether ``build`` is inside ``rng``; None when the order cannot tell (a bound or the build unreadable)."""
    bounds = range_bounds(entry, rng)
    if any(b is None for b in bounds.values()):
        return None
    low, fixed, last = bounds.get("affected_from"), bounds.get("fixed_in"), bounds.get("last_affected")
    if fixed is None and last is None:
        return None  # the loader refuses such a range
    answers: list[bool | None] = []
    if low is not None:
        c = build.compare(low)
        answers.append(None if c is None else c >= 0)
    if fixed is not None:
        c = build.compare(fixed)
        answers.append(None if c is None else c < 0)
    if last is not None:
        c = build.compare(last)
        answers.append(None if c is None else c <= 0)
    if False in answers:
        return False
    return None if None in answers else True


def vulnerability(entry: FirmwareEntry, build: str | None) -> Vulnerability | None:
    """What the catalogue says against ``build``: its known-bad line, else the ranges it falls in
    (every CVE of them), else None. An unreadable build of a model with ranges is not cleared."""
    bad = known_bad(entry, build)
    if bad is not None:
        return Vulnerability(bad.build, tuple(bad.cves), bad.note)
    if build is None or not entry.vulnerable:
        return None
    parsed = parse_build(build, entry.vendor.value)
    hits: list[VulnerableRange] = []
    unsure: list[VulnerableRange] = []
    for rng in entry.vulnerable:
        inside = in_range(entry, rng, parsed) if parsed is not None else None
        if inside:
            hits.append(rng)
        elif inside is None:
            unsure.append(rng)
    if hits:
        cves = tuple(dict.fromkeys(c for r in hits for c in r.cves))
        notes = "; ".join(r.note for r in hits if r.note)
        return Vulnerability(build, cves, notes or None)
    if unsure:
        cves = tuple(dict.fromkeys(c for r in unsure for c in r.cves))
        why = "build not understood" if parsed is None else "build date missing"
        return Vulnerability(build, cves, f"{why}: cannot rule out; read the build on the device and check by hand")
    return None


def status_of(fleet: Fleet, device: str, current: str | None) -> FirmwareStatus:
    """Where ``device`` stands when it runs ``current`` (None: use the inventory's last-seen build)."""
    entry = fleet.cameras.get(device) or fleet.recorders.get(device)
    if entry is None:
        raise FirmwareError(f"{device}: no camera or recorder with this id in the inventory")
    vendor, model, seen = device_identity(entry)
    line = catalogue_entry(fleet, vendor, model)
    build = current if current is not None else seen
    return FirmwareStatus(
        device=device,
        vendor=vendor,
        model=model,
        current=build,
        approved=line.approved.build,
        file=line.approved.file,
        sha256=line.approved.sha256,
        vulnerable=vulnerability(line, build),
    )


def vulnerable_devices(fleet: Fleet) -> list[FirmwareStatus]:
    """Managed cameras and recorders whose last-seen build the catalogue marks bad or places in a
    vulnerable range (inventory only)."""
    found = []
    entries: list[Camera | Recorder] = [c for c in fleet.cameras.values() if c.is_managed and c.device]
    entries += list(fleet.recorders.values())
    for entry in sorted(entries, key=lambda e: e.id):
        vendor, model, _ = device_identity(entry)
        if fleet.firmware_for(vendor, model) is None:
            continue
        status = status_of(fleet, entry.id, None)
        if status.vulnerable is not None:
            found.append(status)
    return found
