"""What can go wrong when a driver talks to a camera or recorder, as exceptions a playbook can act on.

Why one small tree: an Ansible module, the exporter and the CLI all need to tell "wrong password"
(stop, do not retry: the device locks the account after a few tries) from "device offline" (try
later) from "device refused this value" (fix the inventory). Every error names the device and
quotes what the device said, on one line, and never carries a password. Each kind of error has a
Vietnamese label (``label``) said first, so every job, playbook and exporter line that shows one reads
Vietnamese first without each call site saying it::

    cam-01-t01: sai mật khẩu / login refused (device said: badAuthorization, retryTimes=3)

A message that is already Vietnamese first ("không quản lý cấu hình / configuration not managed") is
said as it is, without the label.

Reproduce by hand against the simulator (``camfleet sim`` running)::

    .venv/bin/python -c "from camfleet.drivers.hikvision import HikvisionCamera as C; \\
        C('cam-01-t01', '127.77.0.10', 80, 'admin', 'wrong').facts()"
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from camfleet.inventory.glossary import Term, vietnamese_first


class DriverError(Exception):
    """Base of every driver error: the device id, what went wrong, and the device's own words."""

    #: The kind of error in Vietnamese (and English), said before the English message.
    label: ClassVar[Term] = Term("thiết bị báo lỗi", "device error")

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
        message = _one_line(self.message)
        if not vietnamese_first(message):
            message = f"{self.label.vi} / {message}"
        return f"{self.device_id}: {message}{said}"


class AuthError(DriverError):
    """The device refused the credentials. The driver sends no further request with them."""

    label = Term("sai mật khẩu", "login refused")


class NotActivated(AuthError):
    """A factory-fresh device (Hikvision "inactive", Dahua "uninitialised"): call ``activate()``."""

    label = Term("chưa kích hoạt", "not activated")


class LockedOut(AuthError):
    """The device locked the account or address after bad logins; wait for the lock to expire."""

    label = Term("tài khoản bị khóa", "locked out")


class Unreachable(DriverError):
    """No connection: refused, reset, dropped without a reply, no route, name not resolved,
    or no answer to the TCP connect within the timeout.
    """

    label = Term("không kết nối được", "unreachable")


class DeviceTimeout(DriverError):
    """Connected, but the device did not answer within the timeout (a hung or very slow device)."""

    label = Term("thiết bị không trả lời kịp", "timed out")


class DeviceError(DriverError):
    """The device answered and refused the request.

    ``status_code``/``sub_status`` are ISAPI's ``statusCode``/``subStatusCode``; for Dahua
    ``sub_status`` is the error line (``Bad Request!``). ``http_status`` is the HTTP code.
    """

    label = Term("thiết bị từ chối", "device refused")

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

    label = Term("thiết bị không hỗ trợ", "not supported")


class MalformedReply(DriverError):
    """The reply could not be parsed (truncated XML, ``key=value`` text without ``=``, not a JPEG)."""

    label = Term("trả lời không đọc được", "malformed reply")


class ReplyTooLarge(MalformedReply):
    """The reply was larger than its endpoint's cap (an endless or huge body): read no further.

    ``cap`` is the endpoint's cap in bytes, ``received`` what arrived (or was announced) by then.
    """

    label = Term("trả lời quá lớn", "reply too large")

    def __init__(self, device_id: str, message: str, *, cap: int, received: int) -> None:
        self.cap = cap
        self.received = received
        super().__init__(device_id, message)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
