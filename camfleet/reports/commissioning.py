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

from camfleet.inventory import glossary
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

    def known(value: str | None) -> str:
        """What the device said, or the glossary's word for nothing read (never "None")."""
        return e(value) if value else str(glossary.FIRMWARE_UNKNOWN)

    commissioned = glossary.STATUS["commissioned"]
    lines = [
        f"# Biên bản nghiệm thu camera / Commissioning record — {e(camera.id)}",
        "",
        f"- Thời gian / Time: {when.isoformat(timespec='seconds')}",
        f"- Khu phố / Neighbourhood: {e(fleet.sites[camera.site].name)} ({e(camera.site)})",
        f"- Vị trí / Location: {e(loc.landmark or '')} — {e(loc.street)} ({loc.lat}, {loc.lon}), "
        f"hướng / bearing {loc.bearing_deg}°",
        f"- Thiết bị / Device: {known(checks.model)}, số sê-ri / serial {known(checks.serial)}, "
        f"firmware {known(checks.firmware)}",
        f"- Luồng hình / Stream (luồng phụ / sub): {e(checks.stream)}",
        f"- {glossary.RECORDER.vi.capitalize()} / Recorder: {e(checks.recorder)}",
        f"- Ảnh kiểm tra góc quay / Aim-check snapshot: {e(checks.snapshot.name)}",
        "- Cấu hình / Settings: tên, múi giờ, NTP, chữ OSD, luồng chính/phụ, vùng che riêng tư; UPnP, P2P, telnet, SSH tắt "
        "/ name, time zone, NTP, OSD text, main/sub stream, privacy masks; UPnP, P2P, telnet, SSH off",
        "- Mật khẩu / Password: lưu trong vault (vault/secrets.yml) / kept in the vault",
    ]
    if sign is not None:
        installed = glossary.STATUS["installed"]
        lines.append(f"- Biển CAMERA AN NINH / Sign: {installed.vi} / {installed.en} {sign.isoformat()}")
        lines.append(
            f"- Trạng thái / Status: {commissioned.vi} / {commissioned.en} "
            "(đã cập nhật trong inventory / set in the inventory)"
        )
    else:
        lines += [
            "- Biển CAMERA AN NINH / Sign: **chưa ghi nhận / not recorded**",
            "",
            f"Việc còn lại / Left to do: lắp biển, ghi nhận bằng `camfleet sign {e(camera.id)} --installed-on NGÀY` "
            "rồi chạy lại bước nghiệm thu (trạng thái thành `commissioned`). / Put up the sign, record it with "
            f"`camfleet sign {e(camera.id)} --installed-on YYYY-MM-DD`, then run the commissioning step again "
            "(it sets `status: commissioned`).",
        ]
    return "\n".join(lines) + "\n"


def without_time(text: str) -> str:
    """The record without its time line: two runs that found the same camera in the same state agree."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("- Thời gian / Time:"))
