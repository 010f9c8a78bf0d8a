#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Silence the station's alerts for devices under planned work (Alertmanager API v2), and expire the silence."""

from __future__ import annotations

DOCUMENTATION = r"""
module: alert_silence
short_description: Silence the alerts of devices a firmware wave or a password rotation interrupts, then expire it
description:
  - With O(state=present), creates silences in the station's Alertmanager for every alert of O(devices)
    (label C(instance)) and for the recorder channels recording O(cameras) (C(RecorderChannelNotRecording),
    label C(camera)), ending after O(duration) seconds even if nobody expires them.
  - With O(state=absent), expires O(silence_ids) at once, so a device that did not come back pages.
  - An Alertmanager that does not answer is a warning and the work goes on, unless O(required=true).
  - While the simulator's overlay (C(CAMFLEET_OVERLAY)) is set, only a loopback O(url) is accepted.
version_added: 0.2.0
author: camfleet contributors (!UNKNOWN)
options:
  url:
    description: Alertmanager's base URL, for example C(http://127.0.0.1:9093).
    type: str
    required: true
  state:
    description: C(present) creates the silences, C(absent) expires O(silence_ids).
    type: str
    choices: [present, absent]
    default: present
  devices:
    description: Device ids whose alerts are silenced (their C(instance) label).
    type: list
    elements: str
    default: []
  cameras:
    description: Cameras whose recorder channel alerts are silenced too.
    type: list
    elements: str
    default: []
  duration:
    description: Seconds until the silences end by themselves (the work's expected duration plus a margin).
    type: float
    default: 1800
  comment:
    description: The silences' comment, Vietnamese first (shown in Alertmanager's web page).
    type: str
    default: camfleet
  silence_ids:
    description: With O(state=absent), the silences to expire.
    type: list
    elements: str
    default: []
  failed:
    description: With O(state=absent), devices that failed their health gate (named in the message; they page).
    type: list
    elements: str
    default: []
  required:
    description: Fail instead of warning when the silences cannot be created.
    type: bool
    default: false
  timeout:
    description: Seconds per request to Alertmanager.
    type: float
    default: 5
  url_option:
    description: The option O(url) came from, as the user types it (C(firmware_alertmanager_url)), for the messages.
    type: str
    default: url
  required_option:
    description: The option O(required) came from (C(firmware_require_silence)), named in the warning.
    type: str
    default: ""
notes:
  - Supports check mode - nothing is created or expired; the message says what would be silenced.
"""

EXAMPLES = r"""
- name: Silence the wave's devices while they reboot
  camfleet.fleet.alert_silence:
    url: http://127.0.0.1:9093
    devices: [cam-01-t04, cam-03-t04]
    cameras: [cam-01-t04, cam-03-t04]
    duration: 900
    comment: "nâng cấp firmware đợt 2: cam-01-t04, cam-03-t04 / firmware wave 2"
  register: silence

- name: Expire it when the wave passed its gate
  camfleet.fleet.alert_silence:
    url: http://127.0.0.1:9093
    state: absent
    silence_ids: "{{ silence.silence_ids }}"
"""

RETURN = r"""
silence_ids:
  description: The silences created (O(state=present)) or expired (O(state=absent)).
  returned: always
  type: list
  elements: str
msg:
  description: One line, Vietnamese first, saying what was silenced or expired (or would be, in check mode).
  returned: always
  type: str
warning:
  description: Why the silences were not created or expired, when the work went on without them.
  returned: always
  type: str
"""

import contextlib
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import JOB_ERRORS, fail, require_camfleet

with contextlib.suppress(ImportError):  # reported by require_camfleet()
    from camfleet.jobs.silences import expire_silences, silence_devices

SPEC: dict[str, Any] = dict(
    argument_spec={
        "url": {"type": "str", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "devices": {"type": "list", "elements": "str", "default": []},
        "cameras": {"type": "list", "elements": "str", "default": []},
        "duration": {"type": "float", "default": 1800.0},
        "comment": {"type": "str", "default": "camfleet"},
        "silence_ids": {"type": "list", "elements": "str", "default": []},
        "failed": {"type": "list", "elements": "str", "default": []},
        "required": {"type": "bool", "default": False},
        "timeout": {"type": "float", "default": 5.0},
        "url_option": {"type": "str", "default": "url"},
        "required_option": {"type": "str", "default": ""},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    try:
        if p["state"] == "present":
            result = silence_devices(
                p["url"], p["devices"], p["duration"], p["comment"], cameras=p["cameras"],
                required=p["required"], check_mode=module.check_mode, timeout=p["timeout"],
                url_option=p["url_option"], require_option=p["required_option"],
            )  # fmt: skip
        else:
            result = expire_silences(
                p["url"], p["silence_ids"], failed=p["failed"], check_mode=module.check_mode, timeout=p["timeout"],
                url_option=p["url_option"],
            )  # fmt: skip
    except JOB_ERRORS as err:
        fail(module, err)
    if result.warning:
        module.warn(result.msg)
    module.exit_json(changed=bool(result.ids), **result.as_dict())


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
