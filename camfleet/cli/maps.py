"""``camfleet map TOWN -o DIR``: the town's GeoJSON, its offline map page and a printable SVG.

.venv/bin/camfleet map inventory/ngoc-lac -o /tmp/map --paper a4
# /tmp/map/town.geojson  /tmp/map/map.html (opens with no network)  /tmp/map/map.svg
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from camfleet.inventory import InventoryError, load
from camfleet.inventory.coverage import camera_view, cone_lonlat, site_areas
from camfleet.model import CameraStatus
from camfleet.reports.geojson import town_geojson
from camfleet.reports.townmap import PAPER_MM, map_page, map_svg

#: A tile URL template as map servers write it; only http(s), with {z}, {x} and {y}.
_TILES = re.compile(r"^https?://[^\s\"'<>]+$")


def cmd_map(args: argparse.Namespace) -> int:
    if args.tiles is not None and not (
        _TILES.match(args.tiles) and all(k in args.tiles for k in ("{z}", "{x}", "{y}"))
    ):
        print(
            f"camfleet map: --tiles '{args.tiles}': cần địa chỉ http(s) có {{z}}, {{x}}, {{y}} / needs an http(s) "
            "URL template with {z}, {x} and {y}, e.g. https://tile.example/{z}/{x}/{y}.png",
            file=sys.stderr,
        )
        return 2
    try:
        fleet = load(args.folder).fleet
    except InventoryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(
            f"{args.folder}: sửa các lỗi kho dữ liệu ở trên trước khi vẽ bản đồ / fix the inventory errors above",
            file=sys.stderr,
        )
        return 1
    drawn = [c for c in fleet.cameras.values() if c.status is not CameraStatus.retired]
    cones = dict(zip((c.id for c in drawn), cone_lonlat(fleet, drawn), strict=True))
    views = {c.id: camera_view(fleet, c) for c in fleet.cameras.values()}
    geojson: dict[str, Any] = town_geojson(fleet, cones, views, site_areas(fleet))
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "town.geojson": json.dumps(geojson, ensure_ascii=False, separators=(",", ":")) + "\n",
        "map.html": map_page(geojson, tiles=args.tiles),
        "map.svg": map_svg(geojson, args.paper),
    }
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"đã ghi / wrote {out / name}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("map", help="bản đồ địa bàn / the town map: GeoJSON, an offline map page and a printable SVG")
    p.add_argument("folder", help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="thư mục ghi bản đồ / folder to write town.geojson, map.html and map.svg into",
    )
    p.add_argument(
        "--paper", choices=tuple(PAPER_MM), default="a3", help="khổ giấy / paper of map.svg, landscape (default a3)"
    )
    p.add_argument(
        "--tiles",
        help="nền bản đồ trực tuyến / background tile URL template for when the page is opened online, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: none, the page loads nothing)",
    )
    p.set_defaults(func=cmd_map)
