"""Hostile names through every HTML page camfleet writes: shown as typed, never run (issue 15, item 5).

A khu phố name, a street, a landmark, the town's or the station's name, an authority, and what a
device answers (its model, an error) are typed by people or sent by devices; each page that prints
them must escape them. The pages: ``camfleet report budget|retention --format html`` (and ``md``),
the commissioning record, the aim-check index of ``playbooks/snapshots.yml``, the footage handover
record.

    .venv/bin/pytest tests/unit/test_html_escaping.py -q
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from markupsafe import escape

from camfleet.cli import main
from camfleet.inventory import load
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.hostvars import hosts_of
from camfleet.jobs import footage
from camfleet.jobs.custody import CustodyLog
from camfleet.jobs.evidence import SigningKey
from camfleet.jobs.footage import Coverage, Selection
from camfleet.jobs.media import MediaFacts
from camfleet.reports import document, handover
from camfleet.reports.commissioning import Checks, record_text
from camfleet.reports.handover import handover_html
from tests.conftest import ROOT, TOWN

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, ATTRIBUTE)


def yaml_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file.name}"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference town with both payloads in every free-text field the pages print."""
    town = tmp_path_factory.mktemp("hostile") / "ngoc-lac"
    shutil.copytree(TOWN, town)
    edit(town / "town.yml", "  name: Thị trấn Ngọc Lặc\n", f"  name: {yaml_quoted('Thị trấn ' + SCRIPT)}\n")
    edit(town / "town.yml", "    name: Công an thị trấn Ngọc Lặc\n", f"    name: {yaml_quoted(ATTRIBUTE)}\n")
    edit(town / "town.yml", "  plan_ref: Kế hoạch", f"  plan_ref: {yaml_quoted(ATTRIBUTE)} # Kế hoạch")
    edit(town / "sites" / "kp-01.yml", "  name: Khu phố Lê Lai\n", f"  name: {yaml_quoted(SCRIPT)}\n")
    edit(town / "sites" / "kp-02.yml", "  name: Khu phố Lê Lợi\n", f"  name: {yaml_quoted(ATTRIBUTE)}\n")
    edit(
        town / "sites" / "kp-01.yml",
        "    street: Đường Lê Lai\n    landmark: Trước cửa hàng Lê Lai\n",
        f"    street: {yaml_quoted(SCRIPT)}\n    landmark: {yaml_quoted(ATTRIBUTE)}\n",
    )
    edit(town / "authorities.yml", "    name: Công an huyện Ngọc Lặc\n", f"    name: {yaml_quoted(SCRIPT)}\n")
    return town


@pytest.fixture(scope="module")
def fleet(hostile_town: Path) -> Fleet:
    fleet = load(hostile_town).fleet
    assert fleet.sites["kp-01"].name == SCRIPT and fleet.cameras["cam-01-t01"].location.landmark == ATTRIBUTE
    assert fleet.town.name.endswith(SCRIPT) and fleet.town.station.name == ATTRIBUTE
    return fleet


def assert_html_escaped(page: str, *, upper: bool = False) -> None:
    """No payload as markup, in any case (titles are upper-cased); each one there, escaped as HTML."""
    lowered = page.lower()
    for payload in PAYLOADS:
        assert payload.lower() not in lowered, f"raw {payload!r} in the page"
        assert str(escape(payload)) in page, f"{escape(payload)!r} not in the page"
    assert "<script" not in lowered and "onerror=alert(1)>" not in lowered
    if upper:
        assert str(escape(SCRIPT.upper())) in page


def markdown_escaped(payload: str) -> str:
    return payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def assert_markdown_escaped(text: str) -> None:
    """Markdown passes HTML through to the page it becomes: < > & are entities, quotes stay readable."""
    lowered = text.lower()
    for payload in PAYLOADS:
        assert payload.lower() not in lowered, f"raw {payload!r} in the text"
        assert markdown_escaped(payload) in text
    assert "<script" not in lowered and "<img" not in lowered


@pytest.mark.parametrize("report", ["budget", "retention"])
def test_report_html_escapes_every_name(
    report: str, hostile_town: Path, fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"{report}.html"
    assert main(["report", report, str(hostile_town), "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert '<html lang="vi">' in page and "<table>" in page  # the page's own markup is kept
    lowered = page.lower()
    assert "<script" not in lowered and "onerror=alert(1)>" not in lowered
    # The town's name is in both titles (once upper-cased); the budget lists khu phố names and the plan.
    assert str(escape(SCRIPT)) in page and str(escape(SCRIPT.upper())) in page
    if report == "budget":
        assert_html_escaped(page, upper=True)
        assert f"<td>{escape(SCRIPT)} (kp-01)</td>" in page


@pytest.mark.parametrize("report", ["budget", "retention"])
def test_report_markdown_escapes_every_name(
    report: str, hostile_town: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", report, str(hostile_town), "--format", "md"]) == 0
    text = capsys.readouterr().out
    assert "<script" not in text.lower() and "onerror=alert(1)>" not in text
    assert markdown_escaped(SCRIPT.upper()) in text
    if report == "budget":
        assert_markdown_escaped(text)
        assert "<br>*" in text  # the template's own markup is kept


def test_every_report_template_that_writes_html_is_escaped_by_its_environment() -> None:
    """By the output a template writes (name.html.j2), not the last suffix of its file name."""
    templates = sorted(p.name for p in (ROOT / "templates" / "reports").iterdir() if ".htm" in p.name)
    assert "document.html.j2" in templates and "handover.html.j2" in templates
    for make in (document._environment, handover._environment):
        env = make()
        for name in templates:
            escapes = env.autoescape(name) if callable(env.autoescape) else env.autoescape
            assert escapes, f"{make.__module__}: {name} is not autoescaped"
    assert document._environment().autoescape("document.md.j2") is False  # Markdown: escaped by finalize


def test_commissioning_record_escapes_names_and_what_the_device_said(fleet: Fleet) -> None:
    camera = fleet.cameras["cam-01-t01"]
    checks = Checks(
        model=SCRIPT,  # a lying device: what it answers is printed too
        serial=ATTRIBUTE,
        firmware="V5.7.15 build 230519",
        stream="h264 640x360 12.0 fps",
        recorder="nvr-01 kênh/channel 1: online, recording",
        snapshot=Path("/tmp/cam-01-t01.jpg"),
    )
    text = record_text(fleet, camera, checks, dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC))
    assert_markdown_escaped(text)
    assert f"Khu phố / Neighbourhood: {markdown_escaped(SCRIPT)} (kp-01)" in text
    assert f"Vị trí / Location: {markdown_escaped(ATTRIBUTE)} — {markdown_escaped(SCRIPT)} (" in text
    assert f"Thiết bị / Device: {markdown_escaped(SCRIPT)}, số sê-ri / serial {markdown_escaped(ATTRIBUTE)}," in text


def render_like_ansible_template(source: Path, variables: dict[str, Any]) -> str:
    """What the ``ansible.builtin.template`` action writes: Ansible's own templar, its default options."""
    templar = Templar(loader=DataLoader(), variables=variables)
    text = trust_as_template(source.read_text(encoding="utf-8"))
    rendered = templar.template(text, escape_backslashes=False, overrides={"trim_blocks": True, "lstrip_blocks": False})
    assert isinstance(rendered, str)
    return rendered


def test_snapshot_index_escapes_streets_and_what_the_camera_said(fleet: Fleet) -> None:
    hostvars = {h["name"]: dict(h["vars"]) for h in hosts_of(fleet) if h["vars"].get("camfleet_role") == "camera"}
    shown = ["cam-01-t01", *sorted(h for h in hostvars if h != "cam-01-t01")[:3]]
    assert hostvars["cam-01-t01"]["camfleet_street"] == SCRIPT
    hostvars["cam-01-t01"]["snapshots_result"] = {"path": "/r/cam-01-t01.jpg", "changed": True}
    hostvars[shown[1]]["snapshots_result"] = {"msg": f"{shown[1]}: camera answered {ATTRIBUTE}"}
    page = render_like_ansible_template(
        ROOT / "roles" / "snapshots" / "templates" / "index.html.j2",
        {"hostvars": hostvars, "ansible_play_hosts_all": shown, "snapshots_dir": f"/srv/reports/{SCRIPT}x"},
    )
    lowered = page.lower()
    assert "<script" not in lowered and "onerror=alert(1)>" not in lowered
    assert f"— {escape(SCRIPT)} (kp-01)</figcaption>" in page
    assert f"No picture: {shown[1]}: camera answered {escape(ATTRIBUTE)}</p>" in page
    assert "— script&gt;x</title>" in page  # the folder's name, escaped too
    assert '<img src="cam-01-t01.jpg" alt="cam-01-t01">' in page


def test_html_templates_of_the_roles_escape_every_value() -> None:
    """Ansible's template module has no autoescape (and ignores {% autoescape %}): each value ends in ``| e``."""
    pages = sorted((ROOT / "roles").glob("*/templates/*.htm*"))
    assert pages, "no HTML template under roles/"
    unescaped = [
        f"{page.relative_to(ROOT)}: {expr}"
        for page in pages
        for expr in re.findall(r"\{\{(.*?)\}\}", page.read_text(encoding="utf-8"), re.S)
        if not re.search(r"\|\s*(e|escape)\s*$", expr.strip())
    ]
    assert unescaped == []


def test_handover_record_escapes_names_places_and_what_the_recorder_said(fleet: Fleet, tmp_path: Path) -> None:
    ask: dict[str, Any] = {
        "case": "VV-2026-0015",
        "authority": "ca-huyen-ngoc-lac",
        "document": f"CV 12/CAH {ATTRIBUTE}",
        "requested_by": "dtv-01",
        "approved_by": "cb-truong",
        "purpose": f"Điều tra {SCRIPT}",
        "window_from": "2026-12-01 19:40",
        "window_to": "2026-12-01 20:10",
        "selection": Selection(cameras=("cam-01-t01",)),
    }
    req = footage.request(fleet, CustodyLog(tmp_path / "custody.jsonl"), **ask)
    w = req.window
    cov = [Coverage("cam-01-t01", "covered", "nvr-01", 1, [(w.start, w.end)], [], detail=f"recorder said {SCRIPT}")]
    clip = footage.Clip(
        "clips/cam-01-t01.mp4", "cam-01-t01", w.start, w.end, 1_000_000, "ab" * 32,
        MediaFacts("h264", 1920, 1080, 1800.0, 7500, 0.0, "mov,mp4"), "nvr-01", 1, {},
    )  # fmt: skip
    key, _ = SigningKey.generate()
    manifest = footage._manifest(fleet, req, cov, [clip], key)
    assert manifest["clips"][0]["street"] == SCRIPT and manifest["clips"][0]["landmark"] == ATTRIBUTE
    page = handover_html(fleet, manifest)
    assert_html_escaped(page)
    assert f"cam-01-t01, {escape(SCRIPT)} — {escape(ATTRIBUTE)}" in page  # the clip's street and landmark
    assert f"<td>{escape(ATTRIBUTE)}; người phê duyệt" in page  # the station
