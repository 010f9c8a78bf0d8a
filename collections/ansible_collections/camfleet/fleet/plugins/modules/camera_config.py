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
notes:
  - Supports check mode and diff mode. Never retries a refused password (devices lock the account).
"""

EXAMPLES = r"""
- name: Push the baseline configuration
  camfleet.fleet.camera_config:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    port: "{{ camfleet_http_port }}"
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
"""

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
    from camfleet.drivers.desired import desired_camera_config
    from camfleet.drivers.errors import DriverError
except ImportError:  # reported by require_camfleet()
    pass


SPEC: dict[str, Any] = dict(argument_spec=DEVICE_ARGS, supports_check_mode=True)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    fleet = load_town(module, module.params["town"])
    camera = device_entry(module, fleet, module.params["device"])
    if camera.id not in fleet.cameras:
        module.fail_json(msg=f"{camera.id} is a recorder; camera_config configures cameras")
    try:
        desired = desired_camera_config(fleet, camera)
    except ValueError as err:
        module.fail_json(msg=f"{camera.id}: {err}")
    try:
        with connect(module, camera) as driver:
            change = driver.apply_config(desired, check=module.check_mode)
    except DriverError as err:
        fail_device(module, err)
    result = {"changed": change.changed, "differences": change.diff_lines, "reboot_required": change.reboot_required}
    if module._diff and change.changed:
        result["diff"] = {"before": change.before, "after": change.after}
    module.exit_json(**result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
