"""The town map as an offline page and a printable SVG, drawn from the town's GeoJSON.

The station has no internet: the page carries its data and its renderer (a small canvas drawer,
no library, no font, no tile server) and loads nothing unless a tile URL is given. Names typed in
the inventory reach the page only as text: the JSON sits in a ``<script type="application/json">``
with ``<``, ``>`` and ``&`` escaped, the renderer sets ``textContent``; the SVG escapes every text.

    .venv/bin/camfleet map inventory/ngoc-lac -o /tmp/map --paper a3 && chromium /tmp/map/map.html
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from camfleet.inventory import glossary
from camfleet.reports.document import _environment

#: Paper sizes in millimetres, landscape.
PAPER_MM = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}
#: Each camera status's colour; its words are the glossary's (one word per thing in every output).
_COLOURS = {
    "commissioned": "#1a9850",
    "installed": "#66bd63",
    "faulty": "#d73027",
    "surveyed": "#fdae61",
    "planned": "#9e9e9e",
    "retired": "#555555",
}
STATUS_COLOURS = {status: (colour, str(glossary.STATUS[status])) for status, colour in _COLOURS.items()}
#: The ring around an owner's camera the station watches over ONVIF ("shared").
SHARED_COLOUR = "#2166ac"
PRIORITY_COLOURS = ("#08306b", "#2171b5", "#6baed6", "#9ecae1", "#c6dbef")


def script_json(data: Any) -> Markup:
    """JSON safe inside a ``<script>`` element: no ``</script>``, no ``<!--``, no entity can end it early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 - escaped above for a script element, which HTML escaping would break


def map_page(geojson: dict[str, Any], *, tiles: str | None = None) -> str:
    """The self-contained page: data inlined, drawn by an inline canvas renderer."""
    props = geojson.get("properties", {})
    # the page draws each cone from its camera's bearing, angle and range: the polygons stay in town.geojson
    drawn = {**geojson, "features": [f for f in geojson["features"] if f["properties"]["layer"] != "view"]}
    return (
        _environment()
        .get_template("map.html.j2")
        .render(
            town_name=props.get("name", ""),
            generated=dt.date.today().isoformat(),
            data_json=script_json(drawn),
            config_json=script_json({"tiles": tiles, "status": STATUS_COLOURS, "shared": SHARED_COLOUR}),
        )
    )


def _merc(lon: float, lat: float) -> tuple[float, float]:
    s = max(-0.9999, min(0.9999, math.sin(math.radians(lat))))
    return (lon + 180) / 360, 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def map_svg(geojson: dict[str, Any], paper: str = "a3") -> str:
    """A printable map on A3 or A4 landscape: khu phố, routes, view cones, cameras, legend, scale bar."""
    width, height = PAPER_MM[paper]
    margin, legend_w, title_h = 10.0, 70.0, 14.0
    features = geojson["features"]
    points = [
        _merc(*xy)
        for f in features
        if f["properties"]["layer"] in ("camera", "route")
        for xy in ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Point" else f["geometry"]["coordinates"])
    ]
    if not points:
        w, s, e, n = geojson["bbox"]
        points = [_merc(w, n), _merc(e, s)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    area_w, area_h = width - 2 * margin - legend_w - 5, height - 2 * margin - title_h
    span_x, span_y = max(max(xs) - min(xs), 1e-9), max(max(ys) - min(ys), 1e-9)
    scale = min(area_w / span_x, area_h / span_y)  # mm per world unit
    ox = margin + (area_w - span_x * scale) / 2 - min(xs) * scale
    oy = margin + title_h + (area_h - span_y * scale) / 2 - min(ys) * scale

    def pt(coord: list[float]) -> str:
        x, y = _merc(coord[0], coord[1])
        return f"{ox + x * scale:.2f},{oy + y * scale:.2f}"

    def poly(coords: list[list[float]]) -> str:
        return " ".join(pt(c) for c in coords)

    props = geojson.get("properties", {})
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif">',
        f'<rect width="{width:g}" height="{height:g}" fill="#ffffff"/>',
        f'<text x="{margin}" y="{margin + 6}" font-size="6" font-weight="bold">'
        f"{escape('Bản đồ camera an ninh — ' + str(props.get('name', '')))}</text>",
        f'<text x="{margin}" y="{margin + 11}" font-size="3.5">Security camera map · '
        f"{dt.date.today().isoformat()} · {escape(str(props.get('town', '')))}</text>",
    ]
    cameras = [f for f in features if f["properties"]["layer"] == "camera"]
    for f in features:
        p, geom = f["properties"], f["geometry"]
        if p["layer"] == "site":
            out.append(
                f'<polygon points="{poly(geom["coordinates"][0])}" fill="#7878c8" fill-opacity="0.07" '
                'stroke="#5a5aa0" stroke-opacity="0.6" stroke-width="0.3" stroke-dasharray="1.5,1"/>'
            )
            x, y = pt(geom["coordinates"][0][0]).split(",")
            out.append(f'<text x="{x}" y="{y}" font-size="3" fill="#3c3c78">{escape(str(p["name"]))}</text>')
    for f in features:
        p, geom = f["properties"], f["geometry"]
        if p["layer"] == "route":
            colour = PRIORITY_COLOURS[min(4, max(0, int(p["priority"]) - 1))]
            dash = ' stroke-dasharray="2,1.2"' if p["kind"] == "alley" else ""
            out.append(
                f'<polyline points="{poly(geom["coordinates"])}" fill="none" stroke="{colour}" '
                f'stroke-width="{0.6 if p["kind"] == "alley" else 1.0}"{dash}><title>{escape(str(p["name"]))}</title>'
                "</polyline>"
            )
        elif p["layer"] == "view":
            colour = STATUS_COLOURS.get(p["status"], STATUS_COLOURS["planned"])[0]
            out.append(
                f'<polygon points="{poly(geom["coordinates"][0])}" fill="{colour}" fill-opacity="0.25" '
                f'stroke="{colour}" stroke-width="0.15"/>'
            )
    for f in cameras:
        p = f["properties"]
        colour = STATUS_COLOURS.get(p["status"], STATUS_COLOURS["planned"])[0]
        cx, cy = (float(v) for v in pt(f["geometry"]["coordinates"]).split(","))
        title = f"<title>{escape(str(p['id']))} {escape(str(p['street']))}</title>"
        if p["kind"] == "town":
            out.append(
                f'<rect x="{cx - 0.9:.2f}" y="{cy - 0.9:.2f}" width="1.8" height="1.8" fill="{colour}" '
                f'stroke="#111" stroke-width="0.15">{title}</rect>'
            )
        else:
            out.append(
                f'<circle cx="{cx:.2f}" cy="{cy:.2f}" r="0.9" fill="{colour}" stroke="#111" stroke-width="0.15">'
            )
            out.append(f"{title}</circle>")
    out += _legend(width - margin - legend_w, margin + title_h, legend_w, cameras)
    out += _scale_bar(margin, height - margin, scale, (min(ys) + max(ys)) / 2)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(x: float, y: float, w: float, cameras: list[dict[str, Any]]) -> list[str]:
    counts: dict[str, int] = {}
    for f in cameras:
        counts[f["properties"]["status"]] = counts.get(f["properties"]["status"], 0) + 1
    rows: list[tuple[str, str]] = [("head", "Trạng thái / Status")]
    rows += [(colour, f"{label} ({counts[s]})") for s, (colour, label) in STATUS_COLOURS.items() if counts.get(s)]
    rows += [
        ("head", "Loại / Kind"),
        ("town", f"camera {glossary.KIND['town'].vi} / town"),
        ("community", "camera cộng đồng / community"),
    ]
    rows += [("head", "Tuyến, ưu tiên / Routes, priority")]
    rows += [(f"line{c}", f"{i + 1}") for i, c in enumerate(PRIORITY_COLOURS)]
    out = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{6 + 5 * len(rows):.1f}" fill="#fff" '
        'stroke="#999" stroke-width="0.3"/>'
    ]
    cy = y + 6
    for key, text in rows:
        if key == "head":
            out.append(f'<text x="{x + 2:.1f}" y="{cy:.1f}" font-size="3.2" font-weight="bold">{escape(text)}</text>')
        elif key.startswith("line"):
            out.append(
                f'<line x1="{x + 2:.1f}" y1="{cy - 1:.1f}" x2="{x + 8:.1f}" y2="{cy - 1:.1f}" stroke={quoteattr(key[4:])} '
                'stroke-width="1"/>'
            )
            out.append(f'<text x="{x + 10:.1f}" y="{cy:.1f}" font-size="3">{escape(text)}</text>')
        else:
            fill = "#444" if key in ("town", "community") else key
            shape = (
                f'<circle cx="{x + 4:.1f}" cy="{cy - 1:.1f}" r="1.2" fill={quoteattr(fill)}/>'
                if key != "town"
                else f'<rect x="{x + 2.8:.1f}" y="{cy - 2.2:.1f}" width="2.4" height="2.4" fill="{fill}"/>'
            )
            out.append(shape)
            out.append(f'<text x="{x + 10:.1f}" y="{cy:.1f}" font-size="3">{escape(text)}</text>')
        cy += 5
    return out


def _scale_bar(x: float, y: float, scale: float, world_y: float) -> list[str]:
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * world_y))))
    metres_per_mm = 40075016.686 * math.cos(math.radians(lat)) / scale
    target = 50 * metres_per_mm
    unit = 10 ** math.floor(math.log10(target))
    nice = next((k * unit for k in (5, 2, 1) if k * unit <= target), unit)
    length = nice / metres_per_mm
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    return [
        f'<path d="M{x:.1f},{y - 2:.1f} V{y:.1f} H{x + length:.1f} V{y - 2:.1f}" fill="none" stroke="#222" '
        'stroke-width="0.5"/>',
        f'<text x="{x + length + 2:.1f}" y="{y:.1f}" font-size="3.2">{label}</text>',
        f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="2.5" fill="#555">'
        "Khu phố: vùng gần đúng / khu phố areas are approximate</text>",
    ]
