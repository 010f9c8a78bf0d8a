"""The 'CAMERA AN NINH' signs, ready to print: A4 pages, as many signs a page as the plan's size allows.

    .venv/bin/camfleet report signs inventory/ngoc-lac -o signs.html
    .venv/bin/camfleet report signs inventory/ngoc-lac --format pdf -o signs.pdf
    .venv/bin/camfleet report signs inventory/ngoc-lac --site kp-02 --format pdf -o kp-02-signs.pdf

Each sign reads "CAMERA AN NINH", the station's name and its duty phone, and the camera's id in small
print with a QR code of the id (the installer scans it when recording the sign with ``camfleet sign``).
The size is ``town.sign`` (``width_mm``, ``height_mm``); the PDF is the same HTML printed by Chromium
(:mod:`camfleet.reports.pdf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import markupsafe
import segno

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.progress import SignRow
from camfleet.reports.document import Column, Document, Table, render_template

#: The printable area of an A4 page inside the 10 mm margins the sheet sets.
A4_USABLE_MM = (190, 277)


@dataclass(frozen=True)
class Layout:
    width_mm: int
    height_mm: int
    columns: int
    rows: int

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


def layout(fleet: Fleet) -> Layout:
    w, h = fleet.town.sign.width_mm, fleet.town.sign.height_mm
    return Layout(w, h, max(1, A4_USABLE_MM[0] // w), max(1, A4_USABLE_MM[1] // h))


def pages(count: int, per_page: int) -> int:
    return -(-count // per_page)


def as_json(fleet: Fleet, rows: list[SignRow]) -> dict[str, Any]:
    lay = layout(fleet)
    return {
        "town": fleet.town.id,
        "station": fleet.town.station.name,
        "duty_phone": fleet.town.station.duty_phone,
        "size_mm": [lay.width_mm, lay.height_mm],
        "per_page": lay.per_page,
        "pages": pages(len(rows), lay.per_page),
        "signs": [
            {
                "camera": r.camera,
                "site": r.site,
                "street": r.street,
                "landmark": r.landmark,
                "installed_on": r.installed_on.isoformat() if r.installed_on else None,
            }
            for r in rows
        ],
    }


def as_document(fleet: Fleet, rows: list[SignRow]) -> Document:
    """The list of signs (for md/csv/table): which camera gets which sign, and which are up."""
    return Document(
        f"DANH SÁCH BIỂN CAMERA AN NINH — {fleet.town.name.upper()}",
        f"'CAMERA AN NINH' signs — {fleet.town.name}",
        f"{fleet.town.station.name} — {fleet.town.station.duty_phone}",
        [
            Table(
                "Biển theo camera",
                "Signs per camera",
                [
                    Column("camera", "Camera", "Camera"),
                    Column("site", "Khu phố", "Neighbourhood"),
                    Column("location", "Vị trí", "Location"),
                    Column("installed_on", "Đã lắp biển", "Sign up on"),
                ],
                [
                    {
                        "camera": r.camera,
                        "site": r.site,
                        "location": f"{r.landmark} — {r.street}" if r.landmark else r.street,
                        "installed_on": r.installed_on.isoformat() if r.installed_on else "chưa / not yet",
                    }
                    for r in rows
                ],
            )
        ],
    )


def qr_svg(text: str) -> markupsafe.Markup:
    """The QR code of ``text`` as inline SVG (scaled by the page's CSS). segno writes only a path of
    the code's modules, never the text itself, so the markup is safe to insert."""
    svg = segno.make(text, error="m").svg_inline(omitsize=True, border=1)
    if "<script" in svg.lower() or text in svg:  # the promise above, checked
        raise ValueError(f"{text}: unexpected QR code SVG")
    return markupsafe.Markup(svg)  # noqa: S704 - segno's own path markup, checked above


def render_html(data: dict[str, Any]) -> str:
    """The printable sheet from :func:`as_json`'s data; every value escaped (the template autoescapes)."""
    per_page = data["per_page"]
    signs = [{**s, "qr": qr_svg(s["camera"])} for s in data["signs"]]
    sheets = [signs[i : i + per_page] for i in range(0, len(signs), per_page)]
    return render_template("signs.html.j2", data=data, sheets=sheets)
