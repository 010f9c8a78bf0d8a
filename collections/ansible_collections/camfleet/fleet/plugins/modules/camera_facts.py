#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Read a camera's or recorder's identity (model, serial, MAC, firmware) and compare it with the inventory."""

from __future__ import annotations

DOCUMENTATION = r"""
module: camera_facts
short_description: Read a camera's or recorder's identity and compare it with the camfleet inventory
description:
  - Asks the device (Hikvision ISAPI, Dahua CGI) for its model, serial number, MAC, firmware build and name.
  - Returns them as C(camfleet_device) facts, with the fields where the device and the inventory disagree
    (a swapped camera, a firmware the inventory does not know) in C(mismatches).
  - Reads only; never changes the device.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
notes:
  - Supports check mode (it only reads).
"""

EXAMPLES = r"""
- name: Read what the camera says it is
  camfleet.fleet.camera_facts:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
"""

RETURN = r"""
ansible_facts:
  description: C(camfleet_device) - vendor, model, serial, mac, firmware, device_name, activated.
  returned: success
  type: dict
mismatches:
  description: "Inventory fields the device contradicts, e.g. C(device.serial: inventory X, device Y)."
  returned: success
  type: list
  elements: str
"""

import contextlib
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    DEVICE_ARGS,
    connect,
    device_entry,
    fail_device,
    load_town,
    require_camfleet,
)

with contextlib.suppress(ImportError):  # reported by require_camfleet()
    from camfleet.drivers.errors import DriverError


SPEC: dict[str, Any] = dict(argument_spec=DEVICE_ARGS, supports_check_mode=True)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    fleet = load_town(module, module.params["town"])
    entry = device_entry(module, fleet, module.params["device"])
    try:
        with connect(module, entry) as driver:
            facts = driver.facts()
    except DriverError as err:
        fail_device(module, err)
    known = entry.device if hasattr(entry, "device") else entry
    mismatches = []
    for name in ("model", "serial", "mac", "firmware"):
        want, have = getattr(known, name, None) if known is not None else None, getattr(facts, name, None)
        if want and have and str(want).lower() != str(have).lower():
            mismatches.append(f"{name}: inventory {want}, device {have}")
    device = {
        k: getattr(facts, k) for k in ("vendor", "model", "serial", "mac", "firmware", "device_name", "activated")
    }
    module.exit_json(changed=False, ansible_facts={"camfleet_device": device}, mismatches=mismatches)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
