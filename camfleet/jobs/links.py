"""A link router's RouterOS configuration as the inventory says: rendered (:mod:`camfleet.config.routeros`),
compared with its ``/export`` and only the differing lines sent (:mod:`camfleet.drivers.routeros`).

    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/links.yml --check --diff

The router's SSH host key is pinned at first contact (check mode too: the audit already trusts the
router with its password) and a changed one refused, unless ``accept_host_key`` says the router was
replaced or reinstalled (:mod:`camfleet.drivers.routeros.hostkeys`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from camfleet.config.routeros import LinkConfigError, LinkOptions, render_router, wireguard_keys
from camfleet.drivers.errors import DriverError
from camfleet.drivers.routeros.driver import RouterChange
from camfleet.drivers.routeros.hostkeys import Mode
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.base import Credentials, JobError, connect_router


@dataclass
class RouterRun:
    """The router's change (secrets masked), its khu phố, the cameras riding its links, and what was
    written to the pinned SSH host keys (empty when nothing)."""

    change: RouterChange
    site: str | None
    cameras_behind: list[str] = field(default_factory=list)
    host_key: str = ""


def cameras_behind(fleet: Fleet, router_id: str) -> list[str]:
    return sorted(c.id for link in fleet.links_of_router(router_id) for c in fleet.cameras_on_link(link.id))


def configure_router(
    fleet: Fleet,
    router_id: str,
    login: Credentials,
    keys: Mapping[str, Any],
    *,
    check: bool,
    timeout: float,
    accept_host_key: bool = False,
) -> RouterRun:
    """Render the router's desired configuration, then apply only what differs (check mode: only say).

    When the router cannot be reached, the failure names its site and the cameras riding it.
    ``accept_host_key`` replaces the router's pinned SSH host key with the one it presents.
    """
    router = fleet.link_routers.get(router_id)
    if router is None:
        raise JobError(f"{router_id}: không có router đường truyền này / no such link router in {fleet.folder}")
    behind = cameras_behind(fleet, router_id)
    facts: dict[str, Any] = {"site": router.site, "cameras_behind": behind}
    station = fleet.town.station
    try:
        options = LinkOptions(station_endpoint=station.wireguard_endpoint, station_port=station.wireguard_port)
        desired = render_router(fleet, router_id, wireguard_keys(keys), options)
    except LinkConfigError as err:
        raise JobError(f"{router_id}: {err}", **facts) from None
    try:
        host_keys = Mode.ACCEPT if accept_host_key else Mode.RECORD
        with connect_router(fleet, router_id, login, timeout=timeout, host_keys=host_keys) as driver:
            change = driver.apply(desired, check=check)
    except DriverError as err:
        where = f"site {router.site}" if router.site else "the station"
        affected = f"; cameras riding it: {', '.join(behind)}" if behind else ""
        err.message = f"{err.message} ({where}{affected})"
        raise err.with_facts(**facts) from None
    return RouterRun(change, router.site, behind, driver.host_key.note)
