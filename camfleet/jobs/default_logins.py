"""The factory-default password audit: does a camera or recorder still let ``admin`` in with its
maker's factory password (issue 15 item 6)?

Why it is careful: devices lock out after a few refused logins (Hikvision ``illegalLoginLock``, by
client address; Dahua ``LockLoginTimes``, by account; device-apis.md §0), and a locked camera is a
blind camera. So each device gets each known default at most once, never in a loop, and the audit
stops at the first refusal. Where the station holds the device's login (the vault), it logs in with
it first and reads the lock-out policy: a device that would lock after one refused login, or that is
locked now, is not tried; a device whose ``admin`` password the station knows is proven not on the
default without sending any wrong password at all. A community camera (the owner's, not in the
vault) is tried once where the town knows its address; one without an address is reported as not
audited, never silently passed. No password is ever returned, logged or printed: only the account.

The defaults (device-apis.md §6.4): Hikvision ``admin``/``12345`` on builds before activation
(IPC < 5.3.0, NVR < 3.3.0; a device upgraded from them keeps it), Dahua ``admin``/``admin`` before
the initialisation wizard (about 2017; KBVision is Dahua's OEM firmware).

Against the simulator (``factory_password`` makes a camera answer its maker's default)::

    .venv/bin/camfleet sim fault cam-01-t05 factory_password
    .venv/bin/ansible-playbook playbooks/audit.yml --tags default_logins -l cam-01-t05
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from camfleet.drivers.base import LoginLock
from camfleet.drivers.errors import AuthError, DeviceError, DeviceTimeout, DriverError, LockedOut, Unreachable
from camfleet.inventory.fleet import EndpointError, Fleet
from camfleet.jobs.base import Credentials, JobError, connect
from camfleet.model import Camera, CameraKind, driver_name

#: Factory logins per driver family, tried in this order, at most once each, stopping at the first refusal.
FACTORY_DEFAULTS: dict[str, tuple[Credentials, ...]] = {
    "hikvision": (Credentials("admin", "12345"),),
    "dahua": (Credentials("admin", "admin"),),
}

#: What an audit found: a default accepted, none accepted, not activated at all, or not audited (and why).
OUTCOMES = ("default_password", "not_default", "not_activated", "not_audited")


@dataclass
class DefaultLoginAudit:
    """One device's answer. ``attempts`` counts the factory logins sent (0 when proven without one);
    ``account`` names the account that took its default (never the password)."""

    device: str
    outcome: str
    reason: str
    attempts: int = 0
    account: str | None = None
    community: bool = False

    @property
    def vulnerable(self) -> bool:
        return self.outcome == "default_password"

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "outcome": self.outcome,
            "vulnerable": self.vulnerable,
            "reason": self.reason,
            "attempts": self.attempts,
            "account": self.account,
            "community": self.community,
        }


def _family(driver: str) -> str:
    return "hikvision" if driver.startswith("hikvision") else "dahua"


def _retries_left(err: AuthError) -> int | None:
    """``retryTimes=N`` from a Hikvision refusal; None where the device does not say (Dahua)."""
    m = re.search(r"retryTimes=(\d+)", err.device_said or "")
    return int(m.group(1)) if m else None


def _station_check(
    fleet: Fleet, device_id: str, station: Credentials, defaults: tuple[Credentials, ...], timeout: float
) -> tuple[str | None, str]:
    """Log in with the station's own login and read the lock-out first.

    Returns (an outcome that ends the audit here or None to go on, what was learned).
    """
    lock: LoginLock | None = None
    try:
        with connect(fleet, device_id, station, timeout=timeout) as driver:
            if not driver.facts().activated:
                return "not_activated", "not activated: no password at all; provision it before anyone else does"
            try:
                lock = driver.login_lock()
            except (DeviceError, DeviceTimeout):
                lock = None  # the family or this firmware does not say; one try cannot lock a 2+ threshold
    except LockedOut:
        return "not_audited", "locked out after refused logins now; no default tried (try again after the lock ends)"
    except AuthError as err:
        left = _retries_left(err)
        if left is not None and left < 2:
            return "not_audited", f"the station's login is refused and only {left} tries are left; no default tried"
        return None, "the station's own login is refused (reset or password changed?)"
    except (Unreachable, DeviceTimeout) as err:
        return "not_audited", f"not reached ({err.message})"
    if lock is not None and lock.enabled and lock.max_failures is not None and lock.max_failures < 2:
        return "not_audited", f"locks after {lock.max_failures} refused login; no default tried"
    for default in defaults:
        if default.username == station.username:
            if default.password == station.password:
                return "default_password", f"the vault's password for {station.username} is the factory default"
            return "not_default", f"{station.username} answers the station's own password, not the factory default"
    return None, "the station's login works"


def audit_default_login(
    fleet: Fleet, device_id: str, station: Credentials | None, *, timeout: float
) -> DefaultLoginAudit:
    """Whether ``device_id`` accepts its maker's factory login; at most one refused login per device."""
    try:
        entry = fleet.device(device_id)
    except KeyError as err:
        raise JobError(str(err.args[0])) from None
    community = isinstance(entry, Camera) and entry.kind is CameraKind.community
    audit = DefaultLoginAudit(device_id, "not_audited", "", community=community)
    if isinstance(entry, Camera) and entry.device is None:
        audit.reason = "no device recorded in the inventory; nothing to try"
        return audit
    try:
        if driver_name(entry) == "onvif":  # a shared camera: read through ONVIF, its logins are its owner's
            raise ValueError(
                f"{device_id}: camera của chủ nhà, chỉ đọc qua ONVIF: không thử mật khẩu mặc định / "
                "a shared owner camera read through ONVIF only, no factory login tried"
            )
        defaults = FACTORY_DEFAULTS[_family(driver_name(entry))]
    except ValueError as err:
        audit.reason = f"{str(err).split(': ', 1)[-1]}; check its password by hand with the owner"
        return audit
    try:
        fleet.endpoint(device_id)
    except EndpointError as err:
        unknown = isinstance(entry, Camera) and entry.network.address is None
        audit.reason = ("no address in the inventory" if unknown else str(err).split(": ", 1)[-1]) + (
            "; a community camera: record its address (network.address) or check it with the owner" if community else ""
        )
        return audit
    learned = ""
    if station is not None:
        done, learned = _station_check(fleet, device_id, station, defaults, timeout)
        if done is not None:
            audit.outcome, audit.reason = done, learned
            if done == "default_password":
                audit.account = station.username
            return audit
    for default in defaults:
        audit.attempts += 1
        try:
            with connect(fleet, device_id, default, timeout=timeout) as driver:
                facts = driver.facts()
        except LockedOut:
            audit.reason = "locked out after refused logins; stopped"
            return audit
        except AuthError:
            audit.outcome, audit.reason = "not_default", "the factory login is refused"
            return audit  # the first refusal ends the audit of this device
        except (Unreachable, DeviceTimeout) as err:
            audit.reason = f"not reached ({err.message})"
            return audit
        except DriverError as err:
            audit.reason = f"could not tell ({err.message})"
            return audit
        if not facts.activated:
            audit.outcome = "not_activated"
            audit.reason = "not activated: no password at all; provision it before anyone else on its network does"
            return audit
        audit.outcome, audit.account = "default_password", default.username
        audit.reason = f"{default.username} accepts the factory-default password; change it (playbooks/passwords.yml)"
        return audit
    audit.reason = learned or "no factory login known for this family"
    return audit
