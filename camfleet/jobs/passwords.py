"""Device passwords: generate ones every camera accepts, and rewrite the town's vault so that a
rotation interrupted at any step leaves each device reachable with a password the vault holds.

Why the vault is written twice per rotation (``playbooks/passwords.yml``):

1. :meth:`VaultFile.update` with :func:`begin` — the new password is written to the vault as
   *pending* (``vault_password_rotation[<key>]``) **before** any device is touched, while
   ``vault_device_credentials[<key>]`` still holds the old one.
2. The device gets the new password; the new one is proven to work and the old one refused.
   :func:`mark_done` records each device that now holds the pending password (an account such as
   ``nvr-01-channel-user`` lives on many cameras, so it moves one camera at a time).
3. :func:`finish` promotes the pending password once every device holding the account has it.

At any moment a device holds either the current password or, if its id is in ``done``, the
pending one (:func:`login_candidates`). A device whose change was sent but never confirmed (the
controller died mid-request) may hold either: the next run tries the one the vault says, and
only if the device refuses it, the other one — one refused login, never a loop.

Recovery by hand: ``ansible-vault view inventory/<town>/vault/secrets.yml`` shows
``vault_password_rotation``; re-running ``playbooks/passwords.yml`` finishes what was pending.

Rules (device-apis.md §1.4, §6): Hikvision 8-16 characters, Dahua 8-32, at least two character
classes, never the user name. Generated passwords are 16 characters of all four classes from an
alphabet without look-alikes and with only URL-safe symbols, so they survive RTSP URLs, Dahua's
query strings and a technician reading them off a screen::

    .venv/bin/python -c "from camfleet.jobs.passwords import generate_password as g; print(g('admin'))"
"""

from __future__ import annotations

import datetime as dt
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from camfleet.drivers import open_driver
from camfleet.drivers.base import Driver, RecorderDriver
from camfleet.drivers.errors import AuthError, DeviceError, DriverError, LockedOut, NotActivated
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.vault import VaultError, VaultFile
from camfleet.jobs.base import JobError
from camfleet.model import Camera, CameraStatus

CREDENTIALS = "vault_device_credentials"
ROTATION = "vault_password_rotation"
LOWER = "abcdefghijkmnopqrstuvwxyz"  # no l
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
DIGITS = "23456789"  # no 0, 1
SYMBOLS = "-_.~"  # URL-unreserved: safe in RTSP URLs and query strings
LENGTH = 16
MAX_LENGTH = {"hikvision": 16, "dahua": 32, "kbvision": 32}
#: Dahua's web UI refuses these in passwords [?]; we never generate them anyway.
DAHUA_FORBIDDEN = "'\";:&"


# --------------------------------------------------------------------------- passwords


def password_problems(password: str, vendor: str = "hikvision", username: str | None = None) -> list[str]:
    """Why ``vendor``'s devices would refuse ``password`` (empty if they accept it)."""
    problems = []
    longest = MAX_LENGTH.get(vendor, 16)
    if not 8 <= len(password) <= longest:
        problems.append(f"must be 8 to {longest} characters, not {len(password)}")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    if classes < 2:
        problems.append("needs at least two of: lower case, upper case, digits, symbols")
    if username and (username.lower() in password.lower() or username.lower()[::-1] in password.lower()):
        problems.append("must not contain the user name")
    if vendor in ("dahua", "kbvision") and any(c in password for c in DAHUA_FORBIDDEN):
        problems.append(f"must not contain any of {DAHUA_FORBIDDEN}")
    if re.search(r"(.)\1\1", password):
        problems.append("must not repeat a character three times in a row")
    return problems


def generate_password(username: str | None = None, *, rng: random.Random | None = None) -> str:
    """A 16-character password every supported vendor accepts (about 94 bits of entropy).

    ``rng`` is for tests; by default the operating system's randomness (:mod:`secrets`).
    """
    rng = rng or secrets.SystemRandom()
    alphabet = LOWER + UPPER + DIGITS + SYMBOLS
    while True:
        chars = [rng.choice(LOWER), rng.choice(UPPER), rng.choice(DIGITS), rng.choice(SYMBOLS)]
        chars += [rng.choice(alphabet) for _ in range(LENGTH - len(chars))]
        rng.shuffle(chars)
        password = "".join(chars)
        if not any(password_problems(password, vendor, username) for vendor in MAX_LENGTH):
            return password


# --------------------------------------------------------------------------- rotation bookkeeping


@dataclass(frozen=True)
class Login:
    """A password to try for one account on one device, and why."""

    username: str
    password: str
    source: str  # "current" | "pending"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def credentials(data: dict[str, Any], key: str) -> dict[str, str]:
    found = (data.get(CREDENTIALS) or {}).get(key)
    if not isinstance(found, dict) or "username" not in found or "password" not in found:
        raise VaultError(f"{CREDENTIALS}.{key}: no username and password in the vault")
    return {"username": str(found["username"]), "password": str(found["password"])}


def rotation(data: dict[str, Any], key: str) -> dict[str, Any]:
    """The account's rotation record (``{}`` if it was never rotated by camfleet)."""
    found = (data.get(ROTATION) or {}).get(key)
    return dict(found) if isinstance(found, dict) else {}


def pending_password(data: dict[str, Any], key: str) -> str | None:
    value = rotation(data, key).get("pending_password")
    return str(value) if value is not None else None


def login_candidates(data: dict[str, Any], key: str, device: str) -> list[Login]:
    """What to try, in order, to log in to ``device`` as ``key``'s account: the password the vault
    says the device holds first, then (only after a refusal) the other one of a pending rotation.
    """
    cred = credentials(data, key)
    current = Login(cred["username"], cred["password"], "current")
    pending = pending_password(data, key)
    if pending is None:
        return [current]
    new = Login(cred["username"], pending, "pending")
    return [new, current] if device in rotation(data, key).get("done", []) else [current, new]


def needs_rotation(data: dict[str, Any], key: str, max_age_days: float, now: dt.datetime | None = None) -> bool:
    """True if a rotation is pending, or the password is older than ``max_age_days`` (or of unknown age)."""
    record = rotation(data, key)
    if record.get("pending_password") is not None:
        return True
    rotated = record.get("rotated")
    if not rotated:
        return True
    when = dt.datetime.fromisoformat(str(rotated))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (now or dt.datetime.now(dt.UTC)) - when >= dt.timedelta(days=max_age_days)


def begin(data: dict[str, Any], key: str, new_password: str) -> str:
    """Record ``new_password`` as pending for ``key`` (or keep the one already pending); returns it."""
    credentials(data, key)
    existing = pending_password(data, key)
    if existing is not None:
        return existing
    records = data.setdefault(ROTATION, {})
    record = dict(records.get(key) or {})
    record.update({"pending_password": new_password, "started": _now(), "done": []})
    records[key] = record
    return new_password


def mark_done(data: dict[str, Any], key: str, device: str) -> None:
    """``device`` now holds ``key``'s pending password."""
    record = data.setdefault(ROTATION, {}).setdefault(key, {})
    if record.get("pending_password") is None:
        raise VaultError(f"{ROTATION}.{key}: no rotation pending; cannot record {device}")
    done = list(record.get("done") or [])
    if device not in done:
        done.append(device)
    record["done"] = sorted(done)


def finish(data: dict[str, Any], key: str, holders: set[str]) -> bool:
    """Promote the pending password once every device in ``holders`` has it; True if promoted."""
    record = rotation(data, key)
    pending = record.get("pending_password")
    if pending is None or not holders <= set(record.get("done") or []):
        return False
    data[CREDENTIALS][key]["password"] = str(pending)
    data[ROTATION][key] = {"rotated": _now()}
    return True


def complete(data: dict[str, Any], key: str, device: str, holders: set[str]) -> bool:
    """:func:`mark_done` then :func:`finish`: True if the new password became the current one."""
    mark_done(data, key, device)
    return finish(data, key, holders)


def abandon_device(data: dict[str, Any], key: str, device: str) -> None:
    """``device`` refused the pending password after all: it holds the current one."""
    record = data.get(ROTATION, {}).get(key)
    if isinstance(record, dict) and device in (record.get("done") or []):
        record["done"] = [d for d in record["done"] if d != device]


# --------------------------------------------------------------------------- the vault file


def cancel(data: dict[str, Any], key: str) -> None:
    """Forget ``key``'s pending password (the device refused it: it still holds the current one)."""
    record = rotation(data, key)
    if record.get("pending_password") is None or record.get("done"):
        return
    kept = {k: v for k, v in record.items() if k not in ("pending_password", "started", "done")}
    if kept:
        data[ROTATION][key] = kept
    else:
        del data[ROTATION][key]


# --------------------------------------------------------------------------- on the devices


class RotationError(Exception):
    """A rotation step failed; the message says what the device and the vault hold now."""


#: Builds a driver for one device logged in as (username, password).
Connect = Callable[[str, str], Driver]


@dataclass
class RotationResult:
    """What one rotation task did (the module's ``changed``/``msg``/``proof``)."""

    changed: bool
    msg: str
    key: str
    promoted: bool = False
    pending: bool = False
    proof: dict[str, bool] | None = None
    channel_online: bool | None = None


def open_login(connect: Connect, candidates: list[Login]) -> tuple[Driver, Login]:
    """A driver that logged in with the first candidate the device accepts.

    A second candidate (the other half of a pending rotation) is tried only after a plain refusal;
    a lock-out or anything else ends it: one refused login at most, never a loop.
    """
    for i, login in enumerate(candidates):
        driver = connect(login.username, login.password)
        try:
            driver.facts()
            return driver, login
        except AuthError as err:
            driver.close()
            if isinstance(err, LockedOut | NotActivated) or i == len(candidates) - 1:
                raise
    raise RotationError("no login to try")  # pragma: no cover - candidates is never empty


def prove(connect: Connect, username: str, new: str, old: str) -> dict[str, bool]:
    """The new password logs in and the old one is refused; ends with a good login, which clears
    the device's bad-login count for our address (one refused try, far from a lock-out).
    """
    for attempt in ("new", "old", "new again"):
        with connect(username, old if attempt == "old" else new) as driver:
            try:
                driver.facts()
            except AuthError as err:
                if attempt == "old":
                    continue
                raise RotationError(f"the device refuses the new password for {username} ({err})") from None
            if attempt == "old":
                raise RotationError(f"the device still accepts the old password for {username}")
    return {"new_accepted": True, "old_refused": True}


@dataclass
class Rotator:
    """Rotates accounts against one town vault; ``check`` reads devices and the vault, writes nothing."""

    vault: VaultFile
    check: bool = False
    max_age_days: float = 90.0
    force: bool = False

    def due(self, data: dict[str, Any], key: str) -> bool:
        return self.force or needs_rotation(data, key, self.max_age_days)

    def admin(self, device: str, connect: Connect) -> RotationResult:
        """Rotate the password of ``device``'s own login (its entry in the vault)."""
        data = self.vault.read()
        driver, used = open_login(connect, login_candidates(data, device, device))
        with driver:
            if used.source == "pending":  # an earlier run changed it and died before the vault
                if self.check:
                    return RotationResult(
                        True, f"{device} holds the pending password; would record it", device, pending=True
                    )
                self.vault.update(lambda d: complete(d, device, device, {device}))
                return RotationResult(True, f"{device}: finished an interrupted rotation", device, promoted=True)
            if not self.due(data, device):
                return RotationResult(False, f"{device}: rotated {rotation(data, device).get('rotated')}", device)
            if self.check:
                return RotationResult(True, f"{device}: would rotate {used.username}'s password", device)
            new = self.vault.update(lambda d: begin(d, device, generate_password(used.username)))
            try:
                driver.set_password(used.username, new)
            except DeviceError:
                self.vault.update(lambda d: cancel(d, device))
                raise
            except DriverError as err:
                err.message += "; the vault keeps the old password and the new one as pending: re-run to finish"
                raise
        proof = prove(connect, used.username, new, used.password)
        self.vault.update(lambda d: complete(d, device, device, {device}))
        return RotationResult(True, f"{device}: new password set and proven", device, promoted=True, proof=proof)

    def channel_user(
        self,
        camera: str,
        recorder: str,
        channel: int,
        holders: set[str],
        connect_camera: Connect,
        connect_recorder: Connect,
        channel_timeout_s: float = 30.0,
    ) -> RotationResult:
        """Rotate the recorder's pull account on ``camera`` and rewrite ``channel`` on the recorder.

        The account lives on every camera in ``holders``; the vault promotes the new password once
        all of them hold it, and until then says which ones do.
        """
        key = f"{recorder}-channel-user"
        data = self.vault.read()
        account = credentials(data, key)
        pending = pending_password(data, key)
        done = camera in rotation(data, key).get("done", [])
        if pending is None and not self.due(data, key):
            return RotationResult(False, f"{key}: rotated {rotation(data, key).get('rotated')}", key)
        if done:
            return self._channel_follow_up(
                data, camera, recorder, channel, holders, connect_recorder, channel_timeout_s
            )
        if self.check:
            return RotationResult(
                True, f"{camera}: would rotate {key} on the camera and its recorder channel", key, pending=bool(pending)
            )
        admin, _ = open_login(connect_camera, login_candidates(data, camera, camera))
        new = self.vault.update(lambda d: begin(d, key, generate_password(account["username"])))
        with admin:
            try:
                admin.set_user_password(account["username"], new, account["password"])
            except DeviceError:
                self.vault.update(lambda d: cancel(d, key))
                raise
        proof = prove(connect_camera, account["username"], new, account["password"])
        self.vault.update(lambda d: mark_done(d, key, camera))
        online = self._rewrite_channel(
            data, recorder, channel, account["username"], new, connect_recorder, channel_timeout_s
        )
        promoted, waiting = self._promote(key, holders)
        msg = f"{camera}: {key} rotated on the camera, recorder channel {channel} {'online' if online else 'OFFLINE'}"
        if waiting:
            msg += f"; still pending on {', '.join(waiting)} (the vault keeps both passwords)"
        return RotationResult(
            True, msg, key, promoted=promoted, pending=not promoted, proof=proof, channel_online=online
        )

    def _channel_follow_up(
        self,
        data: dict[str, Any],
        camera: str,
        recorder: str,
        channel: int,
        holders: set[str],
        connect_recorder: Connect,
        timeout_s: float,
    ) -> RotationResult:
        """``camera`` already holds the pending password: make sure its channel records with it
        (an earlier run may have died before rewriting it) and promote when every holder is done.
        """
        key = f"{recorder}-channel-user"
        nvr, _ = open_login(connect_recorder, login_candidates(data, recorder, recorder))
        with nvr:
            assert isinstance(nvr, RecorderDriver)
            state = nvr.channel_status().get(channel)
        changed, online = False, True
        if state is None or not state.online:
            if self.check:
                return RotationResult(
                    True, f"{camera}: would rewrite channel {channel} of {recorder}", key, pending=True
                )
            account = credentials(data, key)
            pending = pending_password(data, key) or account["password"]
            online = self._rewrite_channel(
                data, recorder, channel, account["username"], pending, connect_recorder, timeout_s
            )
            changed = True
        promoted, waiting = self._promote(key, holders) if not self.check else (False, [])
        msg = f"{camera} holds {key}'s new password; recorder channel {channel} {'online' if online else 'OFFLINE'}"
        if waiting:
            msg += f"; still pending on {', '.join(waiting)}"
        return RotationResult(
            changed or promoted, msg, key, promoted=promoted, pending=not promoted, channel_online=True
        )

    def _promote(self, key: str, holders: set[str]) -> tuple[bool, list[str]]:
        promoted = bool(self.vault.update(lambda d: finish(d, key, holders)))
        waiting = [] if promoted else sorted(holders - set(rotation(self.vault.read(), key).get("done", [])))
        return promoted, waiting

    def _rewrite_channel(
        self,
        data: dict[str, Any],
        recorder: str,
        channel: int,
        username: str,
        password: str,
        connect: Connect,
        timeout_s: float,
    ) -> bool:
        nvr, _ = open_login(connect, login_candidates(data, recorder, recorder))
        with nvr:
            if not isinstance(nvr, RecorderDriver):
                raise RotationError(f"{recorder} is not a recorder")
            current = next((c for c in nvr.channels() if c.number == channel), None)
            if current is None:
                raise RotationError(
                    f"{recorder} has no channel {channel}; provision the camera (playbooks/provision.yml)"
                )
            nvr.set_channel(
                channel,
                current.address,
                current.port,
                username,
                password,
                current.name,
                protocol=current.protocol or "HIKVISION",
                rewrite_password=True,
            )
            deadline = time.monotonic() + timeout_s
            while True:
                state = nvr.channel_status().get(channel)
                if state is not None and state.online:
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)


# --------------------------------------------------------------------------- one device (passwords.yml)

#: Cameras that carry the recorder's pull account (the ones a recorder records or recorded).
HOLDING = frozenset({CameraStatus.commissioned, CameraStatus.faulty})


def connector(fleet: Fleet, device_id: str, timeout: float) -> Connect:
    """Builds drivers for one device of the town at its endpoint, with the login it is given."""

    def connect(username: str, password: str) -> Driver:
        try:
            return open_driver(fleet, device_id, username, password, timeout=timeout)
        except (KeyError, ValueError) as err:
            raise JobError(str(err.args[0]) if isinstance(err, KeyError) else str(err)) from None

    return connect


def pull_account_holders(fleet: Fleet, recorder_id: str) -> set[str]:
    """The cameras holding ``<recorder>-channel-user``: the vault promotes its new password once all have it."""
    return {
        c.id
        for c in fleet.cameras_on_recorder(recorder_id)
        if c.is_managed and c.device is not None and c.status in HOLDING
    }


def rotate(
    fleet: Fleet,
    device_id: str,
    account: str,
    rotator: Rotator,
    *,
    timeout: float,
    channel_timeout_s: float = 30.0,
) -> RotationResult:
    """Rotate ``device_id``'s own login (``account="admin"``) or, on a camera, its recorder's pull
    account and the recorder channel that uses it (``account="channel"``)."""
    try:
        entry = fleet.device(device_id)
    except KeyError as err:
        raise JobError(str(err.args[0])) from None
    key = device_id
    try:
        if account == "admin":
            return rotator.admin(device_id, connector(fleet, device_id, timeout))
        if not isinstance(entry, Camera) or entry.recorder is None:
            raise JobError(
                f"{device_id}: tài khoản kênh cần camera có kênh đầu ghi / account=channel needs a camera with a recorder channel"
            )
        recorder = entry.recorder.id
        key = f"{recorder}-channel-user"
        return rotator.channel_user(
            device_id,
            recorder,
            entry.recorder.channel,
            pull_account_holders(fleet, recorder),
            connector(fleet, device_id, timeout),
            connector(fleet, recorder, timeout),
            channel_timeout_s,
        )
    except DriverError as err:
        raise err.with_facts(vault_key=key) from None
    except (RotationError, VaultError) as err:
        raise JobError(f"{device_id}: {err}", vault_key=key) from None
