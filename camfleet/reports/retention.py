"""Retention plan per recorder: channels, bitrate, usable capacity, days kept vs the target.

.venv/bin/camfleet report retention inventory/ngoc-lac
"""

from __future__ import annotations

import math
from typing import Any

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.plans import RecorderPlan, recorder_plans
from camfleet.reports.document import Column, Document, Table


def _days(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 1)


def as_json(fleet: Fleet, plans: list[RecorderPlan]) -> dict[str, Any]:
    return {
        "town": fleet.town.id,
        "target_days": fleet.town.storage.retention_days,
        "usable_fraction": fleet.town.storage.usable_fraction,
        "recorders": [
            {
                "recorder": p.recorder.id,
                "model": p.recorder.model,
                "channels_used": p.cameras,
                "channels": p.recorder.channels,
                "bitrate_kbps": p.bitrate_kbps,
                "incoming_mbps": p.recorder.incoming_mbps,
                "disks": len(p.recorder.disks),
                "raw_bytes": p.raw_bytes,
                "usable_bytes": p.usable_bytes,
                "bytes_per_day": p.bytes_per_day,
                "retention_days": _days(p.retention_days),
                "margin_days": _days(p.margin_days),
                "meets_target": p.margin_days >= 0,
            }
            for p in plans
        ],
    }


def as_document(fleet: Fleet, plans: list[RecorderPlan]) -> Document:
    target = fleet.town.storage.retention_days
    rows = [
        {
            "recorder": f"{p.recorder.id} ({p.recorder.model})",
            "channels": f"{p.cameras}/{p.recorder.channels}",
            "bitrate": round(p.bitrate_kbps / 1000, 1),
            "disks": len(p.recorder.disks),
            "usable_tb": round(p.usable_bytes / 1e12, 1),
            "per_day_gb": round(p.bytes_per_day / 1e9, 1),
            "days": _days(p.retention_days),
            "margin": _days(p.margin_days),
            "ok": "đạt / OK" if p.margin_days >= 0 else "KHÔNG ĐẠT / SHORT",
        }
        for p in plans
    ]
    table = Table(
        "Kế hoạch lưu trữ theo đầu ghi",
        "Storage plan per recorder",
        [
            Column("recorder", "Đầu ghi", "Recorder"),
            Column("channels", "Kênh dùng", "Channels used", True),
            Column("bitrate", "Tổng bitrate (Mbit/s)", "Total bitrate (Mbit/s)", True),
            Column("disks", "Số ổ", "Disks", True),
            Column("usable_tb", "Dung lượng dùng được (TB)", "Usable (TB)", True),
            Column("per_day_gb", "Mỗi ngày (GB)", "Per day (GB)", True),
            Column("days", "Số ngày lưu", "Days kept", True),
            Column("margin", f"Dư so với {target} ngày", f"Margin vs {target} days", True),
            Column("ok", "Kết luận", "Verdict"),
        ],
        rows,
    )
    return Document(
        f"KẾ HOẠCH LƯU TRỮ HÌNH ẢNH — {fleet.town.name.upper()}",
        f"Recording retention plan — {fleet.town.name}",
        f"Mục tiêu lưu {target} ngày, ghi 24/7 luồng chính / Target: {target} days of 24/7 main-stream recording",
        [table],
        [
            f"Dung lượng dùng được = {fleet.town.storage.usable_fraction:.0%} dung lượng ổ cứng (hệ thống tệp, chỉ mục, dự phòng). "
            f"/ Usable = {fleet.town.storage.usable_fraction:.0%} of raw disk capacity.",
            "Số ngày tính theo bitrate tối đa của luồng chính; ban đêm ít chuyển động, thực tế thường lâu hơn. "
            "/ Days assume every main stream at its full bitrate; real retention is usually longer.",
        ],
    )


__all__ = ["as_document", "as_json", "recorder_plans"]
