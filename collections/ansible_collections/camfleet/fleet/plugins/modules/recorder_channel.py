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
  - camfleet.fleet.device
  - camfleet.fleet.device.login
  - camfleet.fleet.recorder
options:
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
notes:
  - Supports check mode, through the same channel engine as the apply (C(recorders.yml) uses it too).
"""

EXAMPLES = r"""
- name: Register the camera on its recorder channel
  camfleet.fleet.recorder_channel:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    username: admin
    password: "{{ camera_password }}"
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
    from camfleet.jobs.recorders import register_camera

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
    fleet = load_town(module)
    p = module.params
    try:
        done = register_camera(
            fleet,
            p["device"],
            login(module),
            login(module, "recorder_"),
            login(module, "pull_"),
            check=module.check_mode,
            timeout=p["timeout"],
            wait_s=p["wait"],
        )
    except JOB_ERRORS as err:
        fail(module, err)
    state = done.state
    module.exit_json(
        changed=bool(done.steps),
        steps=done.steps,
        recorder=done.spec.recorder,
        channel=done.spec.number,
        online=bool(state and state.online),
        recording=bool(state and state.recording),
    )


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
