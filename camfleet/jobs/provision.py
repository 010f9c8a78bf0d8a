"""A factory-fresh town camera into service: activation with a password the vault holds first, and
the end-to-end proof that ends with its commissioning record.

The steps between (baseline, recorder channel) are :mod:`camfleet.jobs.configure` and
:mod:`camfleet.jobs.recorders`; ``playbooks/provision.yml`` runs all four, and re-running it
continues where a failure stopped.

    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/provision.yml -l cam-02-t05
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from camfleet.drivers import stream_url
from camfleet.drivers.base import RecorderDriver
from camfleet.drivers.errors import DriverError
from camfleet.inventory.edit import EditError, set_scalar
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.vault import VaultFile
from camfleet.jobs.base import Credentials, JobError, connect
from camfleet.jobs.passwords import CREDENTIALS, generate_password
from camfleet.model import Camera, CameraStatus
from camfleet.probes.rtsp import probe_stream
from camfleet.reports.commissioning import Checks, record_text, without_time

# --------------------------------------------------------------------------- step 1: activation


@dataclass(frozen=True)
class Activation:
    """The camera's administrator login (as the vault now holds it), and whether this run activated it."""

    changed: bool
    activated: bool
    login: Credentials | None = None


def activate(
    fleet: Fleet, camera_id: str, vault: VaultFile, username: str, *, check: bool, timeout: float
) -> Activation:
    """Activate a factory-fresh camera with a generated password written to the vault *before* the
    camera gets it; an activated camera is checked with the vault's password (never retried)."""
    if camera_id not in fleet.cameras:
        raise JobError(f"{camera_id}: không có camera này trong dữ liệu / no camera with this id in the inventory")
    held = vault.read().get(CREDENTIALS, {}).get(camera_id)
    with connect(fleet, camera_id, Credentials(username, (held or {}).get("password", "")), timeout=timeout) as driver:
        if driver.activation_status():
            if held is None:
                raise JobError(
                    f"thiết bị đã kích hoạt nhưng kho bí mật không có mật khẩu / {camera_id} is already activated but the vault has no password for it; "
                    "reset it to factory defaults or add its password with ansible-vault edit"
                )
            driver.facts()  # proves the vault's password works (AuthError otherwise: never retried)
            return Activation(False, False, Credentials(held["username"], held["password"]))
        if check:
            return Activation(True, False)
        if held is None:
            held = {"username": username, "password": generate_password(username)}
            chosen = dict(held)

            def remember(data: dict[str, Any]) -> None:
                data.setdefault(CREDENTIALS, {})[camera_id] = chosen

            vault.update(remember)  # in the vault before the camera has it
        try:
            driver.activate(held["password"])
            driver.facts()
        except DriverError as err:  # shown to the installer as it is: never with the password in it
            err.message = (
                f"camera không nhận kích hoạt, mật khẩu mới đã lưu trong vault; sửa nguyên nhân rồi chạy lại "
                f"/ activation failed: {err.message}; the new password is kept in the vault: fix the cause and "
                f"re-run playbooks/provision.yml -l {camera_id}"
            )
            raise masked(err, held["password"]) from None
    return Activation(True, True, Credentials(held["username"], held["password"]))


def masked(err: DriverError, secret: str) -> DriverError:
    """``err`` with ``secret`` blanked wherever it shows (its message, what the device said, its facts):
    a device that echoes the password it refused must not put it in a playbook's output."""
    if not secret:
        return err

    def blank(value: Any) -> Any:
        return value.replace(secret, "********") if isinstance(value, str) else value

    err.message = blank(err.message)
    err.device_said = blank(err.device_said)
    err.facts = {key: blank(value) for key, value in err.facts.items()}
    return err


# --------------------------------------------------------------------------- step 4: the proof and the record


@dataclass(frozen=True)
class Commissioning:
    """What :func:`commission` proved and wrote (``record``/``snapshot`` None in check mode)."""

    changed: bool
    stream: str
    record: Path | None = None
    snapshot: Path | None = None
    inventory_updated: bool = False


def commission(
    fleet: Fleet,
    camera_id: str,
    camera_login: Credentials,
    recorder_login: Credentials,
    *,
    report_dir: Path,
    update_inventory: bool,
    check: bool,
    timeout: float,
) -> Commissioning:
    """Frames on the sub stream (a frame-verified probe, not a port check), the recorder channel
    online and recording, then the aim-check snapshot and the record; the camera becomes
    ``commissioned`` in its khu phố file once its sign is recorded."""
    camera = fleet.cameras.get(camera_id)
    if camera is None or camera.recorder is None:
        raise JobError(f"camera chưa có kênh đầu ghi / {camera_id} has no recorder channel in the inventory")
    slot = camera.recorder
    with connect(fleet, camera_id, camera_login, timeout=timeout) as cam:
        facts = cam.facts()
        probe = asyncio.run(
            probe_stream(
                stream_url(fleet, camera_id, sub=True),
                camera_login.username,
                camera_login.password,
                timeout=timeout,
                frames=1,
                measure_s=1.0,
            )
        )
        if not probe.success:
            raise JobError(
                f"{camera_id}: luồng hình không có hình / the stream delivers no video ({probe.reason}: {probe.detail})"
            )
        jpeg = cam.snapshot()
    with connect(fleet, slot.id, recorder_login, timeout=timeout) as nvr:
        if not isinstance(nvr, RecorderDriver):
            raise JobError(f"không phải đầu ghi / {slot.id} is not a recorder")
        state = nvr.channel_status().get(slot.channel)
    if state is None or not (state.online and state.recording):
        raise JobError(
            f"kênh đầu ghi chưa có tín hiệu và chưa ghi / {slot.id} channel {slot.channel} ({camera_id}) is not online and recording; run the recorder step again"
        )
    stream = f"{probe.codec} {probe.width}x{probe.height} {round(probe.fps_measured or 0)} fps"
    if check:
        return Commissioning(True, stream)
    os.makedirs(report_dir, exist_ok=True)
    snapshot = report_dir / f"{camera_id}.jpg"
    checks = Checks(
        facts.model,
        facts.serial,
        facts.firmware,
        stream,
        f"{slot.id} kênh/channel {slot.channel}: online, đang ghi/recording",
        snapshot,
    )
    record = report_dir / f"{camera_id}.md"
    text = record_text(fleet, camera, checks, dt.datetime.now(ZoneInfo(fleet.town.timezone)))
    # A re-run that finds the same camera in the same state keeps the first record (and its time).
    same = record.is_file() and without_time(record.read_text(encoding="utf-8")) == without_time(text)
    same = same and snapshot.is_file() and snapshot.read_bytes() == jpeg
    if not same:
        snapshot.write_bytes(jpeg)
        record.write_text(text, encoding="utf-8")
    signed = bool(camera.sign and camera.sign.installed_on)
    try:
        updated = bool(update_inventory and signed and mark_commissioned(fleet, camera))
    except (EditError, OSError) as err:
        raise JobError(
            f"{camera_id}: đã nghiệm thu nhưng chưa cập nhật được dữ liệu / commissioned, but the inventory could not be updated: {err}; set its status by hand"
        ) from None
    return Commissioning(not same or updated, stream, record, snapshot, updated)


def mark_commissioned(fleet: Fleet, camera: Camera) -> bool:
    """Flip the camera's ``status`` line to ``commissioned`` in its file; False if nothing to do."""
    if camera.status is CameraStatus.commissioned:
        return False
    origin = fleet.origin("cameras", camera.id)
    return set_scalar(origin.file, origin.path, "status", CameraStatus.commissioned.value)
