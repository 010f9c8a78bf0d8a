"""The rendered Prometheus config and alert rules, checked by Prometheus' own promtool.

promtool check config / check rules on the rendered files; ``promtool test rules`` runs
tests/prometheus/alerts_test.yml, where every alert is shown firing and not firing; the
bilingual annotations are checked here (promtool would need every runbook word in the cases).

    .venv/bin/pytest tests/prometheus -q
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from camfleet.config.prometheus import (
    DEFAULT_FOR,
    DEFAULT_JOBS,
    ExporterAccess,
    render_alertmanager_config,
    render_prometheus_config,
    render_rules,
)
from tests.conftest import require_program

HERE = Path(__file__).parent
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
VIETNAMESE = set("ăâđêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữựíìỉĩịúùủũụóòỏõọéèẻẽẹ")


@pytest.fixture(autouse=True, scope="module")
def _promtool() -> None:
    require_program(PROMTOOL, "prometheus")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def alerts(text: str) -> list[dict]:
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]


def test_prometheus_config_and_rules_pass_promtool_check(tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text(render_rules(), encoding="utf-8")
    config = render_prometheus_config("127.0.0.1:9830", town="ngoc-lac", alertmanagers=["127.0.0.1:9093"])
    (tmp_path / "prometheus.yml").write_text(config, encoding="utf-8")
    out = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 1 rule files found" in out.stdout + out.stderr
    parsed = yaml.safe_load(config)
    stream = next(j for j in parsed["scrape_configs"] if j["job_name"] == "camfleet_stream")
    assert stream["http_sd_configs"][0]["url"] == "http://127.0.0.1:9830/sd?module=stream"
    assert {"source_labels": ["__param_target"], "target_label": "instance"} in stream["relabel_configs"]
    assert {"target_label": "__address__", "replacement": "127.0.0.1:9830"} in stream["relabel_configs"]


def test_a_protected_exporter_config_passes_promtool_and_names_files_never_secrets(tmp_path: Path) -> None:
    """scheme https, tls_config and basic_auth with a password_file on every job and every /sd."""
    (tmp_path / "alerts.yml").write_text(render_rules(), encoding="utf-8")
    access = ExporterAccess(
        ca_file="/etc/prometheus/camfleet-exporter-ca.crt",
        server_name="camfleet-exporter",
        username="prometheus",
        password_file="/etc/prometheus/camfleet-exporter.password",
    )
    config = render_prometheus_config("127.0.0.1:9830", town="ngoc-lac", access=access)
    (tmp_path / "prometheus.yml").write_text(config, encoding="utf-8")
    out = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    client = {
        "tls_config": {"ca_file": access.ca_file, "server_name": "camfleet-exporter"},
        "basic_auth": {"username": "prometheus", "password_file": access.password_file},
    }
    jobs = yaml.safe_load(config)["scrape_configs"]
    assert len(jobs) == len(DEFAULT_JOBS) + 1  # every probe module, and the exporter's own /metrics
    for job in jobs:
        assert job["scheme"] == "https" and {k: job[k] for k in client} == client, job["job_name"]
        for sd in job.get("http_sd_configs", []):
            assert sd["url"].startswith("https://127.0.0.1:9830/sd?module=")
            assert {k: sd[k] for k in client} == client
    with pytest.raises(ValueError, match="both username and password_file"):
        ExporterAccess(ca_file="/ca.crt", username="prometheus")


def test_a_broken_rule_fails_promtool(tmp_path: Path) -> None:
    """The check can fail: a typo in an expression is caught."""
    (tmp_path / "alerts.yml").write_text(render_rules().replace("== 0", "=== 0", 1), encoding="utf-8")
    assert promtool("check", "rules", "alerts.yml", cwd=tmp_path).returncode != 0


def test_alert_cases_pass_promtool_test_rules(tmp_path: Path) -> None:
    rules = yaml.safe_load(render_rules())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    shutil.copy(HERE / "alerts_test.yml", tmp_path)
    out = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = yaml.safe_load((HERE / "alerts_test.yml").read_text(encoding="utf-8"))
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in cases["tests"]:
        for case in test.get("alert_rule_test", []):
            (firing if case["exp_alerts"] else quiet).add(case["alertname"])
    names = {r["alert"] for r in alerts(render_rules())}
    assert len(names) >= 12
    assert names - firing == set(), "alerts never shown firing"
    assert names - quiet == set(), "alerts never shown quiet"


def test_every_alert_has_summary_and_runbook_in_vietnamese_and_english() -> None:
    for rule in alerts(render_rules()):
        notes = rule["annotations"]
        assert {"summary", "summary_vi", "runbook_en", "runbook_vi"} <= set(notes), rule["alert"]
        assert set(notes["summary_vi"] + notes["runbook_vi"]) & VIETNAMESE, rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket")


def test_grace_periods_can_be_shortened_for_tests_and_typos_are_refused() -> None:
    text = render_rules(for_overrides={"stream_down": "6s"})
    down = next(r for r in alerts(text) if r["alert"] == "StreamDown")
    assert down["for"] == "6s"
    assert next(r for r in alerts(render_rules()) if r["alert"] == "StreamDown")["for"] == DEFAULT_FOR["stream_down"]
    with pytest.raises(ValueError, match="stream_dwon"):
        render_rules(for_overrides={"stream_dwon": "1s"})


def test_alertmanager_folds_camera_alerts_under_their_link_router() -> None:
    config = yaml.safe_load(render_alertmanager_config(webhook_url="http://127.0.0.1:9099/hook"))
    assert "link_router" in config["route"]["group_by"]
    inhibit = next(r for r in config["inhibit_rules"] if r["source_matchers"] == ['alertname="LinkDown"'])
    assert inhibit["equal"] == ["link_router"]
    assert "StreamDown" in inhibit["target_matchers"][0]
