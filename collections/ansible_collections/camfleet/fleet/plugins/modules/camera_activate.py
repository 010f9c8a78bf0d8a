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
  - Returns the administrator's username, never the password (the vault holds it; read it from there). Its
    results and failures are safe to show, so run it without C(no_log), and a refusal names the camera and what it said.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
options:
  username:
    description: Administrator account the camera gets.
    type: str
    default: admin
  vault_password_file:
    description: The vault's password file (to write the new password into C(vault/secrets.yml)).
    type: path
    required: true
notes:
  - Supports check mode (reports whether the camera would be activated; writes nothing).
"""

EXAMPLES = r"""
- name: Activate the camera
  camfleet.fleet.camera_activate:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    vault_password_file: "{{ inventory_dir }}/vault-password.DEMO-ONLY"
  register: activation
"""

RETURN = r"""
username:
  description: The camera's administrator account.
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
    DEVICE_ID_ARGS,
    JOB_ERRORS,
    fail,
    load_town,
)

try:
    from camfleet.inventory.vault import VaultError, VaultFile
    from camfleet.jobs.provision import activate
except ImportError:  # reported by load_town()
    pass

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ID_ARGS,
        "username": {"type": "str", "default": "admin"},
        "vault_password_file": {"type": "path", "required": True, "no_log": False},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    vault = VaultFile(os.path.join(p["town"], "vault", "secrets.yml"), p["vault_password_file"])
    try:
        done = activate(fleet, p["device"], vault, p["username"], check=module.check_mode, timeout=p["timeout"])
    except VaultError as err:
        module.fail_json(msg=f"{p['device']}: {err}")
    except JOB_ERRORS as err:
        fail(module, err)
    if done.login is None:  # check mode: the camera would be activated
        module.exit_json(changed=done.changed, activated=False)
    module.no_log_values.add(done.login.password)  # never in the result, whatever a later change returns
    module.exit_json(changed=done.changed, activated=done.activated, username=done.login.username)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
