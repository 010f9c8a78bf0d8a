#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Apply a link router's RouterOS configuration, rendered from the camfleet inventory, over netmiko."""

from __future__ import annotations

DOCUMENTATION = r"""
module: link_router
short_description: Make a link router's RouterOS configuration match the camfleet inventory
description:
  - Renders the router's desired configuration from the town inventory (WireGuard tunnel to the station,
    firewall isolating the camera from the household LAN, upstream cap for the camera, DHCP lease pinning
    the camera, identity, NTP) with the C(templates/routeros/) Jinja2 templates.
  - Reads the running configuration (C(/export)) over SSH with netmiko, compares section by section and
    sends only the lines that differ; a second run sends nothing.
  - Secrets (WireGuard private keys, passwords) never appear in the diff, the result or the log.
  - When the router cannot be reached the failure names its site and the cameras riding its link.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
options:
  town:
    description: Town inventory folder (the folder holding C(town.yml)).
    type: path
    required: true
  router:
    description: Router id in the inventory.
    type: str
    required: true
  host:
    description: Address to reach the router at (the simulator's overlay gives a loopback one).
    type: str
    required: true
  port:
    description: SSH port.
    type: int
    default: 22
  username:
    description: SSH user.
    type: str
    required: true
  password:
    description: SSH password.
    type: str
    required: true
  wireguard_keys:
    description: The vault's C(vault_wireguard_keys) (router id to private and public key).
    type: dict
    required: true
  timeout:
    description: Seconds to wait for the SSH connection.
    type: float
    default: 10
notes:
  - Supports check mode (the audit) and diff mode.
"""

EXAMPLES = r"""
- name: Apply the rendered RouterOS configuration
  camfleet.fleet.link_router:
    town: "{{ inventory_dir }}"
    router: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    port: "{{ camfleet_ssh_port }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    wireguard_keys: "{{ vault_wireguard_keys }}"
"""

RETURN = r"""
commands:
  description: Lines sent to the router (secrets masked); empty in check mode or when nothing differed.
  returned: always
  type: list
  elements: str
differences:
  description: What differs between the running and the desired configuration (secrets masked).
  returned: always
  type: list
  elements: str
site:
  description: The router's khu phố (null for the station's core router).
  returned: always
  type: str
cameras_behind:
  description: Cameras riding this router's links (also returned when the router fails).
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    fail_device,
    load_town,
    require_camfleet,
)

try:
    from camfleet.drivers.errors import DriverError
    from camfleet.drivers.routeros import RouterOsDriver
    from camfleet.links import LinkConfigError, LinkOptions, render_router, wireguard_keys
except ImportError:  # reported by require_camfleet()
    pass


SPEC: dict[str, Any] = dict(
    argument_spec={
        "town": {"type": "path", "required": True},
        "router": {"type": "str", "required": True},
        "host": {"type": "str", "required": True},
        "port": {"type": "int", "default": 22},
        "username": {"type": "str", "required": True},
        "password": {"type": "str", "required": True, "no_log": True},
        "wireguard_keys": {"type": "dict", "required": True, "no_log": True},
        "timeout": {"type": "float", "default": 10.0},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    router = fleet.link_routers.get(p["router"])
    if router is None:
        module.fail_json(msg=f"{p['router']}: no such link router in {p['town']}")
    behind = sorted(c.id for link in fleet.links_of_router(router.id) for c in fleet.cameras_on_link(link.id))
    facts = {"site": router.site, "cameras_behind": behind}
    station = fleet.town.station
    try:
        options = LinkOptions(station_endpoint=station.wireguard_endpoint, station_port=station.wireguard_port)
        desired = render_router(fleet, router.id, wireguard_keys(p["wireguard_keys"]), options)
    except LinkConfigError as err:
        module.fail_json(msg=f"{router.id}: {err}", **facts)
    try:
        with RouterOsDriver(
            router.id,
            p["host"],
            port=p["port"],
            username=p["username"],
            password=p["password"],
            conn_timeout=p["timeout"],
        ) as driver:
            change = driver.apply(desired, check=module.check_mode)
    except DriverError as err:
        where = f"site {router.site}" if router.site else "the station"
        affected = f"; cameras riding it: {', '.join(behind)}" if behind else ""
        err.message = f"{err.message} ({where}{affected})"
        fail_device(module, err, **facts)
    result = {"changed": change.changed, "commands": change.commands_sent, "differences": change.diff_lines, **facts}
    if module._diff and change.diff_lines:
        result["diff"] = {"prepared": "\n".join(change.diff_lines) + "\n"}
    module.exit_json(**result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
