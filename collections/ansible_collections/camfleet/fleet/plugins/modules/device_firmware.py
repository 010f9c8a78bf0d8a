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
  rtsp_port:
    description: RTSP port for the stream check (cameras); omit to skip the stream check.
    type: int
  recorder_host:
    description: Address of the camera's recorder, to check its channel comes back online; omit to skip.
    type: str
  recorder_port:
    description: HTTP port of the recorder.
    type: int
    default: 80
  recorder_username:
    description: Recorder login.
    type: str
  recorder_password:
    description: Recorder password.
    type: str
  recorder_channel:
    description: The camera's channel on its recorder.
    type: int
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
    host: "{{ ansible_host }}"
    port: "{{ camfleet_http_port }}"
    username: "{{ vault_device_credentials[inventory_hostname].username }}"
    password: "{{ vault_device_credentials[inventory_hostname].password }}"
    store: "{{ playbook_dir }}/../firmware"
    rtsp_port: "{{ camfleet_rtsp_port }}"
    recorder_host: "{{ hostvars[camfleet_recorder].ansible_host }}"
    recorder_username: "{{ vault_device_credentials[camfleet_recorder].username }}"
    recorder_password: "{{ vault_device_credentials[camfleet_recorder].password }}"
    recorder_channel: "{{ camfleet_channel }}"
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
    from pathlib import Path

    from camfleet.drivers import driver_class, live_url
    from camfleet.drivers.errors import DriverError
    from camfleet.firmware import (
        FirmwareError,
        Gate,
        ProgressLog,
        RecorderChannel,
        status_of,
        upgrade,
        verified_file,
    )
    from camfleet.inventory.edit import EditError, record_firmware
except ImportError:  # reported by require_camfleet()
    pass

ARGS = {
    **DEVICE_ARGS,
    "store": {"type": "path"},
    "upgrade": {"type": "bool", "default": True},
    "rtsp_port": {"type": "int"},
    "recorder_host": {"type": "str"},
    "recorder_port": {"type": "int", "default": 80},
    "recorder_username": {"type": "str"},
    "recorder_password": {"type": "str", "no_log": True},
    "recorder_channel": {"type": "int"},
    "reboot_timeout": {"type": "float", "default": 300.0},
    "health_timeout": {"type": "float", "default": 60.0},
    "poll_interval": {"type": "float", "default": 1.0},
    "progress_log": {"type": "path"},
    "update_inventory": {"type": "bool", "default": True},
}


def gate_for(module, entry, vendor):
    """The health checks this device gets besides its build."""
    p = module.params
    gate = Gate(reboot_timeout_s=p["reboot_timeout"], health_timeout_s=p["health_timeout"], poll_s=p["poll_interval"])
    if p["rtsp_port"] and hasattr(entry, "network"):
        gate.stream = (live_url(vendor, p["host"], p["rtsp_port"], sub=True), p["username"], p["password"])
    if p["recorder_host"] and p["recorder_channel"]:
        nvr = driver_class("hikvision_isapi_nvr")(
            entry.recorder.id if getattr(entry, "recorder", None) else "recorder",
            p["recorder_host"],
            p["recorder_port"],
            p["recorder_username"] or "",
            p["recorder_password"] or "",
            timeout=p["timeout"],
        )
        gate.channel = RecorderChannel(nvr, p["recorder_channel"])
    return gate


SPEC: dict[str, Any] = dict(
    argument_spec=ARGS,
    required_together=[("recorder_host", "recorder_username", "recorder_password", "recorder_channel")],
    supports_check_mode=True,
)


def recorded(module: Any, fleet: Any, entry: Any, build: str | None) -> bool:
    """Write ``build`` into the entry's inventory file when asked and not in check mode; False when the
    file already says so (it is compared with the file, never with the entry loaded before the upgrade)."""
    if not build or module.check_mode or not module.params["update_inventory"]:
        return False
    try:
        return record_firmware(fleet, entry.id, build)
    except (EditError, OSError) as err:
        module.warn(f"{entry.id}: runs {build}, but the inventory could not be updated ({err}); set it by hand")
        return False


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    require_camfleet(module)
    p = module.params
    fleet = load_town(module, p["town"])
    entry = device_entry(module, fleet, p["device"])
    try:
        planned = status_of(fleet, entry.id, None)
    except FirmwareError as err:
        module.fail_json(msg=f"{entry.id}: {err}")
    image = None
    if p["upgrade"] and not module.check_mode:
        if not p["store"]:
            module.fail_json(msg=f"{entry.id}: store is required to upgrade", approved=planned.approved)
        try:  # before anything is sent: a wrong file never reaches a device
            image = verified_file(Path(p["store"]), planned.file, planned.sha256).read_bytes()
        except FirmwareError as err:
            module.fail_json(msg=f"{entry.id}: {err}", approved=planned.approved)
    facts = {"approved": planned.approved}
    try:
        with connect(module, entry) as driver:
            seen = driver.facts()
            if not seen.activated:
                module.fail_json(
                    msg=f"{entry.id}: not activated; provision it first (playbooks/provision.yml)", **facts
                )
            if seen.model and seen.model != planned.model:
                module.fail_json(
                    msg=f"{entry.id}: the device reports model {seen.model}, the inventory says {planned.model}; "
                    "not flashing another model's firmware",
                    **facts,
                )
            status = status_of(fleet, entry.id, seen.firmware)
            facts.update(
                before=status.current,
                after=status.current,
                up_to_date=status.up_to_date,
                vulnerable=status.vulnerable is not None,
                cves=list(status.vulnerable.cves) if status.vulnerable else [],
                vulnerability=(
                    f"{entry.id} {status.model} {status.current}: {status.vulnerable.label()}"
                    + (f" - {status.vulnerable.note}" if status.vulnerable.note else "")
                    if status.vulnerable
                    else None
                ),
            )
            facts["inventory_updated"] = recorded(module, fleet, entry, seen.firmware)
            if status.up_to_date or not p["upgrade"]:
                where = (
                    "runs the approved build"
                    if status.up_to_date
                    else f"would go {status.current} -> {status.approved}"
                )
                module.exit_json(changed=False, msg=f"{entry.id} {where}", **facts)
            if module.check_mode:
                module.exit_json(
                    changed=True, msg=f"{entry.id}: would upgrade {status.current} -> {status.approved}", **facts
                )
            log = ProgressLog(entry.id, Path(p["progress_log"]) if p["progress_log"] else None)
            try:
                health = upgrade(driver, status, image, gate_for(module, entry, status.vendor), log)
            except DriverError as err:
                err.message = f"firmware upgrade {status.current} -> {status.approved} failed: {err.message}"
                fail_device(module, err, progress=log.samples, log=log.lines, **facts)
    except DriverError as err:
        fail_device(module, err, **facts)
    facts["after"] = health.build
    facts["inventory_updated"] = recorded(module, fleet, entry, health.build) or facts["inventory_updated"]
    result = {"progress": log.samples, "log": log.lines, "health": health.as_dict(), **facts}
    if health.problems:
        module.fail_json(
            msg=f"{entry.id}: upgraded to {health.build} but unhealthy: {'; '.join(health.problems)}",
            changed=True,
            **result,
        )
    module.exit_json(
        changed=True,
        msg=f"{entry.id}: {status.current} -> {health.build}, healthy (flash {' '.join(f'{s}%' for s in log.samples[-4:])})",
        **result,
    )


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
