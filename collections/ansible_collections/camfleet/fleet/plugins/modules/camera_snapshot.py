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
  - camfleet.fleet.device.login
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
    from camfleet.jobs.devices import snapshot

SPEC: dict[str, Any] = dict(
    argument_spec={**DEVICE_ARGS, "path": {"type": "path", "required": True}, "channel": {"type": "int", "default": 1}},
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        saved = snapshot(
            fleet,
            p["device"],
            login(module),
            Path(p["path"]),
            check=module.check_mode,
            timeout=p["timeout"],
            channel=p["channel"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    module.exit_json(changed=saved.changed, path=str(saved.path), size=saved.size, sha256=saved.sha256)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
