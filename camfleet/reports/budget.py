"""Budget per khu phố and for the station, as the plan's attachment shows it.

    .venv/bin/camfleet report budget inventory/ngoc-lac --format md

The sums are :func:`camfleet.inventory.plans.budget_rows` (the loader checks the same sums
against the plan); this module lays them out.
"""

from __future__ import annotations

from typing import Any

from camfleet.inventory import glossary
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.plans import BudgetReport, budget_rows
from camfleet.reports.document import Column, Document, Table

#: Who pays, as the plan words it: xã hội hóa throughout (the glossary's words).


def as_json(fleet: Fleet, report: BudgetReport) -> dict[str, Any]:
    return {
        "town": fleet.town.id,
        "plan_ref": report.plan_ref,
        "plan_total_vnd": report.plan_total_vnd,
        "sites": [
            {
                "site": r.site_id,
                "name": r.name,
                "cameras": r.cameras,
                "community_cameras": r.community,
                "town_cameras": r.town,
                "by_status": r.by_status,
                "cameras_vnd": r.cameras_vnd,
                "link_routers_vnd": r.routers_vnd,
                "total_vnd": r.total_vnd,
                "site_fund_spent_vnd": r.site_fund_vnd,
                "site_fund_committed_vnd": r.fund_committed_vnd,
                "by_funding_vnd": r.by_funding,
            }
            for r in report.sites
        ],
        "station": [
            {
                "item": r.item_id,
                "description": r.item,
                "quantity": r.quantity,
                "unit_vnd": r.unit_vnd,
                "amount_vnd": r.amount_vnd,
                "funding": r.funding,
            }
            for r in report.station
        ],
        "sites_vnd": report.sites_vnd,
        "station_vnd": report.station_vnd,
        "total_vnd": report.total_vnd,
        "by_funding_vnd": report.by_funding(),
    }


def as_document(fleet: Fleet, report: BudgetReport) -> Document:
    words = glossary.town_words(fleet.town.kind)
    funding = glossary.funding(fleet.town.kind)
    statuses = ["commissioned", "installed", "surveyed", "planned", "faulty", "retired"]
    status_vi = {key: term.vi for key, term in glossary.STATUS.items()}
    sites = Table(
        "Dự toán theo khu phố",
        "Budget per neighbourhood (khu phố)",
        [
            Column("site", "Khu phố", "Neighbourhood"),
            Column("community", "Camera loại hình 1", "Community cams", True),
            Column("town", "Camera loại hình 2", "Town cams", True),
            Column("status", "Tình trạng", "Status"),
            Column("cameras_vnd", "Camera (đ)", "Cameras (VND)", True),
            Column("routers_vnd", "Router (đ)", "Link routers (VND)", True),
            Column("total_vnd", "Cộng (đ)", "Total (VND)", True),
            Column("fund", "Quỹ KP đã dùng / cam kết (đ)", "Site fund used / committed", True),
        ],
        [
            {
                "site": f"{r.name} ({r.site_id})",
                "community": r.community,
                "town": r.town,
                "status": ", ".join(f"{r.by_status[s]} {status_vi[s]}" for s in statuses if s in r.by_status),
                "cameras_vnd": r.cameras_vnd,
                "routers_vnd": r.routers_vnd,
                "total_vnd": r.total_vnd,
                "fund": f"{_dots(r.site_fund_vnd)} / {_dots(r.fund_committed_vnd)}",
            }
            for r in report.sites
        ],
        {
            "site": "Cộng / Total",
            "community": sum(r.community for r in report.sites),
            "town": sum(r.town for r in report.sites),
            "cameras_vnd": sum(r.cameras_vnd for r in report.sites),
            "routers_vnd": sum(r.routers_vnd for r in report.sites),
            "total_vnd": report.sites_vnd,
        },
    )
    station = Table(
        f"Thiết bị tại {words.police.vi}",
        "Station equipment",
        [
            Column("item", "Hạng mục", "Item"),
            Column("quantity", "SL", "Qty", True),
            Column("unit_vnd", "Đơn giá (đ)", "Unit (VND)", True),
            Column("amount_vnd", "Thành tiền (đ)", "Amount (VND)", True),
            Column("funding", "Nguồn", "Funding"),
        ],
        [
            {
                "item": r.item,
                "quantity": r.quantity,
                "unit_vnd": r.unit_vnd,
                "amount_vnd": r.amount_vnd,
                "funding": funding[r.funding].vi,
            }
            for r in report.station
        ],
        {"item": "Cộng / Total", "amount_vnd": report.station_vnd},
    )
    totals = Table(
        "Tổng hợp theo nguồn kinh phí",
        "Totals by funding source",
        [Column("funding", "Nguồn", "Funding"), Column("amount_vnd", "Số tiền (đ)", "Amount (VND)", True)],
        [{"funding": str(funding[k]), "amount_vnd": v} for k, v in report.by_funding().items()],
        {"funding": "TỔNG CỘNG / GRAND TOTAL", "amount_vnd": report.total_vnd},
    )
    match = "khớp" if report.total_vnd == report.plan_total_vnd else "KHÔNG khớp"
    notes = [
        f"Tổng dự toán {_dots(report.total_vnd)} đ {match} với kế hoạch ({_dots(report.plan_total_vnd)} đ). "
        f"/ Total {'matches' if match == 'khớp' else 'does NOT match'} the plan.",
        "Camera loại hình 1: camera của hộ dân, cơ sở, cơ quan, trường học quay ra đường; loại hình 2: camera mới do "
        "khu phố đầu tư. / Kind 1: community cameras re-aimed at the street; kind 2: new town cameras.",
        f"Toàn bộ kinh phí là xã hội hóa: quỹ khu phố cho camera và router, {words.board.vi} cho đầu ghi, ổ cứng, "
        f"màn hình tại {words.police.vi}. / Funded entirely by community contributions: khu phố funds for cameras and "
        f"routers, the {words.board.en} for the station's recorders, disks and screens.",
    ]
    return Document(
        f"DỰ TOÁN KINH PHÍ HỆ THỐNG CAMERA AN NINH — {fleet.town.name.upper()}",
        f"Security camera programme budget — {fleet.town.name}",
        f"{report.plan_ref}",
        [sites, station, totals],
        notes,
    )


def _dots(value: int) -> str:
    return f"{value:,}".replace(",", ".")


__all__ = ["as_document", "as_json", "budget_rows"]
