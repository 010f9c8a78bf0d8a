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
from camfleet.inventory.fleet import Fleet
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
        raise JobError(f"{device_id}: the picture the device sent is not a whole JPEG ({len(jpeg)} bytes)")
    try:
        return save(path, jpeg, check=check, mode=0o644)
    except OSError as err:
        raise JobError(f"{device_id}: cannot write {path}: {err.strerror}") from None


# --------------------------------------------------------------------------- configuration backups


def backup(fleet: Fleet, device_id: str, login: Credentials, dest: Path, *, check: bool, timeout: float) -> Saved:
    """The device's configuration export into ``dest``: cameras and recorders ``<id>.bin`` (their own
    export), link routers ``<id>.rsc`` (``/export`` with secrets hidden). 0600: exports hold settings
    worth keeping private."""
    if device_id in fleet.link_routers:
        with connect_router(fleet, device_id, login, timeout=timeout) as router:
            # The export's first line carries the time it was taken: drop it, or every backup differs.
            text = re.sub(r"^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by ", "# exported by ", router.backup(), count=1)
        content, suffix = text.encode(), "rsc"
    else:
        with connect(fleet, device_id, login, timeout=timeout) as driver:
            content, suffix = driver.config_export(), "bin"
    return save(dest / f"{device_id}.{suffix}", content, check=check, mode=0o600)
