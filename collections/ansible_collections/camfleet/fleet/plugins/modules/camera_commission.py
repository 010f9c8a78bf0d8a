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
    description: Address to reach the camera at.
    type: str
    required: true
  port:
    description: HTTP port (default the inventory's).
    type: int
  rtsp_port:
    description: RTSP port (default the inventory's).
    type: int
  username:
    description: Camera login.
    type: str
    required: true
  password:
    description: Camera password.
    type: str
    required: true
  report_dir:
    description: Folder of the commissioning records and snapshots.
    type: path
    required: true
  update_inventory:
    description: Whether to set the camera's status to commissioned in the inventory (when its sign is recorded).
    type: bool
    default: true
  timeout:
    description: Seconds per request, and the stream probe's budget.
    type: float
    default: 10
notes:
  - Check mode probes and reports, writes nothing.
"""

EXAMPLES = r"""
- name: Verify the camera and write its commissioning record
  camfleet.fleet.camera_commission:
    town: "{{ inventory_dir }}"
    device: "{{ inventory_hostname }}"
    host: "{{ ansible_host }}"
    username: admin
    password: "{{ camera_password }}"
    recorder_host: "{{ hostvars[camfleet_recorder].ansible_host }}"
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

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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

try:
    from camfleet.commissioning import Checks, mark_commissioned, record_text
    from camfleet.drivers.errors import DriverError
    from camfleet.inventory.edit import EditError
    from camfleet.probes.rtsp import probe_stream
except ImportError:  # reported by require_camfleet()
    pass


SPEC: dict[str, Any] = dict(
    argument_spec={
        **DEVICE_ARGS,
        "rtsp_port": {"type": "int"},
        **RECORDER_ARGS,
        "report_dir": {"type": "path", "required": True},
        "update_inventory": {"type": "bool", "default": True},
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
        module.fail_json(msg=f"{camera.id} has no recorder channel in the inventory")
    slot = camera.recorder
    recorder = fleet.recorders[slot.id]
    try:
        with connect_with(module, camera, p["username"], p["password"]) as cam:
            facts = cam.facts()
            url = cam.stream_url(p["rtsp_port"] or camera.network.rtsp_port, sub=True)
            probe = asyncio.run(
                probe_stream(url, p["username"], p["password"], timeout=p["timeout"], frames=1, measure_s=1.0)
            )
            if not probe.success:
                module.fail_json(msg=f"{camera.id}: the stream delivers no video ({probe.reason}: {probe.detail})")
            jpeg = cam.snapshot()
        with connect_with(
            module, recorder, p["recorder_username"], p["recorder_password"], p["recorder_host"], p["recorder_port"]
        ) as nvr:
            state = nvr.channel_status().get(slot.channel)
    except DriverError as err:
        fail_device(module, err)
    if state is None or not (state.online and state.recording):
        module.fail_json(
            msg=f"{recorder.id} channel {slot.channel} ({camera.id}) is not online and recording; run the recorder step again"
        )
    stream = f"{probe.codec} {probe.width}x{probe.height} {round(probe.fps_measured or 0)} fps"
    if module.check_mode:
        module.exit_json(changed=True, stream=stream)
    when = dt.datetime.now(ZoneInfo(fleet.town.timezone))
    folder = Path(p["report_dir"])
    os.makedirs(folder, exist_ok=True)
    snapshot = folder / f"{camera.id}.jpg"
    checks = Checks(
        facts.model,
        facts.serial,
        facts.firmware,
        stream,
        f"{recorder.id} kênh/channel {slot.channel}: online, đang ghi/recording",
        snapshot,
    )
    record = folder / f"{camera.id}.md"
    text = record_text(fleet, camera, checks, when)
    # A re-run that finds the same camera in the same state keeps the first record (and its time).
    same = record.is_file() and _without_time(record.read_text(encoding="utf-8")) == _without_time(text)
    same = same and snapshot.is_file() and snapshot.read_bytes() == jpeg
    if not same:
        snapshot.write_bytes(jpeg)
        record.write_text(text, encoding="utf-8")
    signed = bool(camera.sign and camera.sign.installed_on)
    try:
        updated = bool(p["update_inventory"] and signed and mark_commissioned(fleet, camera))
    except (EditError, OSError) as err:
        module.fail_json(
            msg=f"{camera.id}: commissioned, but the inventory could not be updated: {err}; set its status by hand"
        )
    module.exit_json(
        changed=not same or updated,
        record=str(record),
        snapshot=str(snapshot),
        stream=stream,
        inventory_updated=updated,
    )


def _without_time(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("- Thời gian / Time:"))


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
