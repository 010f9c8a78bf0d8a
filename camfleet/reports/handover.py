"""The handover record of an evidence package (Biên bản bàn giao dữ liệu hình ảnh), bilingual, ready to print.

Rendered from the package's manifest (so the record says exactly what the signed manifest says),
with the signature lines of the officer who hands over and of the one who receives. People are
ids in the repository; their names are written on the printed page by hand (the vault keeps them).
Every value is HTML-escaped: a street or a purpose typed as ``<script>`` is printed as text.

    .venv/bin/python -c "import json; from camfleet.inventory import load; from camfleet.reports.handover import *; \\
        print(handover_html(load('inventory/ngoc-lac').fleet, json.load(open('out/VV-1/manifest.json'))))"
"""

from __future__ import annotations

from typing import Any

import jinja2

from camfleet.inventory.fleet import Fleet
from camfleet.paths import TEMPLATES

HANDOVER_FILE = "bien-ban-ban-giao.html"

#: The authority kinds in the record's words.
AUTHORITY_KIND_VI = {
    "police": "Cơ quan Công an / Police",
    "procuracy": "Viện kiểm sát / Procuracy",
    "court": "Tòa án / Court",
}
#: A camera's search status in the record's words.
STATUS_VI = {
    "covered": "có đủ / covered",
    "partial": "có một phần / partly covered",
    "none": "không có dữ liệu / nothing recorded",
    "household": "hộ dân tự trích xuất / the household exports it",
    "no_commitment": "hộ chưa ký cam kết / no signed commitment",
    "not_recorded": "không ghi ở trạm / not recorded at the station",
    "unreachable": "không truy cập được đầu ghi / recorder unreachable",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES / "reports")),
        autoescape=True,  # the output is HTML whatever the template's file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def handover_html(fleet: Fleet, manifest: dict[str, Any]) -> str:
    """The printable record of ``manifest``'s package."""
    return (
        _environment()
        .get_template("handover.html.j2")
        .render(
            m=manifest,
            kind=AUTHORITY_KIND_VI.get(manifest["authority"]["kind"], manifest["authority"]["kind"]),
            status=STATUS_VI,
            town=fleet.town,
        )
    )
