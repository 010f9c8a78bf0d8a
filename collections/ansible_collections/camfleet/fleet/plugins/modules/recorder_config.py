#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""A recorder's channels and schedules as the inventory says, its disks' health, and a disk format when told."""

from __future__ import annotations

DOCUMENTATION = r"""
module: recorder_config
short_description: Make a recorder's camera channels and 24/7 schedules match the inventory; report and format disks
description:
  - Points every listed channel at its camera with the recorder's pull account and records it continuously,
    writing only what differs (one call per recorder).
  - Reports every disk's status, capacity and free space, and fails when a disk has failed, so the technician
    learns it from the run.
  - Formats a disk only when told which slot (C(format_disk)), and only if that disk is new or unformatted
    (C(force) formats a disk that holds footage, and its recordings are lost).
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
extends_documentation_fragment:
  - camfleet.fleet.device
options:
  channels:
    description: Channels to have - camera id to C(address), C(port) (where the recorder reaches the camera).
    type: dict
    default: {}
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
notes:
  - Supports check mode and diff mode.
"""

EXAMPLES = r"""
- name: Channels, schedules and disks of the recorder
  camfleet.fleet.recorder_config:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    channels: {cam-01-t01: {address: 10.78.1.2, port: 80}}
    pull_username: nvrpull
    pull_password: "{{ vault_device_credentials[inventory_hostname ~ '-channel-user'].password }}"
"""

RETURN = r"""
steps:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
disks:
  description: Every disk - slot, status, capacity and free bytes.
  returned: always
  type: list
  elements: dict
"""

import contextlib
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
    argument_spec={
        **DEVICE_ARGS,
        "channels": {"type": "dict", "default": {}},
        "pull_username": {"type": "str", "required": True},
        "pull_password": {"type": "str", "required": True, "no_log": True},
        "format_disk": {"type": "int"},
        "force": {"type": "bool", "default": False},
    },
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    recorder = device_entry(module, fleet, p["device"])
    if recorder.id not in fleet.recorders:
        module.fail_json(msg=f"{recorder.id} is a camera; recorder_config configures recorders")
    steps: list[str] = []
    try:
        with connect(module, recorder) as nvr:
            have = {c.number: c for c in nvr.channels()}
            for camera_id, where in sorted(p["channels"].items()):
                camera = fleet.cameras.get(camera_id)
                if camera is None or camera.recorder is None or camera.recorder.id != recorder.id:
                    module.fail_json(msg=f"{camera_id} is not on {recorder.id} in the inventory", steps=steps)
                n = camera.recorder.channel
                wanted = (
                    where["address"],
                    int(where.get("port") or camera.network.http_port),
                    p["pull_username"],
                    camera_id,
                )
                current = have.get(n)
                if current is None or (current.address, current.port, current.username, current.name) != wanted:
                    steps.append(f"channel {n}: {camera_id} at {wanted[0]}:{wanted[1]}")
                    if not module.check_mode:
                        vendor = camera.device.vendor.value if camera.device else "other"
                        nvr.set_channel(
                            n,
                            wanted[0],
                            wanted[1],
                            p["pull_username"],
                            p["pull_password"],
                            camera_id,
                            protocol="HIKVISION" if vendor == "hikvision" else "ONVIF",
                            rewrite_password=True,
                        )
                # A channel created just now gets its schedule here too (check mode: it would).
                needs_schedule = current is None or nvr.recording_schedule(n) != "continuous"
                if needs_schedule and (module.check_mode or nvr.set_recording_schedule(n, continuous=True)):
                    steps.append(f"channel {n}: record 24/7")
            disks = nvr.disks()
            if p["format_disk"] is not None:
                disk = next((d for d in disks if d.slot == p["format_disk"]), None)
                if disk is None:
                    module.fail_json(msg=f"{recorder.id} has no disk in slot {p['format_disk']}", steps=steps)
                if disk.status == "ok" and not p["force"]:
                    module.fail_json(
                        msg=f"{recorder.id} disk {disk.slot} is in use ({disk.free_bytes / 1e9:.0f} GB free of "
                        f"{disk.capacity_bytes / 1e9:.0f} GB): formatting loses its footage; add force=true if you mean it",
                        steps=steps,
                    )
                steps.append(f"format disk {disk.slot}")
                if not module.check_mode:
                    nvr.format_disk(disk.slot)
                    disks = nvr.disks()
    except DriverError as err:
        fail_device(module, err, steps=steps)
    report = [
        {"slot": d.slot, "status": d.status, "capacity_bytes": d.capacity_bytes, "free_bytes": d.free_bytes}
        for d in disks
    ]
    failed = [d for d in disks if d.status not in ("ok", "unformatted")]
    if failed:
        module.fail_json(
            msg=f"{recorder.id}: disk {', '.join(str(d.slot) for d in failed)} failed ({', '.join(d.status for d in failed)}): "
            "replace it, then run recorders.yml with -e recorders_format_disk=<slot>",
            steps=steps,
            disks=report,
            changed=bool(steps) and not module.check_mode,
        )
    result = {"changed": bool(steps), "steps": steps, "disks": report}
    if module._diff and steps:
        result["diff"] = {"prepared": "\n".join(steps) + "\n"}
    module.exit_json(**result)


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
