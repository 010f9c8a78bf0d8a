#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Register a camera on its recorder channel with a least-privilege pull account, recorded 24/7."""

from __future__ import annotations

DOCUMENTATION = r"""
module: recorder_channel
short_description: Put a camera on its recorder channel, pulled with a least-privilege account and recorded 24/7
description:
  - Makes sure the camera has the recorder's pull account (a viewer that can only stream), then that the
    recorder's channel (from the inventory's C(recorder.id) and C(recorder.channel)) points at the camera with
    that account and records continuously. Only what differs is written.
  - With C(wait) above zero it then waits until the recorder reports the channel online and recording.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.recorder
options:
  town:
    description: Town inventory folder.
    type: path
    required: true
  device:
    description: Camera id.
    type: str
    required: true
  host:
    description: Address the camera is reached at (also what the recorder is told).
    type: str
    required: true
  port:
    description: Camera HTTP port (default the inventory's).
    type: int
  username:
    description: Camera administrator login (to add the pull account).
    type: str
    required: true
  password:
    description: Camera administrator password.
    type: str
    required: true
  pull_username:
    description: The pull account the recorder uses on its cameras.
    type: str
    required: true
  pull_password:
    description: Its password.
    type: str
    required: true
  wait:
    description: Seconds to wait for the channel to be online and recording (0 - do not wait).
    type: float
    default: 0
  timeout:
    description: Seconds per HTTP request.
    type: float
    default: 10
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Register the camera on its recorder channel
  camfleet.fleet.recorder_channel:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    username: admin
    password: "{{ camera_password }}"
    recorder_host: "{{ hostvars[camfleet_recorder].ansible_host }}"
    recorder_username: "{{ vault_device_credentials[camfleet_recorder].username }}"
    recorder_password: "{{ vault_device_credentials[camfleet_recorder].password }}"
    pull_username: "{{ vault_device_credentials[camfleet_recorder ~ '-channel-user'].username }}"
    pull_password: "{{ vault_device_credentials[camfleet_recorder ~ '-channel-user'].password }}"
    wait: 30
"""

RETURN = r"""
recorder:
  description: The recorder id.
  returned: always
  type: str
channel:
  description: The channel number.
  returned: always
  type: int
online:
  description: Whether the recorder reports the channel online (when waited for).
  returned: always
  type: bool
recording:
  description: Whether the recorder reports the channel recording (when waited for).
  returned: always
  type: bool
steps:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
"""

import contextlib
import time
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import (
    DEVICE_ARGS,
    RECORDER_ARGS,
    connect_with,
    device_entry,
    fail_device,
    load_town,
    require_camfleet,
)

with contextlib.suppress(ImportError):  # reported by require_camfleet()
    from camfleet.drivers.errors import DriverError


SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ARGS,
        **RECORDER_ARGS,
        "pull_username": {"type": "str", "required": True},
        "pull_password": {"type": "str", "required": True, "no_log": True},
        "wait": {"type": "float", "default": 0.0},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    camera = device_entry(module, fleet, p["device"])
    if getattr(camera, "recorder", None) is None:
        module.fail_json(msg=f"{camera.id} has no recorder channel in the inventory; set recorder: {{id, channel}}")
    slot = camera.recorder
    recorder = fleet.recorders[slot.id]
    steps: list[str] = []
    status = None
    try:
        with connect_with(module, camera, p["username"], p["password"]) as cam:
            if p["pull_username"] not in {u.name for u in cam.users()}:
                steps.append(f"add the pull account {p['pull_username']} to {camera.id}")
                if not module.check_mode:
                    cam.add_user(p["pull_username"], p["pull_password"], "viewer")
        vendor = camera.device.vendor.value if camera.device else "other"
        with connect_with(
            module, recorder, p["recorder_username"], p["recorder_password"], p["recorder_host"], p["recorder_port"]
        ) as nvr:
            current = {c.number: c for c in nvr.channels()}.get(slot.channel)
            wanted = (p["host"], p["port"] or camera.network.http_port, p["pull_username"], camera.id)
            if current is None or (current.address, current.port, current.username, current.name) != wanted:
                steps.append(f"point {recorder.id} channel {slot.channel} at {camera.id}")
                if not module.check_mode:
                    nvr.set_channel(
                        slot.channel,
                        wanted[0],
                        wanted[1],
                        p["pull_username"],
                        p["pull_password"],
                        camera.id,
                        protocol="HIKVISION" if vendor == "hikvision" else "ONVIF",
                        rewrite_password=True,
                    )
            if module.check_mode:
                if current is not None and nvr.recording_schedule(slot.channel) != "continuous":
                    steps.append(f"record {recorder.id} channel {slot.channel} 24/7")
            elif nvr.set_recording_schedule(slot.channel, continuous=True):
                steps.append(f"record {recorder.id} channel {slot.channel} 24/7")
            deadline = time.monotonic() + p["wait"]
            while p["wait"] > 0 and not module.check_mode:
                status = nvr.channel_status().get(slot.channel)
                if status is not None and status.online and status.recording:
                    break
                if time.monotonic() > deadline:
                    detail = f" ({status.detail})" if status is not None and status.detail else ""
                    module.fail_json(
                        msg=f"{recorder.id} channel {slot.channel} ({camera.id}) is not online and recording after "
                        f"{p['wait']:g} s{detail}: check the camera's stream and the pull account",
                        recorder=recorder.id,
                        channel=slot.channel,
                        steps=steps,
                    )
                time.sleep(1)
    except DriverError as err:
        fail_device(module, err, recorder=recorder.id, channel=slot.channel, steps=steps)
    module.exit_json(
        changed=bool(steps),
        steps=steps,
        recorder=recorder.id,
        channel=slot.channel,
        online=bool(status and status.online),
        recording=bool(status and status.recording),
    )


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
