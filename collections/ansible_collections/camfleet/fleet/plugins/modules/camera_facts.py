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
  - camfleet.fleet.device.login
notes:
  - Supports check mode (it only reads).
"""

EXAMPLES = r"""
- name: Read what the camera says it is
  camfleet.fleet.camera_facts:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
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
    JOB_ERRORS,
    fail,
    load_town,
    login,
)

with contextlib.suppress(ImportError):  # reported by load_town()
    from camfleet.jobs.devices import identity

SPEC: dict[str, Any] = dict(argument_spec=DEVICE_ARGS, supports_check_mode=True)
FACTS = ("vendor", "model", "serial", "mac", "firmware", "device_name", "activated")


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    try:
        facts, mismatches = identity(fleet, module.params["device"], login(module), timeout=module.params["timeout"])
    except JOB_ERRORS as err:
        fail(module, err)
    device = {k: getattr(facts, k) for k in FACTS}
    module.exit_json(changed=False, ansible_facts={"camfleet_device": device}, mismatches=mismatches)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
