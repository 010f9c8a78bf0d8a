"""The plan's documents (issue 12): signs, the loại hình 1 survey, the camera list, progress, and the
budget's Markdown and words.

Each report is run through ``camfleet report`` (the real command, in process) on the reference town
and on a small town whose counts are worked out by hand below; ``--today`` fixes what is late.

    .venv/bin/pytest -q -p no:cacheprovider tests/unit/test_documents.py
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from camfleet.cli import main
from camfleet.inventory import load
from camfleet.inventory.vault import read_vault
from camfleet.reports.commissioning import Checks, record_text
from tests.conftest import ROOT, TOWN, require_program

MINI = ROOT / "tests" / "fixtures" / "mini-town"
SCRIPT = "<script>alert(1)</script>"

#: Added to the mini town: a planned town camera, an installed one without its sign, and a community
#: camera whose owner was asked but has not signed. Costs 0 so the plan's total still holds.
MINI_EXTRA = """\
households:
  - id: hh-03
    site: kp-01
    owner_kind: school
    consent: {footage_handover: false}
cameras:
  - id: cam-t02
    kind: town
    status: planned
    site: kp-01
    household: hh-01
    location: {street: Đường Trần Phú, landmark: Ngã ba chợ, lat: 20.095, lon: 105.378, bearing_deg: 0}
    stream: {main: main-1080p, sub: sub-360p}
    cost: {amount_vnd: 0, funding: donation}
  - id: cam-t03
    kind: town
    status: installed
    site: kp-01
    household: hh-01
    location: {street: Đường Lê Lợi, lat: 20.0936, lon: 105.3761, bearing_deg: 180}
    device: {vendor: hikvision, model: DS-2CD1023G2-LIU, mac: 44:19:b6:00:01:03, serial: S3}
    network: {link: link-01, address: 10.78.1.3}
    stream: {main: main-1080p, sub: sub-360p}
    recorder: {id: nvr-01, channel: 2}
    cost: {amount_vnd: 0, funding: donation}
  - id: cam-c02
    kind: community
    status: surveyed
    campaign: asked
    site: kp-01
    household: hh-03
    location: {street: Đường Lê Lợi, lat: 20.0937, lon: 105.3762, bearing_deg: 90}
    cost: {amount_vnd: 0, funding: owner}
"""
PLAN_DATES = "    mobilisation_by: 2023-09-30\n    install_from: 2023-08-01\n    install_to: 2023-12-31\n"


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    town = tmp_path_factory.mktemp("mini") / "mini"
    shutil.copytree(MINI, town)
    (town / "progress.yml").write_text(MINI_EXTRA, encoding="utf-8")
    text = (town / "town.yml").read_text(encoding="utf-8")
    (town / "town.yml").write_text(
        text.replace("    plan_total_vnd: 19000000\n", "    plan_total_vnd: 19000000\n" + PLAN_DATES)
    )
    load(town)  # valid
    return town


def report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["report", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def report_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    return json.loads(report(capsys, *args, "--format", "json"))


# --------------------------------------------------------------------------- Markdown and words


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of ``text`` as rows of cells; a table is consecutive lines starting with '|'."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            assert line.endswith("|"), f"a row that does not end its line: {line!r}"
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            current.append(cells)
        elif current:
            tables.append(current)
            current = []
    return tables


def assert_well_formed(text: str, tables: int) -> list[list[list[str]]]:
    parsed = markdown_tables(text)
    assert len(parsed) == tables
    for table in parsed:
        header, rule, *rows = table
        assert all(re.fullmatch(r"-{3}:?", c) for c in rule), rule
        assert rows, "a table without rows"
        for row in rows:
            assert len(row) == len(header), row
    assert "****" not in text
    return parsed


def test_budget_markdown_has_one_row_per_line_and_no_empty_bold(capsys: pytest.CaptureFixture[str]) -> None:
    text = report(capsys, "budget", str(TOWN), "--format", "md")
    sites, station, totals = assert_well_formed(text, 3)
    assert len(sites) == 2 + 10 + 1  # header, rule, 10 khu phố, total
    assert sites[-1][0] == "**Cộng / Total**" and sites[-1][3] == ""  # an empty footer cell stays empty
    assert len(station) == 2 + 10 + 1
    assert totals[-1] == ["**TỔNG CỘNG / GRAND TOTAL**", "**322.506.000**"]


def test_budget_funds_everything_by_xa_hoi_hoa_in_the_glossarys_words(capsys: pytest.CaptureFixture[str]) -> None:
    text = report(capsys, "budget", str(TOWN), "--format", "md")
    assert "Ngân sách thị trấn" not in text and "kế hoạch |" not in text and "1 kế hoạch" not in text
    station = markdown_tables(text)[1]
    assert {row[4] for row in station[2:-1]} == {"Ban vận động thị trấn (xã hội hóa)"}
    assert "| Quỹ khu phố (xã hội hóa) / khu phố fund (community-raised) | 169.800.000 |" in text
    assert "1 dự kiến" in text  # kp-02's planned camera


def test_no_recorder_is_called_dau_thu_in_any_document(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = [report(capsys, kind, str(TOWN), "--format", "md") for kind in ("budget", "retention", "cameras")]
    outputs.append((ROOT / "camfleet" / "model.py").read_text(encoding="utf-8"))
    assert not any("đầu thu" in out.lower() for out in outputs)
    assert all("đầu ghi" in out.lower() for out in outputs[:2])


def test_commissioning_record_uses_the_glossary_for_status_and_unread_values() -> None:
    fleet = load(TOWN).fleet
    checks = Checks(None, None, None, "h264 640x360 12 fps", "nvr-01 kênh/channel 1", Path("cam-01-t01.jpg"))
    text = record_text(fleet, fleet.cameras["cam-01-t01"], checks, dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.UTC))
    assert "- Trạng thái / Status: đã nghiệm thu / commissioned" in text
    assert "firmware chưa đọc được / not read" in text
    assert "None" not in text and "Status: commissioned" not in text


# --------------------------------------------------------------------------- progress


def test_progress_of_the_small_town_counted_by_hand(mini: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = report_json(capsys, "progress", str(mini), "--today", "2024-01-15")
    (site,) = data["sites"]
    counts = {k: site[k] for k in ("planned", "surveyed", "installed", "commissioned", "town_cameras", "signed")}
    assert counts == {
        "planned": 5,
        "surveyed": 4,
        "installed": 3,
        "commissioned": 2,
        "town_cameras": 3,
        "signed": 1,
    }
    assert (site["community"], site["campaign_confirmed"], site["commitments_signed"]) == (2, 1, 1)
    assert (site["needed_vnd"], site["raised_vnd"]) == (4_000_000, 5_000_000)
    late = {(x["item"], x["what"], x["due"]) for x in site["late"]}
    assert late == {
        ("cam-t02", "survey", "2023-08-01"),
        ("cam-t02", "install", "2023-12-31"),
        ("cam-t03", "commission", "2023-12-31"),
        ("cam-t03", "sign", "2023-12-31"),
        ("cam-c02", "campaign", "2023-09-30"),
        ("cam-c02", "commitment", "2023-09-30"),
    }


@pytest.mark.parametrize(
    ("today", "late"),
    [
        ("2023-07-31", set()),  # before every date
        ("2023-08-02", {("cam-t02", "survey")}),  # installation started, cam-t02 never surveyed
        ("2023-10-01", {("cam-t02", "survey"), ("cam-c02", "campaign"), ("cam-c02", "commitment")}),
    ],
)
def test_what_is_late_depends_on_today(
    mini: Path, today: str, late: set[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    data = report_json(capsys, "progress", str(mini), "--today", today)
    assert {(x["item"], x["what"]) for x in data["sites"][0]["late"]} == late
    assert data["late"] == len(late)


def test_progress_of_the_reference_town(capsys: pytest.CaptureFixture[str]) -> None:
    text = report(capsys, "progress", str(TOWN), "--today", "2024-01-15", "--format", "md")
    sites, late = assert_well_formed(text, 2)
    assert sites[-1] == [
        "**Cộng / Total**",
        "**70**",
        "**66**",
        "**64**",
        "**59**",
        "**34/42**",
        "**25/28**",
        "**25/28**",
        "**169.800.000**",
        "**200.000.000**",
        "**22**",
    ]
    assert len(late) == 2 + 22
    assert ["cam-02-c04", "kp-02", "chưa xong vận động loại hình 1 / campaign not done", "2023-09-30", "107"] in late


# --------------------------------------------------------------------------- survey and cameras


def personal_data() -> list[str]:
    contacts = read_vault(TOWN, "contacts")["vault_contacts"]
    return sorted({str(v) for c in contacts.values() for v in c.values() if v})


def test_survey_lists_ids_and_never_a_name_or_phone(capsys: pytest.CaptureFixture[str]) -> None:
    private = personal_data()
    assert len(private) > 100
    outputs = [report(capsys, "survey", str(TOWN), "--format", f) for f in ("md", "html", "csv", "json", "table")]
    for out in outputs:
        assert not [p for p in private if p in out]
    data = json.loads(outputs[3])
    assert len(data["cameras"]) == 28 and not data["with_contacts"]
    rows = {r["camera"]: r for r in data["cameras"]}
    assert rows["cam-02-c04"]["campaign"] == "asked"
    assert rows["cam-02-c04"]["todo"] == ["re_aimed", "confirmed", "commitment"]
    assert rows["cam-08-c03"]["todo"] == ["confirmed", "commitment"]
    assert rows["cam-05-c03"]["campaign"] is None and rows["cam-05-c03"]["todo"][0] == "surveyed"
    assert rows["cam-01-c01"]["todo"] == [] and rows["cam-01-c01"]["commitment_ref"] == "CK-KP-01-006"
    assert "BẢN CÓ THÔNG TIN LIÊN HỆ" not in outputs[0]


def test_survey_with_contacts_says_so_on_the_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "survey.html"
    assert main(["report", "survey", str(TOWN), "--with-contacts", "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "BẢN CÓ THÔNG TIN LIÊN HỆ — MẬT / contains contact details — confidential" in page
    contacts = read_vault(TOWN, "contacts")["vault_contacts"]
    assert str(escape(contacts["hh-02-09"]["phone"])) in page and str(escape(contacts["hh-01-06"]["name"])) in page
    assert contacts["hh-01-01"]["phone"] not in page  # a town camera's host is not in the campaign


def test_survey_with_a_wrong_vault_password_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wrong = tmp_path / "pw"
    wrong.write_text("not the password\n")
    assert main(["report", "survey", str(TOWN), "--with-contacts", "--vault-password-file", str(wrong)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1 and "contacts.yml" in captured.err


def test_camera_list_subtotals_are_the_budgets(capsys: pytest.CaptureFixture[str]) -> None:
    cameras = report_json(capsys, "cameras", str(TOWN))
    budget = report_json(capsys, "budget", str(TOWN))
    assert [s["subtotal_vnd"] for s in cameras["sites"]] == [s["cameras_vnd"] for s in budget["sites"]]
    assert [len(s["cameras"]) for s in cameras["sites"]] == [s["cameras"] for s in budget["sites"]]
    text = report(capsys, "cameras", str(TOWN), "--format", "md")
    tables = assert_well_formed(text, 10)
    kp02 = tables[1]
    assert len(kp02) == 2 + 10 + 1 and kp02[-1][1] == "**Cộng / Subtotal**" and kp02[-1][-1] == "**21.000.000**"
    assert any(row[1] == "cam-02-t06" and row[4] == "dự kiến" for row in kp02)
    rows = list(csv.DictReader(io.StringIO(report(capsys, "cameras", str(TOWN), "--format", "csv"))))
    assert len(rows) == 70 and sum(int(r["paid_vnd"]) for r in rows) == sum(s["subtotal_vnd"] for s in cameras["sites"])


# --------------------------------------------------------------------------- signs


def test_signs_sheet_fits_the_plans_size_on_a4(capsys: pytest.CaptureFixture[str]) -> None:
    data = report_json(capsys, "signs", str(TOWN))
    assert (data["size_mm"], data["per_page"], data["pages"], len(data["signs"])) == ([190, 130], 2, 21, 42)
    page = report(capsys, "signs", str(TOWN))
    assert page.count('<div class="page">') == 21 and page.count('<div class="sign"') == 42
    assert page.count("CAMERA AN NINH</div>") == 42 and page.count("0237 3871 113") == 42
    assert page.count("<svg") == 42 and 'data-camera="cam-02-t05"' in page
    kp02 = report_json(capsys, "signs", str(TOWN), "--site", "kp-02")
    assert [s["camera"] for s in kp02["signs"]] == [f"cam-02-t0{i}" for i in range(1, 7)]


def test_a_smaller_sign_fits_more_a_page(mini: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    town = tmp_path / "mini"
    shutil.copytree(mini, town)
    text = (town / "town.yml").read_text(encoding="utf-8")
    (town / "town.yml").write_text(text + "  sign: {width_mm: 90, height_mm: 60}\n", encoding="utf-8")
    data = report_json(capsys, "signs", str(town))
    assert (data["per_page"], data["pages"], len(data["signs"])) == (8, 1, 3)


def test_signs_escape_a_hostile_station_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    town = tmp_path / "mini"
    shutil.copytree(MINI, town)
    text = (town / "town.yml").read_text(encoding="utf-8")
    (town / "town.yml").write_text(text.replace("name: Công an thị trấn Mẫu", f"name: '{SCRIPT}'"))
    for fmt in ("html", "md"):
        out = report(capsys, "signs", str(town), "--format", fmt)
        assert "<script" not in out.lower()
    assert str(escape(SCRIPT)) in report(capsys, "signs", str(town))


def test_signs_refuse_an_unknown_site_and_a_pdf_to_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "signs", str(MINI), "--site", "kp-9"]) == 2
    assert "kp-9: không có khu phố này / no such khu phố (có / known: kp-01)" in capsys.readouterr().err
    assert main(["report", "signs", str(MINI), "--format", "pdf"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.slow
def test_signs_pdf_is_printed_by_chromium_one_page_per_sheet(tmp_path: Path) -> None:
    require_program("/usr/bin/chromium", "chromium")
    out = tmp_path / "signs.pdf"
    assert main(["report", "signs", str(TOWN), "--site", "kp-02", "--format", "pdf", "-o", str(out)]) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page(?!s)", pdf)
    assert len(pages) == 3  # 6 signs, 2 a page
    assert not list(tmp_path.glob("*.tmp"))
