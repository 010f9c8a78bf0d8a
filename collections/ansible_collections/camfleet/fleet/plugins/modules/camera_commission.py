#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Prove a provisioned camera works end to end, save its aim-check snapshot and its commissioning record."""

from __future__ import annotations

DOCUMENTATION = r"""
module: camera_commission
short_description: Verify a provisioned camera end to end and write its commissioning record
description:
  - Proves the sub stream delivers video frames (a frame-verified RTSP probe, not a port check) and that the
    recorder reports the camera's channel online and recording.
  - Saves a snapshot for the aim check and a commissioning record (Vietnamese with English) naming what was
    set, the firmware, the snapshot and the time.
  - When the inventory records the camera's sign, its C(status) becomes C(commissioned) in its khu phố file;
    otherwise the record says what is left to do.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
  - camfleet.fleet.device.login
  - camfleet.fleet.recorder
options:
  report_dir:
    description: Folder of the commissioning records and snapshots.
    type: path
    required: true
  update_inventory:
    description: Whether to set the camera's status to commissioned in the inventory (when its sign is recorded).
    type: bool
    default: true
notes:
  - Check mode probes and reports, writes nothing.
"""

EXAMPLES = r"""
- name: Verify the camera and write its commissioning record
  camfleet.fleet.camera_commission:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: admin
    password: "{{ camera_password }}"
    recorder_username: "{{ vault_device_credentials[camfleet_recorder].username }}"
    recorder_password: "{{ vault_device_credentials[camfleet_recorder].password }}"
    report_dir: reports/commissioning
"""

RETURN = r"""
record:
  description: The commissioning record written.
  returned: success
  type: str
snapshot:
  description: The aim-check JPEG written.
  returned: success
  type: str
stream:
  description: What the stream probe saw (codec, size, fps).
  returned: success
  type: str
inventory_updated:
  description: Whether the camera's status was set to commissioned in the inventory.
  returned: success
  type: bool
"""

import contextlib
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    DEVICE_ARGS,
    JOB_ERRORS,
    RECORDER_ARGS,
    fail,
    load_town,
    login,
)

with contextlib.suppress(ImportError):  # reported by load_town()
    from camfleet.jobs.provision import commission

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ARGS,
        **RECORDER_ARGS,
        "report_dir": {"type": "path", "required": True},
        "update_inventory": {"type": "bool", "default": True},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        done = commission(
            fleet,
            p["device"],
            login(module),
            login(module, "recorder_"),
            report_dir=Path(p["report_dir"]),
            update_inventory=p["update_inventory"],
            check=module.check_mode,
            timeout=p["timeout"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    if module.check_mode:
        module.exit_json(changed=done.changed, stream=done.stream)
    module.exit_json(
        changed=done.changed,
        record=str(done.record),
        snapshot=str(done.snapshot),
        stream=done.stream,
        inventory_updated=done.inventory_updated,
    )


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
