"""Progress against the plan's dates: per khu phố, cameras planned, surveyed, installed, commissioned,
signed; the loại hình 1 campaign; funds raised against what is needed; what is late.

    .venv/bin/camfleet report progress inventory/ngoc-lac --today 2024-01-15 --format md

The dates are ``town.budget.mobilisation_by``, ``install_from`` and ``install_to``; the counts are
:func:`camfleet.inventory.progress.progress`.
"""

from __future__ import annotations

from typing import Any

from camfleet.inventory import glossary
from camfleet.inventory.progress import Progress
from camfleet.model import Town
from camfleet.reports.document import Column, Document, Table


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def as_json(town: Town, p: Progress) -> dict[str, Any]:
    return {
        "town": town.id,
        "today": p.today.isoformat(),
        "mobilisation_by": _date(p.mobilisation_by),
        "install_from": _date(p.install_from),
        "install_to": _date(p.install_to),
        "sites": [
            {
                "site": s.site,
                "planned": s.planned,
                "surveyed": s.surveyed,
                "installed": s.installed,
                "commissioned": s.commissioned,
                "town_cameras": s.town_cameras,
                "signed": s.signed,
                "community": s.community,
                "campaign_confirmed": s.confirmed,
                "commitments_signed": s.commitments,
                "needed_vnd": s.needed_vnd,
                "raised_vnd": s.raised_vnd,
                "short_vnd": s.short_vnd,
                "late": [{"item": x.item, "what": x.what, "due": x.due.isoformat()} for x in s.late],
            }
            for s in p.sites
        ],
        "station_needed_vnd": p.station_needed_vnd,
        "late": len(p.late),
    }


def as_document(town: Town, p: Progress) -> Document:
    sites = Table(
        "Tiến độ theo khu phố",
        "Progress per khu phố",
        [
            Column("site", "Khu phố", "Neighbourhood"),
            Column("planned", "Dự kiến", "Planned", True),
            Column("surveyed", "Đã khảo sát", "Surveyed", True),
            Column("installed", "Đã lắp đặt", "Installed", True),
            Column("commissioned", "Đã nghiệm thu", "Commissioned", True),
            Column("signs", "Biển đã lắp", "Signs up", True),
            Column("campaign", "Loại hình 1 xác nhận", "Kind 1 confirmed", True),
            Column("commitments", "Cam kết đã ký", "Commitments", True),
            Column("needed_vnd", "Cần (đ)", "Needed (VND)", True),
            Column("raised_vnd", "Đã huy động (đ)", "Raised (VND)", True),
            Column("late", "Chậm", "Late", True),
        ],
        [
            {
                "site": f"{s.name} ({s.site})",
                "planned": s.planned,
                "surveyed": s.surveyed,
                "installed": s.installed,
                "commissioned": s.commissioned,
                "signs": f"{s.signed}/{s.town_cameras}",
                "campaign": f"{s.confirmed}/{s.community}",
                "commitments": f"{s.commitments}/{s.community}",
                "needed_vnd": s.needed_vnd,
                "raised_vnd": s.raised_vnd,
                "late": len(s.late),
            }
            for s in p.sites
        ],
        {
            "site": "Cộng / Total",
            "planned": sum(s.planned for s in p.sites),
            "surveyed": sum(s.surveyed for s in p.sites),
            "installed": sum(s.installed for s in p.sites),
            "commissioned": sum(s.commissioned for s in p.sites),
            "signs": f"{sum(s.signed for s in p.sites)}/{sum(s.town_cameras for s in p.sites)}",
            "campaign": f"{sum(s.confirmed for s in p.sites)}/{sum(s.community for s in p.sites)}",
            "commitments": f"{sum(s.commitments for s in p.sites)}/{sum(s.community for s in p.sites)}",
            "needed_vnd": sum(s.needed_vnd for s in p.sites),
            "raised_vnd": sum(s.raised_vnd for s in p.sites),
            "late": len(p.late),
        },
    )
    late = Table(
        "Việc chậm so với kế hoạch",
        "Late against the plan",
        [
            Column("item", "Camera", "Camera"),
            Column("site", "Khu phố", "Neighbourhood"),
            Column("what", "Việc", "What"),
            Column("due", "Hạn", "Due"),
            Column("days", "Chậm (ngày)", "Days late", True),
        ],
        [
            {
                "item": x.item,
                "site": x.site,
                "what": str(glossary.LATE[x.what]),
                "due": x.due.isoformat(),
                "days": (p.today - x.due).days,
            }
            for x in p.late
        ],
    )
    dates = (
        f"Vận động xong trước / campaign by {_date(p.mobilisation_by) or '—'}; lắp đặt / installation "
        f"{_date(p.install_from) or '—'} → {_date(p.install_to) or '—'}; tính đến / as of {p.today.isoformat()}"
    )
    notes = [
        "Cần: phần quỹ khu phố phải chi cho camera và router; đã huy động: quỹ khu phố đã cam kết. "
        "/ Needed: what the khu phố fund pays for cameras and routers; raised: what the fund has committed.",
        f"Thiết bị tại {glossary.town_words(town.kind).police.vi} ({glossary.town_words(town.kind).board.vi}, "
        "xã hội hóa) cần / station equipment needs "
        f"{p.station_needed_vnd:,} đ.".replace(",", "."),
    ]
    if None in (p.mobilisation_by, p.install_from, p.install_to):
        notes.append(
            "Kế hoạch chưa ghi đủ ngày (town.budget: mobilisation_by, install_from, install_to): việc không có hạn "
            "không tính là chậm. / The plan's dates are incomplete; nothing without a date counts as late."
        )
    return Document(
        f"BÁO CÁO TIẾN ĐỘ HỆ THỐNG CAMERA AN NINH — {town.name.upper()}",
        f"Progress of the security camera programme — {town.name}",
        dates,
        [sites, late] if p.late else [sites],
        notes,
    )
