"""What every job shares: the login it is given, the error it stops with, and reaching a device.

    .venv/bin/python -c "from camfleet.inventory import load; from camfleet.jobs.base import *; \\
        print(connect(load('inventory/ngoc-lac').fleet, 'cam-05-t02', Credentials('admin', 'x'), timeout=3))"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from camfleet.drivers import open_driver, open_router
from camfleet.drivers.base import Driver
from camfleet.drivers.routeros.hostkeys import Mode
from camfleet.inventory.fleet import Fleet

if TYPE_CHECKING:  # the driver module imports netmiko; open_router loads it when a router is driven
    from camfleet.drivers.routeros.driver import RouterOsDriver


@dataclass(frozen=True)
class Credentials:
    """A device login (the password never shows in a repr)."""

    username: str
    password: str = field(repr=False)


class JobError(Exception):
    """A job stops: one line saying why and what to do; ``facts`` go with the failure (the module's result)."""

    def __init__(self, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.message = message
        self.facts = facts

    def __str__(self) -> str:
        return self.message


def _reason(err: Exception) -> str:
    return str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)


def connect(fleet: Fleet, device_id: str, login: Credentials, *, timeout: float) -> Driver:
    """A driver for a camera or recorder of the town; JobError when there is none or it must not be reached."""
    try:
        return open_driver(fleet, device_id, login.username, login.password, timeout=timeout)
    except (KeyError, ValueError) as err:
        raise JobError(_reason(err)) from None


def connect_router(
    fleet: Fleet, router_id: str, login: Credentials, *, timeout: float, host_keys: Mode | None = None
) -> RouterOsDriver:
    """The RouterOS driver for a link router of the town; JobError when there is none or it must not be reached.

    A job a person runs pins an unknown router's SSH host key at first contact (``host_keys``
    defaults to ``record``); a changed key is refused unless ``accept`` is given.
    """
    try:
        return open_router(
            fleet, router_id, login.username, login.password, timeout=timeout, host_keys=host_keys or Mode.RECORD
        )
    except (KeyError, ValueError) as err:
        raise JobError(_reason(err)) from None
