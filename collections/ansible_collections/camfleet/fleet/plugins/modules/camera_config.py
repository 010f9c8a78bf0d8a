#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Make a camera's settings match the camfleet inventory in one call (read current, diff, write what differs)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: camera_config
short_description: Make a camera's whole baseline configuration match the camfleet inventory
description:
  - Builds the camera's desired settings from the town inventory - device name (the camera id), time zone
    (the town's, e.g. Asia/Ho_Chi_Minh), NTP servers, OSD text (its landmark or street, in ASCII), main and
    sub stream profiles, privacy masks, and UPnP, P2P cloud, telnet and SSH switched off.
  - Reads the camera over its HTTP API (Hikvision ISAPI or Dahua CGI, digest auth), diffs, and writes only the
    settings that differ. One call per camera, so a 70-camera audit is one task per host.
  - In check mode nothing is written; the diff is the drift report.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
  - camfleet.fleet.device.login
notes:
  - Supports check mode and diff mode. Never retries a refused password (devices lock the account).
"""

EXAMPLES = r"""
- name: Push the baseline configuration
  camfleet.fleet.camera_config:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
"""

RETURN = r"""
differences:
  description: "One line per setting that differs, e.g. C(main.fps: 25 -> 12)."
  returned: always
  type: list
  elements: str
reboot_required:
  description: Whether a written setting takes effect only after a reboot.
  returned: always
  type: bool
unsupported:
  description:
    - Settings the camera cannot hold (e.g. C(masks) on a model without privacy masks); never written.
    - Each one the inventory wants there is also a warning.
  returned: always
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
    from camfleet.jobs.configure import configure_camera

SPEC: dict[str, Any] = dict(argument_spec=DEVICE_ARGS, supports_check_mode=True)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    try:
        change = configure_camera(fleet, p["device"], login(module), check=module.check_mode, timeout=p["timeout"])
    except JOB_ERRORS as err:
        fail(module, err)
    result = {
        "changed": change.changed,
        "differences": change.diff_lines,
        "reboot_required": change.reboot_required,
        "unsupported": list(change.unsupported),
    }
    for note in change.notes:
        module.warn(f"{p['device']}: {note}")
    if module._diff and change.changed:
        result["diff"] = {"before": change.before, "after": change.after}
    module.exit_json(**result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
