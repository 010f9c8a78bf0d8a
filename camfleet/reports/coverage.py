"""The coverage report: per route, the share the cameras see, and the stretches nobody watches.

The planner's answer to "where should the next camera go": the uncovered stretches longer than the
threshold, each with its street, where it starts and ends along the route and the point of its
middle. Render only: :func:`camfleet.inventory.coverage.coverage` computes.

    .venv/bin/camfleet report coverage inventory/ngoc-lac --min-gap 80 --format md
"""

from __future__ import annotations

from typing import Any

from camfleet.inventory.coverage import Coverage
from camfleet.inventory.fleet import Fleet
from camfleet.reports.document import Column, Document, Table

KIND_WORDS = {"street": "tuyến đường / street", "alley": "ngõ / alley"}


def _ordered(result: Coverage) -> list[Any]:
    """Most important first, then the least covered."""
    return sorted(result.routes, key=lambda r: (r.route.priority, r.share, r.route.id))


def as_json(fleet: Fleet, result: Coverage) -> dict[str, Any]:
    return {
        "town": fleet.town.id,
        "cameras_counted": len(result.cameras),
        "min_gap_m": result.min_gap_m,
        "length_m": round(result.length_m, 1),
        "covered_m": round(result.covered_m, 1),
        "share": round(result.share, 4),
        "routes": [
            {
                "route": r.route.id,
                "name": r.route.name,
                "kind": r.route.kind.value,
                "priority": r.route.priority,
                "sites": r.route.sites,
                "length_m": round(r.length_m, 1),
                "covered_m": round(r.covered_m, 1),
                "share": round(r.share, 4),
                "gaps": [
                    {
                        "start_m": round(g.start_m, 1),
                        "end_m": round(g.end_m, 1),
                        "length_m": round(g.length_m, 1),
                        "lat": round(g.lat, 6),
                        "lon": round(g.lon, 6),
                    }
                    for g in r.gaps
                ],
            }
            for r in _ordered(result)
        ],
    }


def as_document(fleet: Fleet, result: Coverage) -> Document:
    ordered = _ordered(result)
    routes = Table(
        "Độ phủ theo tuyến",
        "Coverage per route",
        [
            Column("route", "Tuyến", "Route"),
            Column("name", "Tên đường", "Street"),
            Column("kind", "Loại", "Kind"),
            Column("priority", "Ưu tiên", "Priority", True),
            Column("sites", "Khu phố", "Khu phố"),
            Column("length", "Dài (m)", "Length (m)", True),
            Column("covered", "Được nhìn thấy (m)", "Seen (m)", True),
            Column("share", "Tỷ lệ phủ (%)", "Covered (%)", True),
            Column("gaps", "Đoạn hở", "Gaps", True),
        ],
        [
            {
                "route": r.route.id,
                "name": r.route.name,
                "kind": KIND_WORDS[r.route.kind.value],
                "priority": r.route.priority,
                "sites": ", ".join(r.route.sites),
                "length": round(r.length_m),
                "covered": round(r.covered_m),
                "share": round(100 * r.share, 1),
                "gaps": len(r.gaps),
            }
            for r in ordered
        ],
        {
            "route": "Tổng / Total",
            "length": round(result.length_m),
            "covered": round(result.covered_m),
            "share": round(100 * result.share, 1),
            "gaps": sum(len(r.gaps) for r in ordered),
        },
    )
    gaps = Table(
        f"Các đoạn chưa có camera nhìn thấy, dài hơn {result.min_gap_m:g} m",
        f"Stretches no camera sees, longer than {result.min_gap_m:g} m",
        [
            Column("route", "Tuyến", "Route"),
            Column("name", "Tên đường", "Street"),
            Column("priority", "Ưu tiên", "Priority", True),
            Column("from", "Từ (m)", "From (m)", True),
            Column("to", "Đến (m)", "To (m)", True),
            Column("length", "Dài (m)", "Length (m)", True),
            Column("middle", "Điểm giữa (vĩ độ, kinh độ)", "Middle (lat, lon)"),
        ],
        [
            {
                "route": r.route.id,
                "name": r.route.name,
                "priority": r.route.priority,
                "from": round(g.start_m),
                "to": round(g.end_m),
                "length": round(g.length_m),
                "middle": f"{g.lat:.6f}, {g.lon:.6f}",
            }
            for r in ordered
            for g in sorted(r.gaps, key=lambda g: -g.length_m)
        ],
    )
    return Document(
        f"ĐỘ PHỦ CAMERA TRÊN CÁC TUYẾN — {fleet.town.name.upper()}",
        f"Camera coverage of the routes — {fleet.town.name}",
        f"{len(result.cameras)} camera được tính (đã lắp, đã nghiệm thu) / cameras counted (installed, commissioned)",
        [routes, gaps],
        [
            "Vị trí tính bằng mét từ đầu tuyến (điểm đầu tiên trong routes.yml). "
            "/ Positions are metres from the route's start (its first point in routes.yml).",
            "Vùng nhìn của camera: góc và tầm xa theo location.view, nếu không có thì theo model (firmware.yml), "
            "mặc định 90° và 30 m. / A camera's view: location.view, else its model's, else 90° and 30 m.",
        ],
    )


__all__ = ["as_document", "as_json"]
