"""What can go wrong when a driver talks to a camera or recorder, as exceptions a playbook can act on.

Why one small tree: an Ansible module, the exporter and the CLI all need to tell "wrong password"
(stop, do not retry: the device locks the account after a few tries) from "device offline" (try
later) from "device refused this value" (fix the inventory). Every error names the device and
quotes what the device said, on one line, and never carries a password::

    cam-01-t01: login refused (device said: badAuthorization, retryTimes=3)

Reproduce by hand against the simulator (``camfleet sim`` running)::

    .venv/bin/python -c "from camfleet.drivers.hikvision import HikvisionCamera as C; \\
        C('cam-01-t01', '127.77.0.10', 80, 'admin', 'wrong').facts()"
"""

from __future__ import annotations

from typing import Any, Self


class DriverError(Exception):
    """Base of every driver error: the device id, what went wrong, and the device's own words."""

    def __init__(self, device_id: str, message: str, device_said: str | None = None) -> None:
        self.device_id = device_id
        self.message = message
        self.device_said = device_said
        #: What the job that met the error knew by then (steps done, the device's site...), for its result.
        self.facts: dict[str, Any] = {}
        super().__init__(str(self))

    def with_facts(self, **facts: Any) -> Self:
        """The same error carrying ``facts`` too (the first value given for a key is kept)."""
        for key, value in facts.items():
            self.facts.setdefault(key, value)
        return self

    def __str__(self) -> str:
        said = f" (device said: {_one_line(self.device_said)})" if self.device_said else ""
        return f"{self.device_id}: {_one_line(self.message)}{said}"


class AuthError(DriverError):
    """The device refused the credentials. The driver sends no further request with them."""


class NotActivated(AuthError):
    """A factory-fresh device (Hikvision "inactive", Dahua "uninitialised"): call ``activate()``."""


class LockedOut(AuthError):
    """The device locked the account or address after bad logins; wait for the lock to expire."""


class Unreachable(DriverError):
    """No connection: refused, reset, dropped without a reply, no route, name not resolved,
    or no answer to the TCP connect within the timeout.
    """


class DeviceTimeout(DriverError):
    """Connected, but the device did not answer within the timeout (a hung or very slow device)."""


class DeviceError(DriverError):
    """The device answered and refused the request.

    ``status_code``/``sub_status`` are ISAPI's ``statusCode``/``subStatusCode``; for Dahua
    ``sub_status`` is the error line (``Bad Request!``). ``http_status`` is the HTTP code.
    """

    def __init__(
        self,
        device_id: str,
        message: str,
        device_said: str | None = None,
        *,
        status_code: int | None = None,
        sub_status: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.status_code = status_code
        self.sub_status = sub_status
        self.http_status = http_status
        super().__init__(device_id, message, device_said)


class Unsupported(DeviceError):
    """The device (or this driver for it) does not offer the resource or operation."""


class MalformedReply(DriverError):
    """The reply could not be parsed (truncated XML, ``key=value`` text without ``=``, not a JPEG)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
