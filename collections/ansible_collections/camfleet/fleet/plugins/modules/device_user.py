#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Rotate a device account's password, prove it, and write it to the town's vault without ever losing it."""

from __future__ import annotations

DOCUMENTATION = r"""
module: device_user
short_description: Rotate a camera or recorder password, prove it, and keep the town vault in step
description:
  - Generates a strong password (16 characters, all four character classes, accepted by Hikvision and Dahua),
    writes it to the vault as I(pending) before touching the device, sets it, proves the new password logs in
    and the old one is refused, then makes it the vault's current password. A failure at any step leaves the
    device reachable with a password the vault holds (the current one, or the pending one for the devices the
    vault lists as done).
  - O(account=admin) rotates the device's own login (its C(vault_device_credentials) entry).
    O(account=channel) rotates the account the camera's recorder pulls it with (C(<recorder>-channel-user))
    on this camera and rewrites the recorder channel's password; the vault promotes that password once every
    camera of the recorder holds it.
  - Reads and rewrites the vault itself (under a file lock, re-encrypted with the same vault id), so the
    credentials are never module parameters. A password is rotated when it is older than O(max_age_days), has
    no recorded rotation, or O(force) is set; a re-run finishes what an interrupted run left pending.
  - Never retries a refused password in a loop - at most one refused login per task (the old-password proof, or
    the other half of a pending rotation).
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
options:
  account:
    description: Which account to rotate.
    type: str
    choices: [admin, channel]
    default: admin
  vault_file:
    description: The vault to read and rewrite (default C(<town>/vault/secrets.yml)).
    type: path
  vault_password_file:
    description: File holding the vault password (ansible.cfg's C(vault_identity_list) file).
    type: path
    required: true
  vault_id:
    description: Vault id to encrypt with (default the one in the vault file's header).
    type: str
  max_age_days:
    description: Rotate passwords older than this many days.
    type: float
    default: 90
  force:
    description: Rotate even a password younger than O(max_age_days).
    type: bool
    default: false
  channel_timeout:
    description: Seconds to wait for the recorder channel to come back online after its password changed.
    type: float
    default: 30
notes:
  - Supports check mode - devices are only read and the vault is not written.
  - Recovery by hand - C(ansible-vault view <town>/vault/secrets.yml) shows C(vault_password_rotation), the pending
    password and which devices hold it.
"""

EXAMPLES = r"""
- name: Rotate the camera's admin password
  camfleet.fleet.device_user:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    account: admin
    vault_password_file: inventory/ngoc-lac/vault-password.DEMO-ONLY

- name: Rotate the recorder's pull account on the camera and its channel
  camfleet.fleet.device_user:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    account: channel
    vault_password_file: inventory/ngoc-lac/vault-password.DEMO-ONLY
"""

RETURN = r"""
vault_key:
  description: The C(vault_device_credentials) entry the account lives in.
  returned: always
  type: str
promoted:
  description: Whether the vault's current password is now the new one.
  returned: always
  type: bool
pending:
  description: Whether the vault still holds a pending password for the account (devices left to rotate).
  returned: always
  type: bool
proof:
  description: C(new_accepted) and C(old_refused), when this task changed the device.
  returned: when changed and not in check mode
  type: dict
channel_online:
  description: Whether the recorder channel is online after its password was rewritten (O(account=channel)).
  returned: when the channel was rewritten
  type: bool
"""

from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    DEVICE_ID_ARGS,
    JOB_ERRORS,
    fail,
    load_town,
)

try:
    from camfleet.inventory.vault import VaultFile
    from camfleet.jobs.passwords import Rotator, rotate
except ImportError:  # reported by load_town()
    pass

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ID_ARGS,
        "account": {"type": "str", "choices": ["admin", "channel"], "default": "admin"},
        "vault_file": {"type": "path"},
        "vault_password_file": {"type": "path", "required": True, "no_log": False},
        "vault_id": {"type": "str"},
        "max_age_days": {"type": "float", "default": 90.0},
        "force": {"type": "bool", "default": False},
        "channel_timeout": {"type": "float", "default": 30.0},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    vault = VaultFile(
        p["vault_file"] or Path(p["town"]) / "vault" / "secrets.yml", p["vault_password_file"], p["vault_id"]
    )
    rotator = Rotator(vault, check=module.check_mode, max_age_days=p["max_age_days"], force=p["force"])
    try:
        result = rotate(
            fleet, p["device"], p["account"], rotator, timeout=p["timeout"], channel_timeout_s=p["channel_timeout"]
        )
    except JOB_ERRORS as err:
        fail(module, err)
    out = {"changed": result.changed, "msg": result.msg, "vault_key": result.key, "promoted": result.promoted}
    out["pending"] = result.pending
    if result.proof is not None:
        out["proof"] = result.proof
    if result.channel_online is not None:
        out["channel_online"] = result.channel_online
    if result.channel_online is False:
        module.fail_json(
            **{**out, "msg": f"{result.msg}: the recorder does not record the camera with the new password"}
        )
    module.exit_json(**out)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
