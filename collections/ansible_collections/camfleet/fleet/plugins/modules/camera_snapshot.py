#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Save a camera's (or a recorder channel's) current picture as a JPEG: the aim check after a storm or a re-aim."""

from __future__ import annotations

DOCUMENTATION = r"""
module: camera_snapshot
short_description: Save what a camera sees now as a JPEG file, for the aim check
description:
  - Asks the camera for a JPEG of its main stream (Hikvision C(/ISAPI/Streaming/channels/101/picture), Dahua
    C(snapshot.cgi)); for a recorder, the picture of O(channel).
  - Checks the reply really is a JPEG (start and end markers) before writing it, so a device that answers an
    error page never leaves a broken picture behind; the file is written through a temporary file.
  - Changed when the picture differs from the file already at O(path).
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
options:
  path:
    description: File to write the JPEG to; its folder is created.
    type: path
    required: true
  channel:
    description: Recorder channel to take the picture from (recorders only).
    type: int
    default: 1
notes:
  - Supports check mode - the picture is taken and compared, nothing is written.
"""

EXAMPLES = r"""
- name: Save what the camera sees now
  camfleet.fleet.camera_snapshot:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    path: "reports/snapshots/{{ inventory_hostname }}.jpg"
"""

RETURN = r"""
path:
  description: The JPEG file.
  returned: success
  type: str
size:
  description: Bytes of the picture.
  returned: success
  type: int
sha256:
  description: SHA-256 of the picture.
  returned: success
  type: str
"""

import contextlib
import hashlib
import os
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

SPEC: dict[str, Any] = dict(
    argument_spec={**DEVICE_ARGS, "path": {"type": "path", "required": True}, "channel": {"type": "int", "default": 1}},
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    entry = device_entry(module, fleet, p["device"])
    try:
        with connect(module, entry) as driver:
            jpeg = driver.snapshot(p["channel"]) if entry.id in fleet.recorders else driver.snapshot()
    except DriverError as err:
        fail_device(module, err)
    if not (jpeg.startswith(b"\xff\xd8") and jpeg.rstrip(b"\0\r\n").endswith(b"\xff\xd9")):
        module.fail_json(msg=f"{entry.id}: the picture the device sent is not a whole JPEG ({len(jpeg)} bytes)")
    path = p["path"]
    digest = hashlib.sha256(jpeg).hexdigest()
    try:
        with open(path, "rb") as handle:
            same = hashlib.sha256(handle.read()).hexdigest() == digest
    except OSError:
        same = False
    if not same and not module.check_mode:
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            tmp = f"{path}.tmp"
            with open(tmp, "wb") as handle:
                handle.write(jpeg)
            os.replace(tmp, path)
        except OSError as err:
            module.fail_json(msg=f"{entry.id}: cannot write {path}: {err.strerror}")
    module.exit_json(changed=not same, path=path, size=len(jpeg), sha256=digest)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
