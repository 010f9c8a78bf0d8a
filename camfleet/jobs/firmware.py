"""The firmware rollout: a verified file onto a device, the reboot, and the health gate after it.

Why the file is checked here and not by the caller: a firmware file that is not byte for byte the
one the catalogue approved must never reach a device (:func:`verified_file`, before anything is
sent). Where a device stands against the catalogue is :mod:`camfleet.inventory.catalogue`.

The firmware store is a folder of vendor files named as the catalogue's ``approved.file``
(default ``firmware/`` at the repository root, kept out of git). For the simulator, write the
files the simulated devices accept; the reference town's catalogue carries their SHA-256::

    .venv/bin/camfleet firmware fetch-sim inventory/ngoc-lac --store firmware/
    .venv/bin/camfleet firmware verify inventory/ngoc-lac --store firmware/
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camfleet.drivers import stream_url
from camfleet.drivers.base import Driver, RecorderDriver
from camfleet.drivers.errors import DeviceTimeout, DriverError, Unreachable
from camfleet.inventory.catalogue import FirmwareError, FirmwareStatus, status_of
from camfleet.inventory.edit import EditError, record_firmware
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.base import Credentials, JobError, connect
from camfleet.jobs.files import sha256_file
from camfleet.model import Camera, Recorder
from camfleet.probes.rtsp import probe_stream

DEFAULT_STORE = "firmware"


@dataclass
class StoreCheck:
    """Result of :func:`verify_store`: files that match, and one line per problem."""

    good: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- files


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
    online_before = _online_channels(driver) if isinstance(driver, RecorderDriver) else None
    log.step(f"upload {len(image)} bytes: {status.current} -> {status.approved}")
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


# --------------------------------------------------------------------------- one device (firmware.yml)


@dataclass
class FirmwareRun:
    """What :func:`firmware_device` did: the module's ``changed``/``msg`` and the facts it returns."""

    changed: bool
    msg: str
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GateChecks:
    """What the health gate checks besides the build, and how long it waits."""

    stream: bool = True
    recorder_login: Credentials | None = None  # the camera's recorder channel is checked with it
    reboot_timeout_s: float = 300.0
    health_timeout_s: float = 60.0
    poll_s: float = 1.0


def _gate(fleet: Fleet, entry: Camera | Recorder, login: Credentials, checks: GateChecks, timeout: float) -> Gate:
    gate = Gate(checks.reboot_timeout_s, checks.health_timeout_s, checks.poll_s)
    if isinstance(entry, Camera):
        if checks.stream:
            gate.stream = (stream_url(fleet, entry.id, sub=True), login.username, login.password)
        if checks.recorder_login is not None and entry.recorder is not None:
            nvr = connect(fleet, entry.recorder.id, checks.recorder_login, timeout=timeout)
            if not isinstance(nvr, RecorderDriver):
                raise JobError(f"không phải đầu ghi / {entry.recorder.id} is not a recorder")
            gate.channel = RecorderChannel(nvr, entry.recorder.channel)
    return gate


def _recorded(fleet: Fleet, entry: Camera | Recorder, build: str | None, run: FirmwareRun, write: bool) -> bool:
    """Write ``build`` into the entry's inventory file when asked; False when the file already says so
    (compared with the file, never with the entry loaded before the upgrade)."""
    if not build or not write:
        return False
    try:
        return record_firmware(fleet, entry.id, build)
    except (EditError, OSError) as err:
        run.warnings.append(f"{entry.id}: runs {build}, but the inventory could not be updated ({err}); set it by hand")
        return False


def firmware_device(
    fleet: Fleet,
    device_id: str,
    login: Credentials,
    *,
    store: Path | None,
    upgrade_to_approved: bool,
    check: bool,
    timeout: float,
    gate: GateChecks,
    progress_log: Path | None = None,
    update_inventory: bool = True,
) -> FirmwareRun:
    """Where a camera or recorder stands against the catalogue (the survey), and, when it is not on
    the approved build, the verified file flashed and the health gate run (not in check mode)."""
    try:
        entry = fleet.device(device_id)
    except KeyError as err:
        raise JobError(str(err.args[0])) from None
    try:
        planned = status_of(fleet, device_id, None)
    except FirmwareError as err:
        raise JobError(f"{device_id}: {err}") from None
    facts: dict[str, Any] = {"approved": planned.approved}
    image = None
    if upgrade_to_approved and not check:
        if store is None:
            raise JobError(f"{device_id}: thiếu thư mục lưu firmware / store is required to upgrade", **facts)
        try:  # before anything is sent: a wrong file never reaches a device
            image = verified_file(store, planned.file, planned.sha256).read_bytes()
        except FirmwareError as err:
            raise JobError(f"{device_id}: {err}", **facts) from None
    run = FirmwareRun(False, "", facts)
    write = update_inventory and not check
    with connect(fleet, device_id, login, timeout=timeout) as driver:
        try:
            seen = driver.facts()
        except DriverError as err:
            raise err.with_facts(**facts) from None
        if not seen.activated:
            raise JobError(
                f"{device_id}: thiết bị chưa kích hoạt / not activated; provision it first (playbooks/provision.yml)",
                **facts,
            )
        if seen.model and seen.model != planned.model:
            raise JobError(
                f"{device_id}: model thiết bị không khớp dữ liệu / the device reports model {seen.model}, the inventory says {planned.model}; "
                "not flashing another model's firmware",
                **facts,
            )
        status = status_of(fleet, device_id, seen.firmware)
        bad = status.vulnerable
        facts.update(
            before=status.current,
            after=status.current,
            up_to_date=status.up_to_date,
            vulnerable=bad is not None,
            cves=list(bad.cves) if bad else [],
            vulnerability=(
                f"{device_id} {status.model} {status.current}: {bad.label()}" + (f" - {bad.note}" if bad.note else "")
                if bad
                else None
            ),
        )
        # The device, not the entry, says what it runs: an entry left behind (a flash killed after the
        # device took the new build, a hand flash) is corrected here, before anything is decided.
        listed = entry.firmware if isinstance(entry, Recorder) else (entry.device.firmware if entry.device else None)
        facts["inventory_updated"] = _recorded(fleet, entry, seen.firmware, run, write)
        corrected = (
            f"; kho đã được sửa theo thiết bị / inventory corrected to what the device runs: {listed} -> {seen.firmware}"
            if facts["inventory_updated"]
            else ""
        )
        if status.up_to_date or not upgrade_to_approved:
            where = (
                "runs the approved build" if status.up_to_date else f"would go {status.current} -> {status.approved}"
            )
            run.changed = bool(facts["inventory_updated"])
            run.msg = f"{device_id} {where}{corrected}"
            return run
        if check:
            run.changed, run.msg = True, f"{device_id}: would upgrade {status.current} -> {status.approved}"
            return run
        assert image is not None
        log = ProgressLog(device_id, progress_log)
        checks = _gate(fleet, entry, login, gate, timeout)
        try:
            health = upgrade(driver, status, image, checks, log)
        except DriverError as err:
            err.message = f"firmware upgrade {status.current} -> {status.approved} failed: {err.message}"
            raise err.with_facts(progress=log.samples, log=log.lines, **facts) from None
        finally:
            if checks.channel is not None:
                checks.channel.recorder.close()
    facts["after"] = health.build
    facts["inventory_updated"] = _recorded(fleet, entry, health.build, run, write) or facts["inventory_updated"]
    facts.update(progress=log.samples, log=log.lines, health=health.as_dict())
    if health.problems:
        raise JobError(
            f"{device_id}: đã nâng cấp nhưng thiết bị chưa ổn định / upgraded to {health.build} but unhealthy: {'; '.join(health.problems)}",
            changed=True,
            **facts,
        )
    run.changed = True
    run.msg = f"{device_id}: {status.current} -> {health.build}, healthy (flash {' '.join(f'{s}%' for s in log.samples[-4:])})"
    return run
