"""The firmware catalogue's answers (``<town>/firmware.yml``): which build a device should run, and
which builds are known bad. Nothing here talks to a device.

Builds are compared exactly as the device reports them (``V5.7.15 build 230519``,
``V2.840.0000000.11.R.230412``), which is how the catalogue writes them. The rollout
(:mod:`camfleet.jobs.firmware`), the exporter's ``device`` module and ``camfleet firmware
vulnerable`` all ask here.

    .venv/bin/camfleet firmware vulnerable inventory/ngoc-lac
"""

from __future__ import annotations

from dataclasses import dataclass

from camfleet.inventory.fleet import Fleet
from camfleet.model import BadBuild, Camera, FirmwareEntry, Recorder


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


def status_of(fleet: Fleet, device: str, current: str | None) -> FirmwareStatus:
    """Where ``device`` stands when it runs ``current`` (None: use the inventory's last-seen build)."""
    entry = fleet.cameras.get(device) or fleet.recorders.get(device)
    if entry is None:
        raise FirmwareError(f"{device}: no camera or recorder with this id in the inventory")
    vendor, model, seen = device_identity(entry)
    line = catalogue_entry(fleet, vendor, model)
    build = current if current is not None else seen
    bad = known_bad(line, build)
    return FirmwareStatus(
        device=device,
        vendor=vendor,
        model=model,
        current=build,
        approved=line.approved.build,
        file=line.approved.file,
        sha256=line.approved.sha256,
        vulnerable=Vulnerability(bad.build, tuple(bad.cves), bad.note) if bad else None,
    )


def vulnerable_devices(fleet: Fleet) -> list[FirmwareStatus]:
    """Managed cameras and recorders whose last-seen build the catalogue marks bad (inventory only)."""
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
