"""Read-only jobs on one device: who it says it is, what it sees now, its configuration backup.

CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/snapshots.yml -l site_kp_03
CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/backup.yml
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from camfleet.drivers.base import Facts, RecorderDriver
from camfleet.drivers.errors import MalformedReply
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.vault import VaultFormatError
from camfleet.jobs.backups import (
    BackupVault,
    BadBackup,
    LastGood,
    check_export,
    last_good,
    names,
    read_backup,
    write_encrypted,
)
from camfleet.jobs.base import Credentials, JobError, connect, connect_router

IDENTITY_FIELDS = ("model", "serial", "mac", "firmware")


# --------------------------------------------------------------------------- identity


def identity(fleet: Fleet, device_id: str, login: Credentials, *, timeout: float) -> tuple[Facts, list[str]]:
    """The device's facts, and the inventory fields it contradicts (a swapped camera, an unknown build)."""
    try:
        entry = fleet.device(device_id)
    except KeyError as err:
        raise JobError(str(err.args[0])) from None
    with connect(fleet, device_id, login, timeout=timeout) as driver:
        facts = driver.facts()
    known = entry.device if hasattr(entry, "device") else entry
    mismatches = []
    for name in IDENTITY_FIELDS:
        want, have = getattr(known, name, None) if known is not None else None, getattr(facts, name, None)
        if want and have and str(want).lower() != str(have).lower():
            mismatches.append(f"{name}: inventory {want}, device {have}")
    return facts, mismatches


# --------------------------------------------------------------------------- files written whole or not at all


@dataclass(frozen=True)
class Saved:
    """A file a job wrote (or, in check mode, would): where, how big, its SHA-256, whether it changed."""

    path: Path
    size: int
    sha256: str
    changed: bool


def save(path: Path, content: bytes, *, check: bool, mode: int) -> Saved:
    """Write ``content`` to ``path`` through a temporary file and a rename, only when it differs."""
    digest = hashlib.sha256(content).hexdigest()
    try:
        changed = hashlib.sha256(path.read_bytes()).hexdigest() != digest
    except OSError:
        changed = True
    if changed and not check:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.chmod(tmp, mode)  # mkstemp makes it 0600
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return Saved(path, len(content), digest, changed)


# --------------------------------------------------------------------------- the aim check


def is_whole_jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8") and data.rstrip(b"\0\r\n").endswith(b"\xff\xd9")


def snapshot(
    fleet: Fleet, device_id: str, login: Credentials, path: Path, *, check: bool, timeout: float, channel: int = 1
) -> Saved:
    """What a camera (or a recorder's ``channel``) sees now, as a JPEG checked whole before it is written."""
    with connect(fleet, device_id, login, timeout=timeout) as driver:
        jpeg = driver.snapshot(channel) if isinstance(driver, RecorderDriver) else driver.snapshot()  # type: ignore[call-arg]
    if not is_whole_jpeg(jpeg):
        raise JobError(
            f"{device_id}: ảnh chụp không trọn vẹn / the picture the device sent is not a whole JPEG ({len(jpeg)} bytes)"
        )
    try:
        return save(path, jpeg, check=check, mode=0o644)
    except OSError as err:
        raise JobError(f"{device_id}: không ghi được tệp / cannot write {path}: {err.strerror}") from None


# --------------------------------------------------------------------------- configuration backups


def backup(
    fleet: Fleet,
    device_id: str,
    login: Credentials,
    dest: Path,
    vault: BackupVault,
    *,
    check: bool,
    timeout: float,
    accept_size_change: bool = False,
) -> Saved:
    """The device's configuration export into ``dest``, encrypted with ``vault``: cameras and
    recorders ``<id>.bin.vault`` (their own export), link routers ``<id>.rsc.vault`` (``/export`` with
    secrets hidden). The export is checked whole first (:func:`camfleet.jobs.backups.check_export`,
    its size against the last good backup's); a bad one raises JobError and replaces nothing.
    ``Saved.size`` and ``sha256`` are the export's (the encrypted file differs at every write);
    ``changed`` is False when the last backup in ``dest`` already holds the same export."""
    malformed: BadBackup | None = None
    if device_id in fleet.link_routers:
        kind, ext = "routeros", "rsc"
        with connect_router(fleet, device_id, login, timeout=timeout) as router:
            # The export's first line carries the time it was taken: drop it, or every backup differs.
            text = re.sub(r"^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by ", "# exported by ", router.backup(), count=1)
        content = text.encode()
    else:
        ext = "bin"
        with connect(fleet, device_id, login, timeout=timeout) as driver:
            kind = driver.vendor
            try:
                content = driver.config_export()
            except MalformedReply as err:  # a reply the driver could already tell was cut
                content, malformed = (
                    b"",
                    BadBackup(
                        "thiết bị trả lời không trọn vẹn", f"malformed reply: {str(err).removeprefix(f'{device_id}: ')}"
                    ),
                )
    good = last_good(dest, device_id, ext, kind, vault)
    try:
        if malformed is not None:
            raise malformed
        check_export(kind, content, good.content if good else None, accept_size_change=accept_size_change)
    except BadBackup as bad:
        raise _rejected(device_id, bad, good) from None
    sealed_name, plain_name = names(device_id, ext)
    path, plain = dest / sealed_name, dest / plain_name
    digest = hashlib.sha256(content).hexdigest()
    if good is not None and good.path == path and good.content == content:
        return Saved(path, len(content), digest, changed=False)
    if (good is None or good.path != path) and not _readable(path, vault):
        # a backup is there that this vault password does not open: never overwrite what cannot be read
        raise JobError(
            f"{device_id}: không mở được bản sao lưu đang có {path} bằng mật khẩu vault này, giữ nguyên / "
            f"the backup already in {path} does not open with this vault password: kept; move it away to back up again",
            path=str(path),
        )
    if not check:
        try:
            write_encrypted(path, content, vault)
            plain.unlink(missing_ok=True)  # the plaintext it replaces: a copied folder must leak nothing
        except OSError as err:
            raise JobError(f"{device_id}: không ghi được / cannot write {path}: {err.strerror or err}") from None
    return Saved(path, len(content), digest, changed=True)


def _readable(path: Path, vault: BackupVault) -> bool:
    """False only for a file that is there and does not decrypt with ``vault`` (missing: nothing to lose)."""
    try:
        read_backup(path, vault)
    except FileNotFoundError:
        return True
    except (OSError, VaultFormatError, ValueError):
        return False
    return True


def _rejected(device_id: str, bad: BadBackup, good: LastGood | None) -> JobError:
    """The one line a refused export fails with, Vietnamese first: why, and which backup stays."""
    kept = str(good.path) if good else None
    where = (
        f"giữ bản tốt gần nhất / kept the last good one: {kept}" if kept else "chưa có bản tốt nào / no good backup yet"
    )
    return JobError(
        f"{device_id}: sao lưu hỏng, không thay bản cũ / backup failed, nothing replaced: {bad.vi} / {bad.en}; {where}",
        reason=bad.en,
        kept=kept,
    )
