"""Recorders as the inventory says: one channel engine for a camera on its channel, recorded 24/7,
and a recorder's disks.

:func:`ensure_channel` is the only code that compares and sets an NVR channel and its schedule:
``provision.yml`` (one camera, :func:`register_camera`) and ``recorders.yml`` (every commissioned
camera of a recorder, :func:`configure_recorder`) both call it, in check mode as in apply, so the
two can never disagree about what a channel needs. The recorder is told where it reaches the
camera from :meth:`camfleet.inventory.Fleet.endpoint` (the simulator's loopback address in a
simulated town).

    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/recorders.yml --check
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from camfleet.drivers.base import ChannelIdentity, ChannelState, Disk, Driver, RecorderDriver
from camfleet.drivers.errors import DriverError, Unsupported
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.base import Credentials, JobError, connect
from camfleet.model import CameraStatus

#: Disk states a recorder can go on recording with (``unformatted``: a new disk waiting for its format).
USABLE_DISKS = frozenset({"ok", "unformatted"})


@dataclass(frozen=True)
class ChannelSpec:
    """What one recorder channel must be: which camera, where the recorder reaches it, its make."""

    recorder: str
    number: int
    camera: str
    address: str
    port: int
    vendor: str


def channel_spec(fleet: Fleet, camera_id: str) -> ChannelSpec:
    """The channel the inventory gives a camera (``recorder: {id, channel}``), addressed at its endpoint."""
    camera = fleet.cameras.get(camera_id)
    if camera is None:
        raise JobError(f"{camera_id}: không có camera này trong dữ liệu / no camera with this id in the inventory")
    if camera.recorder is None:
        raise JobError(
            f"camera chưa có kênh đầu ghi / {camera_id} has no recorder channel in the inventory; set recorder: {{id, channel}}"
        )
    address, port = _reach(fleet, camera_id)
    return ChannelSpec(
        recorder=camera.recorder.id,
        number=camera.recorder.channel,
        camera=camera_id,
        address=address,
        port=port,
        vendor=camera.device.vendor.value if camera.device else "other",
    )


def _reach(fleet: Fleet, device_id: str) -> tuple[str, int]:
    """(host, HTTP port) of a device's endpoint; JobError when it must not be reached."""
    try:
        where = fleet.endpoint(device_id)
    except ValueError as err:
        raise JobError(str(err)) from None
    return where.host, where.http_port or 80


def ensure_pull_account(camera: Driver, pull: Credentials, *, check: bool) -> list[str]:
    """The recorder's pull account (a viewer that can only stream) on the camera."""
    if pull.username in {u.name for u in camera.users()}:
        return []
    if not check:
        camera.add_user(pull.username, pull.password, "viewer")
    return [f"add the pull account {pull.username} to {camera.device_id}"]


def ensure_channel(nvr: RecorderDriver, spec: ChannelSpec, pull: Credentials, *, check: bool) -> list[str]:
    """The channel points at the camera with the pull account and records 24/7; the steps taken (or,
    in check mode, that would be). The pull password is written with every channel change (the NVR
    never reads it back)."""
    steps: list[str] = []
    current = {c.number: c for c in nvr.channels()}.get(spec.number)
    wanted = (spec.address, spec.port, pull.username, spec.camera)
    if current is None or (current.address, current.port, current.username, current.name) != wanted:
        steps.append(f"{spec.recorder} channel {spec.number}: {spec.camera} at {spec.address}:{spec.port}")
        if not check:
            nvr.set_channel(
                spec.number,
                spec.address,
                spec.port,
                pull.username,
                pull.password,
                spec.camera,
                protocol=nvr.protocol_for(spec.vendor),
                rewrite_password=True,
            )
    if check:
        # A channel that does not exist yet has no schedule: it would get one.
        needs_schedule = current is None or nvr.recording_schedule(spec.number) != "continuous"
    else:
        needs_schedule = nvr.set_recording_schedule(spec.number, continuous=True)
    if needs_schedule:
        steps.append(f"{spec.recorder} channel {spec.number}: record 24/7")
    return steps


# --------------------------------------------------------------------------- the right camera on each channel


def _norm_mac(mac: str) -> str:
    return mac.strip().lower().replace("-", ":")


def identity_ok(fleet: Fleet, camera_id: str, seen: ChannelIdentity) -> bool | None:
    """Whether the device a recorder reports on a channel is the inventory's camera: by serial, else MAC,
    else model and address; None when neither side gives one the other can be compared with.

    A Hikvision recorder reports the camera's full serial (model, date, then the short serial) where an
    installer may have written the short one: a full serial ending in the inventory's (9 characters
    or more) is the same camera [?]."""
    camera = fleet.cameras.get(camera_id)
    device = camera.device if camera is not None else None
    if device is None:
        return None
    if seen.serial and device.serial:
        got, want = seen.serial.strip().upper(), device.serial.strip().upper()
        return got == want or (len(want) >= 9 and got.endswith(want))
    if seen.mac and device.mac:
        return _norm_mac(seen.mac) == _norm_mac(device.mac)
    if seen.model and seen.address:
        try:
            where = fleet.endpoint(camera_id).host
        except ValueError:
            return None
        return seen.model.strip().upper() == device.model.strip().upper() and seen.address == where
    return None


def _who(fleet: Fleet, seen: ChannelIdentity) -> str:
    """The inventory camera a reported identity belongs to, if any ("cam-01-t02"), else what it says."""
    for cam in fleet.cameras.values():
        d = cam.device
        if d is None:
            continue
        if (seen.serial and d.serial and seen.serial.strip().upper() == d.serial.strip().upper()) or (
            not seen.serial and seen.mac and d.mac and _norm_mac(seen.mac) == _norm_mac(d.mac)
        ):
            return cam.id
    said = ", ".join(f"{k} {v}" for k, v in (("serial", seen.serial), ("MAC", seen.mac), ("model", seen.model)) if v)
    return said or "?"


def wrong_cameras(fleet: Fleet, recorder_id: str, seen: dict[int, ChannelIdentity]) -> list[str]:
    """One line per channel of ``recorder_id`` that records another device than the inventory's camera."""
    lines = []
    for cam in fleet.cameras_on_recorder(recorder_id):
        if cam.recorder is None or cam.recorder.channel not in seen:
            continue
        ident = seen[cam.recorder.channel]
        if identity_ok(fleet, cam.id, ident) is False:
            n, other = cam.recorder.channel, _who(fleet, ident)
            expected = (cam.device.serial or cam.device.mac or cam.device.model) if cam.device else "?"
            lines.append(
                f"kênh {n} của {recorder_id} đang ghi camera khác: {other} thay vì {cam.id} ({expected}); kiểm tra "
                f"địa chỉ và dây của hai camera / channel {n} of {recorder_id} records another camera: {other} "
                f"instead of {cam.id} ({expected}); check the two cameras' addresses and cabling"
            )
    return lines


def wait_recording(nvr: RecorderDriver, number: int, wait_s: float, poll_s: float = 1.0) -> ChannelState | None:
    """Poll until the channel is online and recording, or ``wait_s`` passes; the last state seen."""
    deadline = time.monotonic() + wait_s
    while True:
        state = nvr.channel_status().get(number)
        if (state is not None and state.online and state.recording) or time.monotonic() > deadline:
            return state
        time.sleep(poll_s)


# --------------------------------------------------------------------------- one camera (provision.yml)


@dataclass
class Registration:
    """What :func:`register_camera` did: the steps, and the channel's state when it was waited for."""

    spec: ChannelSpec
    steps: list[str] = field(default_factory=list)
    state: ChannelState | None = None


def register_camera(
    fleet: Fleet,
    camera_id: str,
    camera_login: Credentials,
    recorder_login: Credentials,
    pull: Credentials,
    *,
    check: bool,
    timeout: float,
    wait_s: float = 0.0,
) -> Registration:
    """The pull account on the camera, then the camera's recorder channel (:func:`ensure_channel`);
    with ``wait_s``, wait for the channel to be online and recording (JobError if it is not)."""
    spec = channel_spec(fleet, camera_id)
    done = Registration(spec)
    try:
        _register(fleet, done, camera_login, recorder_login, pull, check=check, timeout=timeout, wait_s=wait_s)
    except DriverError as err:
        raise err.with_facts(recorder=spec.recorder, channel=spec.number, steps=done.steps) from None
    return done


def _register(
    fleet: Fleet,
    done: Registration,
    camera_login: Credentials,
    recorder_login: Credentials,
    pull: Credentials,
    *,
    check: bool,
    timeout: float,
    wait_s: float,
) -> None:
    spec, camera_id = done.spec, done.spec.camera
    with connect(fleet, camera_id, camera_login, timeout=timeout) as camera:
        done.steps += ensure_pull_account(camera, pull, check=check)
    with connect(fleet, spec.recorder, recorder_login, timeout=timeout) as nvr:
        if not isinstance(nvr, RecorderDriver):
            raise JobError(f"không phải đầu ghi / {spec.recorder} is not a recorder")
        done.steps += ensure_channel(nvr, spec, pull, check=check)
        if wait_s > 0 and not check:
            done.state = wait_recording(nvr, spec.number, wait_s)
            if done.state is None or not (done.state.online and done.state.recording):
                detail = f" ({done.state.detail})" if done.state is not None and done.state.detail else ""
                raise JobError(
                    f"kênh đầu ghi chưa có tín hiệu và chưa ghi / {spec.recorder} channel {spec.number} ({camera_id}) is not online and recording after "
                    f"{wait_s:g} s{detail}: check the camera's stream and the pull account",
                    recorder=spec.recorder,
                    channel=spec.number,
                    steps=done.steps,
                )


# --------------------------------------------------------------------------- one recorder (recorders.yml)


@dataclass
class RecorderReport:
    """What :func:`configure_recorder` did and saw."""

    steps: list[str] = field(default_factory=list)
    disks: list[Disk] = field(default_factory=list)
    #: Whether full disks overwrite the oldest footage (None: the recorder's driver cannot say).
    overwrite: bool | None = None
    #: One line per channel recording another camera than the inventory's (:func:`wrong_cameras`).
    wrong_cameras: list[str] = field(default_factory=list)

    @property
    def failed_disks(self) -> list[Disk]:
        return [d for d in self.disks if d.status not in USABLE_DISKS]

    @property
    def full(self) -> bool:
        """Every disk in service has no free byte left (a full disk is normal while overwrite is on)."""
        ok = [d for d in self.disks if d.status == "ok"]
        return bool(ok) and all(d.free_bytes <= 0 for d in ok)

    def recording_stopped(self, recorder_id: str) -> str | None:
        """The operator's one line when full disks with overwrite off have stopped recording; else None."""
        if not (self.full and self.overwrite is False):
            return None
        return (
            f"{recorder_id}: ổ cứng đầy và chế độ ghi đè đang tắt, đầu ghi ĐÃ NGỪNG GHI HÌNH; bật ghi đè bằng "
            "-e recorders_overwrite=true (hình cũ nhất sẽ bị ghi đè) / disks full and overwrite is off: recording "
            "has STOPPED; switch overwrite on with -e recorders_overwrite=true (the oldest footage is then "
            "recorded over), or export what must be kept first"
        )


def recorded_cameras(fleet: Fleet, recorder_id: str) -> list[str]:
    """The cameras a recorder must record now: its commissioned ones, in channel order."""
    return [c.id for c in fleet.cameras_on_recorder(recorder_id) if c.status is CameraStatus.commissioned]


def configure_recorder(
    fleet: Fleet,
    recorder_id: str,
    login: Credentials,
    pull: Credentials,
    *,
    check: bool,
    timeout: float,
    format_disk: int | None = None,
    force: bool = False,
    overwrite: bool = False,
) -> RecorderReport:
    """A channel per commissioned camera (:func:`ensure_channel`), its disks read, a replaced disk
    formatted when told (never one holding footage unless ``force``), overwrite of the oldest footage
    switched on when told and off (else only read: :meth:`RecorderReport.recording_stopped`)."""
    if recorder_id not in fleet.recorders:
        what = "a camera" if recorder_id in fleet.cameras else "not a recorder of the inventory"
        raise JobError(f"thiết bị không phải đầu ghi / {recorder_id} is {what}; recorder_config configures recorders")
    report = RecorderReport()
    specs = [channel_spec(fleet, camera_id) for camera_id in recorded_cameras(fleet, recorder_id)]
    try:
        with connect(fleet, recorder_id, login, timeout=timeout) as nvr:
            if not isinstance(nvr, RecorderDriver):
                raise JobError(f"không phải đầu ghi / {recorder_id} is not a recorder")
            for spec in specs:
                report.steps += ensure_channel(nvr, spec, pull, check=check)
            with contextlib.suppress(Unsupported):  # the recorder does not say which device a channel pulls
                report.wrong_cameras = wrong_cameras(fleet, recorder_id, nvr.channel_identities())
            report.disks = nvr.disks()
            _format(nvr, recorder_id, report, format_disk, force=force, check=check)
            report.overwrite = nvr.overwrite()
            if overwrite and report.overwrite is False:
                report.steps.append("overwrite on")
                if not check:
                    nvr.set_overwrite(True)
                    report.overwrite = nvr.overwrite()
    except DriverError as err:
        raise err.with_facts(steps=report.steps) from None
    return report


def _format(
    nvr: RecorderDriver, recorder_id: str, report: RecorderReport, slot: int | None, *, force: bool, check: bool
) -> None:
    """Format the replaced disk in ``slot``: only a new or unformatted one, unless ``force``."""
    if slot is None:
        return
    disk = next((d for d in report.disks if d.slot == slot), None)
    if disk is None:
        raise JobError(f"khe không có ổ cứng / {recorder_id} has no disk in slot {slot}", steps=report.steps)
    if disk.status == "ok" and not force:
        raise JobError(
            f"{recorder_id}: ổ {disk.slot} đang chứa hình đã ghi, định dạng sẽ xoá hết; thêm "
            f"-e recorders_force_format=true nếu đúng ý / disk {disk.slot} is in use ({disk.free_bytes / 1e9:.0f} GB "
            f"free of {disk.capacity_bytes / 1e9:.0f} GB): formatting loses its footage; add "
            "-e recorders_force_format=true if you mean it",
            steps=report.steps,
        )
    report.steps.append(f"format disk {disk.slot}")
    if not check:
        nvr.format_disk(disk.slot)
        report.disks = nvr.disks()
