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
    host: "{{ ansible_host }}"
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

import hashlib
import os
import re
import tempfile
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

try:
    from camfleet.drivers.errors import DriverError
    from camfleet.drivers.routeros import RouterOsDriver
except ImportError:  # reported by require_camfleet()
    pass


def export(module: AnsibleModule, fleet: object) -> tuple[bytes, str]:
    p = module.params
    router = fleet.link_routers.get(p["device"])  # type: ignore[attr-defined]
    if router is not None:
        with RouterOsDriver(
            router.id,
            p["host"],
            port=p["port"] or router.ssh_port,
            username=p["username"],
            password=p["password"],
            conn_timeout=p["timeout"],
        ) as driver:
            # The export's first line carries the time it was taken: drop it, or every backup differs.
            text = re.sub(r"^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by ", "# exported by ", driver.backup(), count=1)
            return text.encode(), "rsc"
    with connect(module, device_entry(module, fleet, p["device"])) as driver:
        return driver.config_export(), "bin"


SPEC: dict[str, Any] = dict(
    argument_spec={**DEVICE_ARGS, "dest": {"type": "path", "required": True}}, supports_check_mode=True
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    try:
        content, suffix = export(module, fleet)
    except DriverError as err:
        fail_device(module, err)
    path = os.path.join(p["dest"], f"{p['device']}.{suffix}")
    digest = hashlib.sha256(content).hexdigest()
    try:
        with open(path, "rb") as handle:
            changed = hashlib.sha256(handle.read()).hexdigest() != digest
    except FileNotFoundError:
        changed = True
    if changed and not module.check_mode:
        os.makedirs(p["dest"], exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p["dest"], prefix=f".{p['device']}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o600)  # exports may hold device settings worth keeping private
        os.replace(tmp, path)
    module.exit_json(changed=changed, path=path, size=len(content), sha256=digest)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
