"""The plan's attachment: per khu phố, its cameras with location, kind, status and cost, and a subtotal.

    .venv/bin/camfleet report cameras inventory/ngoc-lac --format md

Costs count as the budget counts them (:class:`camfleet.inventory.progress.CameraRow`): an owner's
own camera is listed at no cost to the plan.
"""

from __future__ import annotations

from typing import Any

from camfleet.inventory import glossary
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.progress import CameraRow
from camfleet.reports.document import Column, Document, Table


def as_json(fleet: Fleet, rows: dict[str, list[CameraRow]]) -> dict[str, Any]:
    return {
        "town": fleet.town.id,
        "sites": [
            {
                "site": site,
                "cameras": [
                    {
                        "camera": r.camera,
                        "kind": r.kind,
                        "status": r.status,
                        "street": r.street,
                        "landmark": r.landmark,
                        "amount_vnd": r.amount_vnd,
                        "funding": r.funding,
                        "paid_vnd": r.paid_vnd,
                    }
                    for r in cams
                ],
                "subtotal_vnd": sum(r.paid_vnd for r in cams),
            }
            for site, cams in rows.items()
        ],
        "total_vnd": sum(r.paid_vnd for cams in rows.values() for r in cams),
    }


def as_document(fleet: Fleet, rows: dict[str, list[CameraRow]]) -> Document:
    columns = [
        Column("n", "TT", "No.", True),
        Column("camera", "Camera", "Camera"),
        Column("location", "Vị trí", "Location"),
        Column("kind", "Loại hình", "Kind"),
        Column("status", "Tình trạng", "Status"),
        Column("funding", "Nguồn", "Funding"),
        Column("paid_vnd", "Kinh phí (đ)", "Cost (VND)", True),
    ]
    tables = []
    for site_id, cams in rows.items():
        site = fleet.sites[site_id]
        tables.append(
            Table(
                f"{site.name} ({site.id})",
                f"{len(cams)} camera",
                columns,
                [
                    {
                        "n": i,
                        "camera": r.camera,
                        "location": f"{r.landmark} — {r.street}" if r.landmark else r.street,
                        "kind": glossary.KIND[r.kind].vi,
                        "status": glossary.STATUS[r.status].vi,
                        "funding": glossary.funding(fleet.town.kind)[r.funding].vi,
                        "paid_vnd": r.paid_vnd,
                    }
                    for i, r in enumerate(cams, 1)
                ],
                {"camera": "Cộng / Subtotal", "paid_vnd": sum(r.paid_vnd for r in cams)},
            )
        )
    total = sum(r.paid_vnd for cams in rows.values() for r in cams)
    return Document(
        f"DANH SÁCH CAMERA THEO KHU PHỐ — {fleet.town.name.upper()}",
        f"Cameras per khu phố (the plan's attachment) — {fleet.town.name}",
        fleet.town.budget.plan_ref,
        tables,
        [
            f"Tổng kinh phí camera / Cameras in total: {total:,} đ".replace(",", "."),
            "Camera của chủ tự có không tính vào kinh phí kế hoạch. / An owner's own camera costs the plan nothing.",
        ],
    )
