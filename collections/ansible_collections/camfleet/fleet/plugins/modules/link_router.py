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
  - The router's SSH host key is pinned by router id in the town's C(known_hosts) (beside the simulator's
    overlay when C(CAMFLEET_OVERLAY) is set) at first contact, and a changed key is refused before the
    password is sent.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
options:
  town:
    description: Town inventory folder (the folder holding C(town.yml)).
    type: path
    required: true
  router:
    description:
      - Router id in the inventory. Where it answers comes from the inventory (with C(CAMFLEET_OVERLAY), the
        simulator's overlay; a router missing from it is refused, never reached at its real address).
    type: str
    required: true
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
  accept_host_key:
    description:
      - Replace the router's pinned SSH host key with the one it presents now (the router was replaced or
        reinstalled, and checked on site). Without it a changed key fails the task.
    type: bool
    default: false
notes:
  - Supports check mode (the audit) and diff mode.
"""

EXAMPLES = r"""
- name: Apply the rendered RouterOS configuration
  camfleet.fleet.link_router:
    town: "{{ inventory_dir }}"
    router: "{{ inventory_hostname }}"
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
host_key:
  description: What was written to the pinned SSH host keys (recorded at first contact, or replaced); empty if nothing.
  returned: always
  type: str
msg:
  description: The same as I(host_key) when a key was written, else empty.
  returned: always
  type: str
"""

import contextlib
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import JOB_ERRORS, fail, load_town, login

with contextlib.suppress(ImportError):  # reported by load_town()
    from camfleet.jobs.links import configure_router

SPEC: dict[str, Any] = dict(
    argument_spec={
        "town": {"type": "path", "required": True},
        "router": {"type": "str", "required": True},
        "username": {"type": "str", "required": True},
        "password": {"type": "str", "required": True, "no_log": True},
        "wireguard_keys": {"type": "dict", "required": True, "no_log": True},
        "timeout": {"type": "float", "default": 10.0},
        "accept_host_key": {"type": "bool", "default": False},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        run = configure_router(
            fleet,
            p["router"],
            login(module),
            p["wireguard_keys"],
            check=module.check_mode,
            timeout=p["timeout"],
            accept_host_key=p["accept_host_key"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    change = run.change
    result = {
        "changed": change.changed,
        "commands": change.commands_sent,
        "differences": change.diff_lines,
        "site": run.site,
        "cameras_behind": run.cameras_behind,
        "host_key": run.host_key,
        "msg": run.host_key,
    }
    if module._diff and change.diff_lines:
        result["diff"] = {"prepared": "\n".join(change.diff_lines) + "\n"}
    module.exit_json(**result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
