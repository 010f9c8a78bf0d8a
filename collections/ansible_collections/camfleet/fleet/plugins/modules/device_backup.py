#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Save a device's configuration export (camera, recorder or link router) into a backup folder."""

from __future__ import annotations

DOCUMENTATION = r"""
module: device_backup
short_description: Save a camera's, recorder's or link router's configuration into a backup folder
description:
  - Cameras and recorders - the device's own configuration export over its HTTP API (Hikvision
    C(configurationData), Dahua config dump), saved as C(<dest>/<device>.bin.vault).
  - Link routers - C(/export) over SSH with secrets hidden, saved as C(<dest>/<device>.rsc.vault).
  - Every backup is encrypted at rest with the town's vault password (ansible-vault format) - recorder exports
    carry their cameras' pull-account passwords (zlib-compressed plaintext). A plaintext
    C(<device>.bin) or C(.rsc) left in O(dest) by an earlier run is removed once its encrypted successor is written.
  - The export is checked whole before it replaces anything - Hikvision C(configurationData) not an XML/HTML reply and,
    where it is a zlib container, a complete stream; Dahua config text whole C(table.<name>=value) lines; RouterOS
    C(/export) parsed line by line, nothing cut - and its size against the last good backup (in O(dest), else the
    newest in the folders of earlier days beside it) must be within 0.5-8 times. A bad export fails the task with
    a one-line reason (Vietnamese, then English) and the last good backup stays as it was.
  - The file is written (to a temporary file, read back, then renamed) only when the export changed, so a second
    run the same day reports no change.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
  - camfleet.fleet.device.login
options:
  dest:
    description: Folder to write the backup into (created if missing).
    type: path
    required: true
  vault_password_file:
    description: The town's vault password file; backups are encrypted with it.
    type: path
    required: true
  vault_id:
    description: Vault id written in the encrypted file's header (C($ANSIBLE_VAULT;1.2;AES256;<id>)); none gives 1.1.
    type: str
  accept_size_change:
    description: Accept an export whose size is outside 0.5-8 times the last good backup's (a factory reset, many channels added).
    type: bool
    default: false
notes:
  - Supports check mode (reads and checks the export, writes nothing).
  - Read a backup back with C(ansible-vault decrypt --output - <file>) (the town's vault identity from ansible.cfg),
    or C(camfleet.jobs.backups.decrypt_backup(path, password_file)) in Python.
"""

EXAMPLES = r"""
- name: Save the configuration
  camfleet.fleet.device_backup:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    dest: "backups/{{ '%Y-%m-%d' | strftime }}"
    vault_password_file: "{{ inventory_dir }}/vault-password.DEMO-ONLY"
    vault_id: demo
"""

RETURN = r"""
path:
  description: The backup file (encrypted).
  returned: success
  type: str
size:
  description: Bytes of the device's export (before encryption).
  returned: success
  type: int
sha256:
  description: SHA-256 of the device's export (before encryption; the encrypted file differs at every write).
  returned: success
  type: str
reason:
  description: Why the export was refused (English), when it was.
  returned: failure
  type: str
kept:
  description: The last good backup, left as it was, when an export was refused (null on a first backup).
  returned: failure
  type: str
"""

import contextlib
from pathlib import Path
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
    from camfleet.jobs.backups import BackupVault
    from camfleet.jobs.devices import backup

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ARGS,
        "dest": {"type": "path", "required": True},
        "vault_password_file": {"type": "path", "required": True, "no_log": False},
        "vault_id": {"type": "str"},
        "accept_size_change": {"type": "bool", "default": False},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        vault = BackupVault.from_file(p["vault_password_file"], p["vault_id"])
    except (OSError, ValueError) as err:
        module.fail_json(
            msg=f"không đọc được tệp mật khẩu kho bí mật / cannot read the vault password file {p['vault_password_file']}: {err}"
        )
    try:
        saved = backup(
            fleet,
            p["device"],
            login(module),
            Path(p["dest"]),
            vault,
            check=module.check_mode,
            timeout=p["timeout"],
            accept_size_change=p["accept_size_change"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    module.exit_json(changed=saved.changed, path=str(saved.path), size=saved.size, sha256=saved.sha256)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
