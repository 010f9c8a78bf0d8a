#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Bring a camera or recorder to the firmware build the camfleet catalogue approves, gated on its health."""

from __future__ import annotations

DOCUMENTATION = r"""
module: device_firmware
short_description: Upgrade a camera or recorder to the catalogue's approved firmware, then prove it is healthy
description:
  - Looks up the device's model in the town's firmware catalogue (C(firmware.yml)), reads the build the device
    runs, and does nothing when it already runs the approved build.
  - Otherwise verifies the SHA-256 of the approved file in the firmware store B(before) anything is sent, uploads
    it (progress is returned and, with O(progress_log), appended to a file), reboots into it, and runs the
    health gate - the device reports the approved build, the camera's sub stream delivers frames (RTSP probe),
    and its recorder channel is back online (a recorder - as many channels online as before).
  - With O(upgrade=false) it only reports where the device stands (the survey), including whether its build is
    one the catalogue marks vulnerable (for example CVE-2021-36260).
  - Never retries a refused password (devices lock the account).
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
  - camfleet.fleet.device.login
options:
  timeout:
    description: Seconds per HTTP request (the firmware upload itself may take up to ten minutes).
    type: float
    default: 10
  store:
    description: Firmware store folder holding the catalogue's approved files.
    type: path
  upgrade:
    description: Upgrade when the device is not on the approved build; false only reports (the survey).
    type: bool
    default: true
  check_stream:
    description: Whether the health gate of a camera checks that its sub stream delivers frames again.
    type: bool
    default: true
  recorder_username:
    description:
      - Login of the camera's recorder (the inventory's C(recorder.id)), to check the camera's channel comes back
        online after the upgrade; omit to skip that check.
    type: str
  recorder_password:
    description: Its password.
    type: str
  reboot_timeout:
    description: Seconds to wait for the device to come back on the new build.
    type: float
    default: 300
  health_timeout:
    description: Seconds to wait for frames on the stream and the recorder channel online.
    type: float
    default: 60
  poll_interval:
    description: Seconds between health polls.
    type: float
    default: 1
  progress_log:
    description: File to append upload progress lines to (follow it with C(tail -f)).
    type: path
  update_inventory:
    description:
      - Whether to write the build the device reports into its inventory entry (C(device.firmware) of a camera,
        C(firmware) of a recorder) when the entry says otherwise - after an upgrade, or when the entry is stale.
      - One line of the file changes; comments are kept. Not in check mode.
    type: bool
    default: true
notes:
  - Supports check mode - the device is only read; the result says whether it would be upgraded.
"""

EXAMPLES = r"""
- name: Upgrade the camera to the approved build
  camfleet.fleet.device_firmware:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    store: "{{ playbook_dir }}/../firmware"
    recorder_username: "{{ vault_device_credentials[camfleet_recorder].username }}"
    recorder_password: "{{ vault_device_credentials[camfleet_recorder].password }}"
"""

RETURN = r"""
inventory_updated:
  description: Whether the inventory entry's firmware was rewritten to the build the device reports.
  returned: when the device answered
  type: bool
before:
  description: Build the device ran before this task.
  returned: when the device answered
  type: str
after:
  description: Build the device runs after this task.
  returned: when the device answered
  type: str
approved:
  description: The catalogue's approved build for the model.
  returned: always
  type: str
up_to_date:
  description: Whether the device ran the approved build before this task.
  returned: when the device answered
  type: bool
vulnerable:
  description: Whether the build it ran before is one the catalogue marks bad.
  returned: when the device answered
  type: bool
cves:
  description: CVEs of that known-bad build.
  returned: when the device answered
  type: list
  elements: str
vulnerability:
  description: One line naming the device, its known-bad build and the CVEs (null when the build is not known bad).
  returned: when the device answered
  type: str
progress:
  description: Flash progress samples in percent, in the order the device reported them.
  returned: when an upgrade ran
  type: list
  elements: int
log:
  description: Timestamped steps of the upgrade (upload, reboot, health).
  returned: when an upgrade ran
  type: list
  elements: str
health:
  description: The health gate - build, stream, channel_online, channels_online, healthy, problems.
  returned: when an upgrade ran
  type: dict
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
    from camfleet.jobs.firmware import GateChecks, firmware_device

SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ARGS,
        "store": {"type": "path"},
        "upgrade": {"type": "bool", "default": True},
        "check_stream": {"type": "bool", "default": True},
        "recorder_username": {"type": "str"},
        "recorder_password": {"type": "str", "no_log": True},
        "reboot_timeout": {"type": "float", "default": 300.0},
        "health_timeout": {"type": "float", "default": 60.0},
        "poll_interval": {"type": "float", "default": 1.0},
        "progress_log": {"type": "path"},
        "update_inventory": {"type": "bool", "default": True},
    },
    required_together=[("recorder_username", "recorder_password")],
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    gate = GateChecks(
        stream=p["check_stream"],
        recorder_login=login(module, "recorder_") if p["recorder_username"] else None,
        reboot_timeout_s=p["reboot_timeout"],
        health_timeout_s=p["health_timeout"],
        poll_s=p["poll_interval"],
    )
    try:
        run = firmware_device(
            fleet,
            p["device"],
            login(module),
            store=Path(p["store"]) if p["store"] else None,
            upgrade_to_approved=p["upgrade"],
            check=module.check_mode,
            timeout=p["timeout"],
            gate=gate,
            progress_log=Path(p["progress_log"]) if p["progress_log"] else None,
            update_inventory=p["update_inventory"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    for warning in run.warnings:
        module.warn(warning)
    module.exit_json(changed=run.changed, msg=run.msg, **run.facts)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
