"""A link router's RouterOS configuration as the inventory says: rendered (:mod:`camfleet.config.routeros`),
compared with its ``/export`` and only the differing lines sent (:mod:`camfleet.drivers.routeros`).

    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/links.yml --check --diff
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from camfleet.config.routeros import LinkConfigError, LinkOptions, render_router, wireguard_keys
from camfleet.drivers.errors import DriverError
from camfleet.drivers.routeros.driver import RouterChange
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.base import Credentials, JobError, connect_router


@dataclass
class RouterRun:
    """The router's change (secrets masked), its khu phố and the cameras riding its links."""

    change: RouterChange
    site: str | None
    cameras_behind: list[str] = field(default_factory=list)


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
) -> RouterRun:
    """Render the router's desired configuration, then apply only what differs (check mode: only say).

    When the router cannot be reached, the failure names its site and the cameras riding it.
    """
    router = fleet.link_routers.get(router_id)
    if router is None:
        raise JobError(f"{router_id}: no such link router in {fleet.folder}")
    behind = cameras_behind(fleet, router_id)
    facts: dict[str, Any] = {"site": router.site, "cameras_behind": behind}
    station = fleet.town.station
    try:
        options = LinkOptions(station_endpoint=station.wireguard_endpoint, station_port=station.wireguard_port)
        desired = render_router(fleet, router_id, wireguard_keys(keys), options)
    except LinkConfigError as err:
        raise JobError(f"{router_id}: {err}", **facts) from None
    try:
        with connect_router(fleet, router_id, login, timeout=timeout) as driver:
            change = driver.apply(desired, check=check)
    except DriverError as err:
        where = f"site {router.site}" if router.site else "the station"
        affected = f"; cameras riding it: {', '.join(behind)}" if behind else ""
        err.message = f"{err.message} ({where}{affected})"
        raise err.with_facts(**facts) from None
    return RouterRun(change, router.site, behind)
