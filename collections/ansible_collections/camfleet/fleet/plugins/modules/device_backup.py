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
    C(configurationData), Dahua config dump), saved as C(<dest>/<device>.bin).
  - Link routers - C(/export) over SSH with secrets hidden, saved as C(<dest>/<device>.rsc).
  - The file is written only when its content changed, so a second run the same day reports no change.
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
notes:
  - Supports check mode (reads the device, writes nothing).
"""

EXAMPLES = r"""
- name: Save the configuration
  camfleet.fleet.device_backup:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    dest: "backups/{{ '%Y-%m-%d' | strftime }}"
"""

RETURN = r"""
path:
  description: The backup file.
  returned: always
  type: str
size:
  description: Bytes saved.
  returned: always
  type: int
sha256:
  description: SHA-256 of the saved content.
  returned: always
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
    from camfleet.jobs.devices import backup

SPEC: dict[str, Any] = dict(
    argument_spec={**DEVICE_ARGS, "dest": {"type": "path", "required": True}}, supports_check_mode=True
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        saved = backup(
            fleet, p["device"], login(module), Path(p["dest"]), check=module.check_mode, timeout=p["timeout"]
        )
    except JOB_ERRORS as err:
        fail(module, err)
    module.exit_json(changed=saved.changed, path=str(saved.path), size=saved.size, sha256=saved.sha256)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
