"""Firmware catalogue logic: which build a device should run, whether a file is the right one, and
which devices run a build the catalogue marks vulnerable.

Why this lives outside the Ansible module: the rollout playbook (``playbooks/firmware.yml``), the
CLI and the tests all ask the same three questions, and a firmware file that is not byte for byte
the one the catalogue approved must never reach a device. Builds are compared exactly as the
device reports them (``V5.7.15 build 230519``, ``V2.840.0000000.11.R.230412``), which is how the
catalogue (``<town>/firmware.yml``) writes them.

The firmware store is a folder of vendor files named as the catalogue's ``approved.file``
(default ``firmware/`` at the repository root, kept out of git). For the simulator, write the
files the simulated devices accept (:func:`camfleet.sim.devices.make_firmware`); the reference
town's catalogue carries their SHA-256::

    .venv/bin/python -m camfleet.firmware fetch-sim inventory/ngoc-lac --store firmware/
    .venv/bin/python -m camfleet.firmware verify inventory/ngoc-lac --store firmware/
    .venv/bin/python -m camfleet.firmware vulnerable inventory/ngoc-lac
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from camfleet.drivers.base import Driver, RecorderDriver
    from camfleet.inventory.fleet import Fleet
    from camfleet.model import BadBuild, Camera, FirmwareEntry, Recorder

CHUNK = 1 << 20
DEFAULT_STORE = "firmware"


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


@dataclass
class StoreCheck:
    """Result of :func:`verify_store`: files that match, and one line per problem."""

    good: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- catalogue


def device_identity(entry: Camera | Recorder) -> tuple[str, str, str | None]:
    """(vendor, model, last-seen build) of an inventory camera or recorder."""
    from camfleet.model import Camera

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


# --------------------------------------------------------------------------- files


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (vendor images are tens of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verified_file(store: Path, file: str, sha256: str) -> Path:
    """The store's copy of ``file`` if its SHA-256 is the catalogue's; FirmwareError otherwise.

    Called before anything is sent to a device: a truncated download or a look-alike file stops
    the rollout here, not on a camera.
    """
    if Path(file).name != file:
        raise FirmwareError(f"firmware file name {file!r} must be a plain file name inside the store")
    path = store / file
    if not path.is_file():
        raise FirmwareError(f"firmware file {path} is missing; put the vendor's file there (sha256 {sha256})")
    actual = sha256_file(path)
    if actual != sha256:
        raise FirmwareError(
            f"firmware file {path} has sha256 {actual}, the catalogue approves {sha256}; nothing was sent to any device"
        )
    return path


def verify_store(fleet: Fleet, store: Path, models: Iterable[tuple[str, str]] | None = None) -> StoreCheck:
    """Check the approved file of every catalogue line (or only of ``models``: (vendor, model) pairs)."""
    wanted = set(models) if models is not None else None
    check = StoreCheck()
    for line in sorted(fleet.firmware.values(), key=lambda e: (e.vendor.value, e.model)):
        if wanted is not None and (line.vendor.value, line.model) not in wanted:
            continue
        try:
            check.good.append(verified_file(store, line.approved.file, line.approved.sha256))
        except FirmwareError as err:
            check.problems.append(f"{line.vendor.value} {line.model}: {err}")
    return check


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sim_images(fleet: Fleet) -> dict[str, bytes]:
    """The simulator's firmware file for every catalogue line, by file name."""
    from camfleet.sim.devices import make_firmware

    return {line.approved.file: make_firmware(line.model, line.approved.build) for line in fleet.firmware.values()}


def fetch_sim(fleet: Fleet, store: Path) -> list[Path]:
    """Write the simulator's approved files into ``store``; their SHA-256 is what the reference
    town's catalogue approves (a catalogue whose digests differ is reported by :func:`verify_store`).
    """
    written = []
    for name, data in sorted(sim_images(fleet).items()):
        write_atomically(store / name, data)
        written.append(store / name)
    return written


# --------------------------------------------------------------------------- health


@dataclass
class HealthReport:
    """What the gate saw after the reboot; ``problems`` empty means healthy."""

    build: str | None = None
    stream: str | None = None  # "ok: 640x360 h264, 1 keyframe in 0.3 s" or the probe's reason
    channel_online: bool | None = None  # the camera's recorder channel (None: not checked)
    channels_online: int | None = None  # a recorder's online channels after the upgrade
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "build": self.build,
            "stream": self.stream,
            "channel_online": self.channel_online,
            "channels_online": self.channels_online,
            "healthy": not self.problems,
            "problems": self.problems,
        }


@dataclass
class RecorderChannel:
    """The recorder channel that records a camera, and a driver to ask the recorder about it."""

    recorder: RecorderDriver
    channel: int


class ProgressLog:
    """Upload progress: kept as samples for the module's result and, optionally, appended to a log
    file a technician can follow (``tail -f reports/firmware/progress.log``) while Ansible waits.
    """

    def __init__(self, device: str, path: Path | None = None) -> None:
        self.device = device
        self.path = path
        self.samples: list[int] = []
        self.lines: list[str] = []

    def step(self, what: str) -> None:
        self._write(what)

    def __call__(self, percent: int) -> None:
        if self.samples and self.samples[-1] == percent:
            return
        self.samples.append(percent)
        self._write(f"flash {percent}%")

    def _write(self, what: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        line = f"{stamp} {self.device} {what}"
        self.lines.append(line)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")


@dataclass
class Gate:
    """How long the health gate waits, and what it checks besides the build."""

    reboot_timeout_s: float = 300.0
    health_timeout_s: float = 60.0
    poll_s: float = 1.0
    stream: tuple[str, str, str] | None = None  # (rtsp url, username, password); None: no stream check
    channel: RecorderChannel | None = None


def upgrade(driver: Driver, status: FirmwareStatus, image: bytes, gate: Gate, log: ProgressLog) -> HealthReport:
    """Flash ``image`` (already verified), reboot into it and run the health gate.

    Raises DriverError if the flash fails or the device does not come back; returns the
    :class:`HealthReport` (its ``problems`` say why a device that came back is not healthy).
    """
    from camfleet.drivers.base import RecorderDriver

    online_before = _online_channels(driver) if isinstance(driver, RecorderDriver) else None
    log.step(f"upload {len(image)} bytes: {status.current} -> {status.approved}")
    from camfleet.drivers.errors import Unreachable

    try:
        result = driver.firmware_upload(image, log)
    except Unreachable as err:
        err.message = (
            f"stopped answering while flashing; it may be bricked: power-cycle it and read its build ({err.message})"
        )
        raise
    if result.reboot_required:
        log.step("flashed; rebooting")
        driver.reboot()
    else:
        log.step("flashed; the device reboots by itself")
    report = HealthReport()
    report.build = _wait_for_build(driver, status.approved, gate)
    log.step(f"back on {report.build}")
    if report.build != status.approved:
        report.problems.append(f"reports build {report.build} after the reboot, not {status.approved}")
        return report
    if gate.stream is not None:
        report.stream = _wait_for_stream(gate)
        if not report.stream.startswith("ok"):
            report.problems.append(f"sub stream delivers no frames ({report.stream})")
    if gate.channel is not None:
        report.channel_online = _wait_for_channel(gate.channel, gate)
        if not report.channel_online:
            report.problems.append(f"recorder channel {gate.channel.channel} did not come back online")
    if online_before is not None and isinstance(driver, RecorderDriver):
        report.channels_online = _wait_for_channels(driver, online_before, gate)
        if report.channels_online < online_before:
            report.problems.append(
                f"{report.channels_online} channels online after the upgrade, {online_before} before"
            )
    seen = [f"build {report.build}"]
    if report.stream is not None:
        seen.append(f"stream {report.stream}")
    if report.channel_online is not None and gate.channel is not None:
        seen.append(f"recorder channel {gate.channel.channel} {'online' if report.channel_online else 'offline'}")
    if report.channels_online is not None:
        seen.append(f"{report.channels_online} channels online (before: {online_before})")
    verdict = "healthy" if not report.problems else "UNHEALTHY: " + "; ".join(report.problems)
    log.step(f"{verdict} ({'; '.join(seen)})")
    return report


def _wait_for_build(driver: Driver, approved: str, gate: Gate) -> str | None:
    """Poll facts until the device reports ``approved`` or the reboot timeout passes.

    A device that still answers with its old build may not have gone down yet, so the old build is
    waited out too; only transport failures and the old build are waited out, a refused password
    raises at once.
    """
    from camfleet.drivers.errors import DeviceTimeout, Unreachable

    deadline = time.monotonic() + gate.reboot_timeout_s
    seen: str | None = None
    reached = False
    while True:
        try:
            seen = driver.facts().firmware
            reached = True
            if seen == approved:
                return seen
        except (Unreachable, DeviceTimeout):
            pass
        if time.monotonic() + gate.poll_s > deadline:
            if not reached:
                raise Unreachable(
                    driver.device_id, f"did not come back within {gate.reboot_timeout_s:g} s of the upgrade"
                )
            return seen
        time.sleep(gate.poll_s)


def _wait_for_stream(gate: Gate) -> str:
    from camfleet.probes.rtsp import probe_stream

    assert gate.stream is not None
    url, user, password = gate.stream
    deadline = time.monotonic() + gate.health_timeout_s
    while True:
        result = asyncio.run(probe_stream(url, user, password, timeout=min(10.0, gate.health_timeout_s), measure_s=0))
        if result.success:
            size = f"{result.width}x{result.height} " if result.width else ""
            return f"ok: {size}{result.codec or ''}, first keyframe in {result.time_to_first_frame_s or 0:.2f} s"
        reason = f"{result.reason}: {result.detail}" if result.reason else result.detail
        if time.monotonic() + gate.poll_s > deadline:
            return reason or "no frames"
        time.sleep(gate.poll_s)


def _wait_for_channel(link: RecorderChannel, gate: Gate) -> bool:
    deadline = time.monotonic() + gate.health_timeout_s
    while True:
        state = link.recorder.channel_status().get(link.channel)
        if state is not None and state.online:
            return True
        if time.monotonic() + gate.poll_s > deadline:
            return False
        time.sleep(gate.poll_s)


def _online_channels(recorder: RecorderDriver) -> int:
    return sum(1 for s in recorder.channel_status().values() if s.online)


def _wait_for_channels(recorder: RecorderDriver, wanted: int, gate: Gate) -> int:
    deadline = time.monotonic() + gate.health_timeout_s
    while True:
        online = _online_channels(recorder)
        if online >= wanted or time.monotonic() + gate.poll_s > deadline:
            return online
        time.sleep(gate.poll_s)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    from camfleet.inventory import InventoryError, load

    parser = argparse.ArgumentParser(prog="python -m camfleet.firmware", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("fetch-sim", "write the simulator's approved firmware files into the store"),
        ("verify", "check the SHA-256 of every approved file in the store"),
        ("vulnerable", "list devices whose last-seen build the catalogue marks bad"),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("town", type=Path, help="town inventory folder, e.g. inventory/ngoc-lac")
        if name != "vulnerable":
            cmd.add_argument("--store", type=Path, default=Path(DEFAULT_STORE), help="firmware store folder")
    args = parser.parse_args(argv)
    try:
        fleet = load(args.town, overlay=False).fleet
    except InventoryError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "fetch-sim":
        for path in fetch_sim(fleet, args.store):
            print(f"wrote {path}")
        check = verify_store(fleet, args.store)
    elif args.command == "verify":
        check = verify_store(fleet, args.store)
        for path in check.good:
            print(f"ok {path}")
    else:
        for status in vulnerable_devices(fleet):
            bad = status.vulnerable
            assert bad is not None
            print(f"{status.device}\t{status.model}\t{status.current}\t{bad.label()}\t-> {status.approved}")
        return 0
    for problem in check.problems:
        print(problem, file=sys.stderr)
    return 1 if check.problems else 0


if __name__ == "__main__":
    sys.exit(main())
