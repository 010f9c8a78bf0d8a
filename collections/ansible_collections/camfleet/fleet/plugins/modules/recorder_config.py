#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""A recorder's channels and schedules as the inventory says, its disks' health, and a disk format when told."""

from __future__ import annotations

DOCUMENTATION = r"""
module: recorder_config
short_description: Make a recorder's camera channels and 24/7 schedules match the inventory; report and format disks
description:
  - Points a channel at each of the recorder's commissioned cameras (the inventory's C(recorder.id) and
    C(recorder.channel)) with the recorder's pull account and records it continuously, writing only what differs
    (one call per recorder). The recorder is told where it reaches each camera from the inventory (the simulator's
    overlay when C(CAMFLEET_OVERLAY) is set).
  - Reports every disk's status, capacity and free space, and fails when a disk has failed, so the technician
    learns it from the run; fails too when the disks are full with overwrite off, as recording has stopped.
  - Formats a disk only when told which slot (C(format_disk)), and only if that disk is new or unformatted
    (C(force) formats a disk that holds footage, and its recordings are lost).
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
  - camfleet.fleet.device.login
options:
  pull_username:
    description: The pull account the recorder uses on its cameras.
    type: str
    required: true
  pull_password:
    description: Its password.
    type: str
    required: true
  format_disk:
    description: Slot of a newly replaced disk to format.
    type: int
  force:
    description: Format C(format_disk) even if it is in use (its footage is lost).
    type: bool
    default: false
  overwrite:
    description: Switch overwrite of the oldest footage on where it is off (false leaves it as it is).
    type: bool
    default: false
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Channels, schedules and disks of the recorder
  camfleet.fleet.recorder_config:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    pull_username: nvrpull
    pull_password: "{{ vault_device_credentials[inventory_hostname ~ '-channel-user'].password }}"
"""

RETURN = r"""
steps:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
overwrite:
  description: Whether full disks overwrite the oldest footage (null where the recorder's driver cannot say).
  returned: always
  type: bool
disks:
  description: Every disk and network volume - slot, status, capacity and free bytes; kind (sata, sd, nas, ...) and, for a network volume, its source.
  returned: always
  type: list
  elements: dict
wrong_cameras:
  description:
    - One line per channel recording another camera than the inventory's (serial, else MAC, else model and address,
      as the recorder reports them); the task fails.
  returned: when a channel records another camera
  type: list
  elements: str
"""

import contextlib
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
    from camfleet.jobs.recorders import configure_recorder

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ARGS,
        "pull_username": {"type": "str", "required": True},
        "pull_password": {"type": "str", "required": True, "no_log": True},
        "format_disk": {"type": "int"},
        "force": {"type": "bool", "default": False},
        "overwrite": {"type": "bool", "default": False},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        report = configure_recorder(
            fleet,
            p["device"],
            login(module),
            login(module, "pull_"),
            check=module.check_mode,
            timeout=p["timeout"],
            format_disk=p["format_disk"],
            force=p["force"],
            overwrite=p["overwrite"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    disks = [
        {
            "slot": d.slot,
            "status": d.status,
            "capacity_bytes": d.capacity_bytes,
            "free_bytes": d.free_bytes,
            "kind": d.kind,
            "source": d.source,
        }
        for d in report.disks
    ]
    failed_nas = [d for d in report.failed_disks if d.kind == "nas"]
    if failed_nas:
        module.fail_json(
            msg=f"{p['device']}: ổ lưu trữ mạng lỗi / network storage {', '.join(f'{d.slot} ({d.source})' for d in failed_nas)} is "
            f"{', '.join(d.status for d in failed_nas)}: check the share and the path to it; formatting does not help",
            steps=report.steps,
            disks=disks,
            changed=bool(report.steps) and not module.check_mode,
        )
    if report.failed_disks:
        failed = report.failed_disks
        module.fail_json(
            msg=f"{p['device']}: ổ cứng hỏng / disk {', '.join(str(d.slot) for d in failed)} failed ({', '.join(d.status for d in failed)}): "
            "replace it, then run recorders.yml with -e recorders_format_disk=<slot>",
            steps=report.steps,
            disks=disks,
            changed=bool(report.steps) and not module.check_mode,
        )
    stopped = report.recording_stopped(p["device"])
    if stopped:  # recording has stopped: a failure, never "ok"
        module.fail_json(
            msg=stopped,
            steps=report.steps,
            disks=disks,
            overwrite=False,
            changed=bool(report.steps) and not module.check_mode,
        )
    if report.wrong_cameras:  # footage of the wrong place filed under a camera: never "ok", not fixed by writing
        module.fail_json(
            msg=" | ".join(report.wrong_cameras),
            wrong_cameras=report.wrong_cameras,
            steps=report.steps,
            disks=disks,
            changed=bool(report.steps) and not module.check_mode,
        )
    result = {"changed": bool(report.steps), "steps": report.steps, "disks": disks, "overwrite": report.overwrite}
    if module._diff and report.steps:
        result["diff"] = {"prepared": "\n".join(report.steps) + "\n"}
    module.exit_json(**result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
