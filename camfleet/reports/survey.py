"""The loại hình 1 campaign sheet: per khu phố, every community camera, how far the campaign is with it.

    .venv/bin/camfleet report survey inventory/ngoc-lac --format md
    .venv/bin/camfleet report survey inventory/ngoc-lac --with-contacts --format html -o kp-heads.html

Ids only: owners' names and phones stay in the vault. ``--with-contacts`` (the khu phố heads' printed
copies) decrypts ``vault/contacts.yml`` and says so in a banner on the page.
"""

from __future__ import annotations

from typing import Any

from camfleet.inventory import glossary
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.progress import SurveyRow
from camfleet.reports.document import Column, Document, Table

CONTACTS_BANNER = "BẢN CÓ THÔNG TIN LIÊN HỆ — MẬT / contains contact details — confidential"

#: A household's contact as the vault keeps it (``vault_contacts[household]``).
Contacts = dict[str, dict[str, Any]]


def _step(row: SurveyRow) -> str:
    return str(glossary.CAMPAIGN[row.step]) if row.step else str(glossary.NO)


def as_json(fleet: Fleet, rows: list[SurveyRow], contacts: Contacts | None = None) -> dict[str, Any]:
    out = []
    for r in rows:
        item: dict[str, Any] = {
            "camera": r.camera,
            "site": r.site,
            "household": r.household,
            "owner_kind": r.owner_kind,
            "status": r.status,
            "campaign": r.step,
            "commitment_signed_on": r.commitment_signed.isoformat() if r.commitment_signed else None,
            "commitment_ref": r.commitment_ref,
            "todo": list(r.todo),
        }
        if contacts is not None:
            contact = contacts.get(r.household or "", {})
            item["contact"] = {k: contact.get(k) for k in ("name", "contact_person", "phone")}
        out.append(item)
    return {"town": fleet.town.id, "with_contacts": contacts is not None, "cameras": out}


def as_document(fleet: Fleet, rows: list[SurveyRow], contacts: Contacts | None = None) -> Document:
    columns = [
        Column("camera", "Camera", "Camera"),
        Column("household", "Chủ camera (mã)", "Owner (id)"),
        Column("owner_kind", "Loại chủ", "Owner kind"),
        Column("status", "Tình trạng", "Status"),
        Column("campaign", "Vận động", "Campaign"),
        Column("commitment", "Cam kết", "Commitment"),
        Column("todo", "Việc còn lại", "Still to do"),
    ]
    if contacts is not None:
        columns[2:2] = [Column("contact", "Liên hệ", "Contact")]
    tables = []
    for site in fleet.sites.values():
        mine = [r for r in rows if r.site == site.id]
        if not mine:
            continue
        table_rows = []
        for r in mine:
            row: dict[str, Any] = {
                "camera": r.camera,
                "household": r.household or "",
                "owner_kind": str(glossary.OWNER[r.owner_kind]) if r.owner_kind else "",
                "status": str(glossary.STATUS[r.status]),
                "campaign": _step(r),
                "commitment": f"{r.commitment_ref or ''} ({r.commitment_signed.isoformat()})"
                if r.commitment_signed
                else str(glossary.NO),
                "todo": "; ".join(glossary.TODO[t].vi for t in r.todo) or str(glossary.DONE),
            }
            if contacts is not None:
                c = contacts.get(r.household or "", {})
                row["contact"] = ", ".join(str(c[k]) for k in ("name", "contact_person", "phone") if c.get(k))
            table_rows.append(row)
        done = sum(1 for r in mine if not r.todo)
        tables.append(
            Table(
                f"{site.name} ({site.id})",
                f"{done}/{len(mine)} xong / done",
                columns,
                table_rows,
            )
        )
    steps = " → ".join(str(t) for t in glossary.CAMPAIGN.values())
    return Document(
        f"DANH SÁCH CAMERA LOẠI HÌNH 1 — {fleet.town.name.upper()}",
        f"The loại hình 1 campaign: community cameras per khu phố — {fleet.town.name}",
        f"Các bước / Steps: {steps}",
        tables,
        [
            "Chỉ ghi mã hộ; họ tên, số điện thoại lưu trong vault. / Ids only; names and phones stay in the vault."
            if contacts is None
            else "Bản in cho trưởng khu phố; không chia sẻ. / The khu phố head's printed copy; do not share."
        ],
        banner=CONTACTS_BANNER if contacts is not None else None,
    )
