#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Check whether a camera or recorder still accepts its maker's factory-default login (tried once, never looped)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: device_default_login
short_description: Check whether a camera or recorder still accepts its maker's factory-default password
description:
  - Tries the maker's factory login (Hikvision C(admin)/C(12345) of builds before activation, Dahua and KBVision
    C(admin)/C(admin) of builds before the initialisation wizard) at most once per device, never in a loop, and
    stops at the first refusal, so no device is ever locked out.
  - With the station's own login (O(username), O(password)) the device's lock-out policy is read first; a device
    that would lock after one refused login, or is locked now, is not tried; a device whose C(admin) answers the
    station's password is proven not on the default without any wrong password sent.
  - Community cameras are audited where the town knows their address; a device without an address or of a maker
    camfleet has no driver for is reported as not audited, with the reason.
  - Never returns, logs or prints a password; only the account that took its default.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
options:
  username:
    description: The station's login for the device (from the vault), if it has one; community cameras have none.
    type: str
  password:
    description: The station's password for the device.
    type: str
notes:
  - Supports check mode (it only logs in; the result is the same).
"""

EXAMPLES = r"""
- name: Check for a factory-default password
  camfleet.fleet.device_default_login:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: "{{ vault_device_credentials[inventory_hostname].username | default(omit) }}"
    password: "{{ vault_device_credentials[inventory_hostname].password | default(omit) }}"
"""

RETURN = r"""
outcome:
  description: C(default_password), C(not_default), C(not_activated) or C(not_audited).
  returned: success
  type: str
vulnerable:
  description: Whether the device accepts a factory-default password.
  returned: success
  type: bool
reason:
  description: One line saying what was found, or why the device was not audited.
  returned: success
  type: str
attempts:
  description: Factory logins sent (0 or 1).
  returned: success
  type: int
account:
  description: The account that accepted its factory password (never the password).
  returned: success
  type: str
community:
  description: Whether it is a community camera (an owner's).
  returned: success
  type: bool
"""

import contextlib
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    DEVICE_ID_ARGS,
    JOB_ERRORS,
    fail,
    load_town,
)

with contextlib.suppress(ImportError):  # reported by load_town()
    from camfleet.jobs.base import Credentials
    from camfleet.jobs.default_logins import audit_default_login

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ID_ARGS,
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
    },
    required_together=[("username", "password")],
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    station = Credentials(p["username"], p["password"]) if p["username"] else None
    try:
        audit = audit_default_login(fleet, p["device"], station, timeout=p["timeout"])
    except JOB_ERRORS as err:
        fail(module, err)
    result = audit.as_dict()
    result.pop("device")
    module.exit_json(changed=False, msg=f"{p['device']}: {audit.reason}", **result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
