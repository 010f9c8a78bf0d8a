#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Activate a factory-fresh camera with a unique password that is in the vault before the camera has it."""

from __future__ import annotations

DOCUMENTATION = r"""
module: camera_activate
short_description: Activate a factory-fresh camera with a unique generated password kept in the vault
description:
  - A new camera leaves the box inactive (Hikvision) or uninitialised (Dahua) with no password.
  - The module generates a strong password (16 characters, four classes, no look-alikes), writes it to the
    town's vault (C(vault_device_credentials[<camera>])) B(before) activating, then activates the camera
    with it. A run that stops in between finds the password in the vault and finishes the same activation.
  - A camera that is already active is checked with the vault's password; nothing is changed.
  - Returns the login (username and password) for the following provisioning tasks; run it with C(no_log).
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
options:
  town:
    description: Town inventory folder.
    type: path
    required: true
  device:
    description: Camera id.
    type: str
    required: true
  host:
    description: Address to reach the camera at.
    type: str
    required: true
  port:
    description: HTTP port (default the inventory's).
    type: int
  username:
    description: Administrator account the camera gets.
    type: str
    default: admin
  vault_password_file:
    description: The vault's password file (to write the new password into C(vault/secrets.yml)).
    type: path
    required: true
  timeout:
    description: Seconds per HTTP request.
    type: float
    default: 10
notes:
  - Supports check mode (reports whether the camera would be activated; writes nothing).
"""

EXAMPLES = r"""
- name: Activate the camera
  camfleet.fleet.camera_activate:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    vault_password_file: "{{ inventory_dir }}/vault-password.DEMO-ONLY"
  no_log: true
  register: login
"""

RETURN = r"""
username:
  description: The camera's administrator account.
  returned: success
  type: str
password:
  description: Its password (as now in the vault).
  returned: success
  type: str
activated:
  description: Whether this run activated the camera.
  returned: always
  type: bool
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    DEVICE_ADDRESS_ARGS,
    connect_with,
    device_entry,
    fail_device,
    load_town,
    require_camfleet,
)

try:
    from camfleet.drivers.errors import DriverError
    from camfleet.passwords import CREDENTIALS, VaultError, VaultFile, generate_password
except ImportError:  # reported by require_camfleet()
    pass


SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ADDRESS_ARGS,
        "username": {"type": "str", "default": "admin"},
        "vault_password_file": {"type": "path", "required": True, "no_log": False},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    camera = device_entry(module, fleet, p["device"])
    vault = VaultFile(os.path.join(p["town"], "vault", "secrets.yml"), p["vault_password_file"])
    try:
        held = vault.read().get(CREDENTIALS, {}).get(camera.id)
        with connect_with(module, camera, p["username"], (held or {}).get("password", "")) as driver:
            if driver.activation_status():
                if held is None:
                    module.fail_json(
                        msg=f"{camera.id} is already activated but the vault has no password for it; "
                        "reset it to factory defaults or add its password with ansible-vault edit"
                    )
                driver.facts()  # proves the vault's password works (AuthError otherwise: never retried)
                module.exit_json(changed=False, activated=False, username=held["username"], password=held["password"])
            if module.check_mode:
                module.exit_json(changed=True, activated=False)
            if held is None:
                password = generate_password(p["username"])
                held = {"username": p["username"], "password": password}

                def remember(data: dict) -> None:
                    data.setdefault(CREDENTIALS, {})[camera.id] = dict(held)

                vault.update(remember)  # in the vault before the camera has it
            driver.activate(held["password"])
            driver.facts()
    except VaultError as err:
        module.fail_json(msg=f"{camera.id}: {err}")
    except DriverError as err:
        fail_device(module, err)
    module.exit_json(changed=True, activated=True, username=held["username"], password=held["password"])


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
