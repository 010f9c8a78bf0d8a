"""The commissioning record of a camera: what was set, what was checked, in Vietnamese with English.

Rendered here, written by :func:`camfleet.jobs.provision.commission` at the end of
``playbooks/provision.yml`` into ``reports/commissioning/<camera>.md``, beside the aim-check
snapshot. When the camera's sign is recorded in the inventory, the record says its status was set
to ``commissioned``; otherwise it says what is left to do.

    .venv/bin/ansible-playbook playbooks/provision.yml -l cam-02-t05
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from camfleet.inventory.fleet import Fleet
from camfleet.model import Camera
from camfleet.reports.document import markdown_text


@dataclass(frozen=True)
class Checks:
    """What provisioning proved about the camera."""

    model: str | None
    serial: str | None
    firmware: str | None
    stream: str  # e.g. "h264 640x360 12.0 fps"
    recorder: str  # e.g. "nvr-01 kênh/channel 22: online, recording"
    snapshot: Path


def record_text(fleet: Fleet, camera: Camera, checks: Checks, when: dt.datetime) -> str:
    """The record as Markdown. Every value is escaped (``<`` → ``&lt;``): a name or what a device
    answered is shown as typed in the page the Markdown becomes, never run."""
    loc = camera.location
    sign = camera.sign.installed_on if camera.sign and camera.sign.installed_on else None
    e = markdown_text
    lines = [
        f"# Biên bản nghiệm thu camera / Commissioning record — {e(camera.id)}",
        "",
        f"- Thời gian / Time: {when.isoformat(timespec='seconds')}",
        f"- Khu phố / Neighbourhood: {e(fleet.sites[camera.site].name)} ({e(camera.site)})",
        f"- Vị trí / Location: {e(loc.landmark or '')} — {e(loc.street)} ({loc.lat}, {loc.lon}), "
        f"hướng / bearing {loc.bearing_deg}°",
        f"- Thiết bị / Device: {e(checks.model)}, số sê-ri / serial {e(checks.serial)}, firmware {e(checks.firmware)}",
        f"- Luồng hình / Stream (luồng phụ / sub): {e(checks.stream)}",
        f"- Đầu ghi / Recorder: {e(checks.recorder)}",
        f"- Ảnh kiểm tra góc quay / Aim-check snapshot: {e(checks.snapshot.name)}",
        "- Cấu hình / Settings: tên, múi giờ, NTP, chữ OSD, luồng chính/phụ, vùng che riêng tư; UPnP, P2P, telnet, SSH tắt "
        "/ name, time zone, NTP, OSD text, main/sub stream, privacy masks; UPnP, P2P, telnet, SSH off",
        "- Mật khẩu / Password: lưu trong vault (vault/secrets.yml) / kept in the vault",
    ]
    if sign is not None:
        lines.append(f"- Biển CAMERA AN NINH / Sign: đã lắp / installed {sign.isoformat()}")
        lines.append("- Trạng thái / Status: commissioned (đã cập nhật trong inventory / set in the inventory)")
    else:
        lines += [
            "- Biển CAMERA AN NINH / Sign: **chưa ghi nhận / not recorded**",
            "",
            "Việc còn lại / Left to do: lắp biển, ghi `sign.installed_on` và `status: commissioned` cho camera này "
            "trong file khu phố, rồi chạy `camfleet validate`. / Put up the sign, then set `sign.installed_on` and "
            "`status: commissioned` for this camera in its khu phố file and run `camfleet validate`.",
        ]
    return "\n".join(lines) + "\n"


def without_time(text: str) -> str:
    """The record without its time line: two runs that found the same camera in the same state agree."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("- Thời gian / Time:"))
