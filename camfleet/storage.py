"""Recording storage arithmetic: what each recorder must hold to keep the town's retention target."""

from __future__ import annotations

from dataclasses import dataclass

from camfleet.inventory.fleet import Fleet
from camfleet.model import CameraStatus, Recorder

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class RecorderPlan:
    """One recorder's storage budget (bitrates are the main streams it records 24/7)."""

    recorder: Recorder
    cameras: int
    bitrate_kbps: int
    raw_bytes: int
    usable_bytes: int
    target_days: int

    @property
    def bytes_per_day(self) -> int:
        return self.bitrate_kbps * 1000 // 8 * SECONDS_PER_DAY

    @property
    def needed_bytes(self) -> int:
        return self.bytes_per_day * self.target_days

    @property
    def retention_days(self) -> float:
        """Days the usable capacity holds at these bitrates (infinite with no camera)."""
        return self.usable_bytes / self.bytes_per_day if self.bytes_per_day else float("inf")

    @property
    def margin_days(self) -> float:
        return self.retention_days - self.target_days


def recorder_plans(fleet: Fleet) -> list[RecorderPlan]:
    """Storage plan of every recorder, counting every camera assigned to it that is not retired."""
    usable = fleet.town.storage.usable_fraction
    plans = []
    for rec in fleet.recorders.values():
        cams = [c for c in fleet.cameras_on_recorder(rec.id) if c.status is not CameraStatus.retired]
        bitrate = 0
        for cam in cams:
            profile = fleet.profiles.get(cam.stream.main) if cam.stream else None
            bitrate += profile.bitrate_kbps if profile else 0
        raw = sum(d.capacity_bytes for d in rec.disks)
        plans.append(
            RecorderPlan(
                recorder=rec,
                cameras=len(cams),
                bitrate_kbps=bitrate,
                raw_bytes=raw,
                usable_bytes=int(raw * usable),
                target_days=fleet.town.storage.retention_days,
            )
        )
    return plans
