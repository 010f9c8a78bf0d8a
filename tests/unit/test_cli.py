"""The camfleet command as a user meets it: summaries, reports, one-line errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from camfleet.cli import main
from tests.conftest import BIN, TOWN

PROBLEM_LINE = re.compile(r"^[^:]+(:\d+)?: [^:]+: .+$")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "camfleet"), *args], capture_output=True, text=True, timeout=60)


def test_validate_prints_a_summary() -> None:
    out = run("validate", str(TOWN))
    assert out.returncode == 0, out.stderr
    assert "valid — 70 cameras" in out.stdout
    assert "2 recorders with 8 disks" in out.stdout


def test_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(TOWN), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True and data["cameras"] == 70 and data["town"] == "ngoc-lac"


def test_broken_copy_exits_1_with_file_line_field_message(town_copy: Path) -> None:
    station = town_copy / "station.yml"
    station.write_text(station.read_text(encoding="utf-8").replace("channels: 32", "channels: 16", 1), encoding="utf-8")
    out = run("validate", str(town_copy))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[-1].endswith("error(s); nothing was changed")
    problems = lines[:-1]
    assert problems and all(PROBLEM_LINE.match(line) for line in problems), problems
    assert any(
        re.search(
            r"sites/kp-\d\d\.yml:\d+: cam-[\w-]+\.recorder\.channel: kênh [^/]+ / channel \d+ is beyond nvr-01's 16 channels",
            line,
        )
        for line in problems
    )


def test_yaml_syntax_error_is_one_line(town_copy: Path) -> None:
    (town_copy / "sites" / "kp-01.yml").write_text("cameras:\n  - id: x\n   kind: town\n", encoding="utf-8")
    out = run("validate", str(town_copy))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert re.search(r"kp-01\.yml:3: \(yaml\): lỗi cú pháp YAML / YAML syntax: ", out.stderr)


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["validate", "/nonexistent/town"], 1, "no such inventory folder"),
        (["report", "budget", "/nonexistent/town"], 1, "no such inventory folder"),
        (["report", "weather", str(TOWN)], 2, "invalid choice: 'weather'"),
        (["validate"], 2, "the following arguments are required: folder"),
        (["report", "budget", str(TOWN), "--format", "pdf"], 2, "invalid choice: 'pdf'"),
    ],
)
def test_mistakes_get_one_clear_line(args: list[str], code: int, needle: str) -> None:
    out = run(*args)
    assert out.returncode == code
    assert needle in out.stderr
    assert "Traceback" not in out.stderr


def test_budget_json_adds_up_to_the_plan() -> None:
    out = run("report", "budget", str(TOWN), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["total_vnd"] == 322_506_000 == data["plan_total_vnd"]
    assert len(data["sites"]) == 10
    assert (
        sum(s["total_vnd"] for s in data["sites"]) + sum(i["amount_vnd"] for i in data["station"]) == data["total_vnd"]
    )
    assert sum(s["cameras"] for s in data["sites"]) == 70
    assert sum(data["by_funding_vnd"].values()) == data["total_vnd"]
    assert set(data["by_funding_vnd"]) <= {"site_fund", "town_board", "donation"}


def test_budget_formats(tmp_path: Path) -> None:
    table = run("report", "budget", str(TOWN)).stdout
    assert "Dự toán theo khu phố / Budget per neighbourhood" in table
    assert "322.506.000" in table
    rows = list(csv.DictReader(io.StringIO(run("report", "budget", str(TOWN), "--format", "csv").stdout)))
    assert len(rows) == 11 and rows[-1]["site"] == "Cộng / Total"
    md = run("report", "budget", str(TOWN), "--format", "md").stdout
    assert md.startswith("# DỰ TOÁN KINH PHÍ") and "| **Cộng / Total** |" in md
    out = tmp_path / "budget.html"
    assert run("report", "budget", str(TOWN), "--format", "html", "-o", str(out)).returncode == 0
    html = out.read_text(encoding="utf-8")
    assert '<html lang="vi">' in html and "TỔNG CỘNG / GRAND TOTAL" in html and "322.506.000" in html


def test_retention_report_meets_the_target() -> None:
    data = json.loads(run("report", "retention", str(TOWN), "--format", "json").stdout)
    assert data["target_days"] == 30
    assert [r["recorder"] for r in data["recorders"]] == ["nvr-01", "nvr-02"]
    for rec in data["recorders"]:
        assert rec["meets_target"] is True
        expected = rec["usable_bytes"] / (rec["bitrate_kbps"] * 1000 / 8 * 86400)
        assert rec["retention_days"] == pytest.approx(expected, abs=0.05)
        assert rec["channels_used"] <= rec["channels"]
    text = run("report", "retention", str(TOWN)).stdout
    assert "Kế hoạch lưu trữ theo đầu ghi / Storage plan per recorder" in text and "đạt / OK" in text


def test_retention_report_flags_a_short_recorder(town_copy: Path) -> None:
    station = town_copy / "station.yml"
    text = station.read_text(encoding="utf-8").replace("capacity_tb: 4", "capacity_tb: 2")
    station.write_text(text, encoding="utf-8")
    out = run("validate", str(town_copy))
    assert out.returncode == 1
    assert "30-day plan needs" in out.stderr and "add disks, lower bitrates, or move cameras" in out.stderr


def test_schema_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "-o", "-"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "camfleet inventory file"
    assert "cameras" in schema["properties"]
