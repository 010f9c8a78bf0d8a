"""playbooks/monitoring.yml through ansible-playbook, into a temporary folder instead of /etc.

The files are the ones camfleet.monitoring renders (Ansible header aside), promtool accepts
them, the exporter can load its config, Grafana gets its datasource and dashboards, nothing
is started, and a second run changes nothing.

    .venv/bin/pytest tests/integration/test_monitoring_playbook.py -q
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from camfleet.dashboards import DASHBOARDS_DIR
from camfleet.exporter.config import load_config
from camfleet.monitoring import render_prometheus_config, render_rules
from tests.conftest import BIN, ROOT
from tests.integration.simtown import recap

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(PROMTOOL).exists(), reason="promtool (Debian prometheus) not installed"),
]


def run(etc: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "playbooks/monitoring.yml", "-e", f"monitoring_etc_dir={etc}", *extra],
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        capture_output=True,
        text=True,
        timeout=300,
    )


def without_header(text: str) -> str:
    """The file minus Ansible's ``# Ansible managed`` comment block."""
    lines = text.splitlines(keepends=True)
    assert lines[:3] == ["#\n", "# Ansible managed\n", "#\n"], lines[:3]
    return "".join(lines[3:])


@pytest.fixture(scope="module")
def etc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("station") / "etc"
    out = run(folder, "-e", "monitoring_sim_overlay=/srv/sim/overlay.yml")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert recap(out.stdout)["localhost"]["failed"] == 0
    return folder


def test_prometheus_files_are_the_rendered_ones_and_promtool_accepts_them(etc: Path) -> None:
    prom = etc / "prometheus"
    rules = (prom / "camfleet-alerts.yml").read_text(encoding="utf-8")
    config = (prom / "prometheus.yml").read_text(encoding="utf-8")
    assert without_header(rules) == render_rules()
    assert without_header(config) == render_prometheus_config(
        "127.0.0.1:9830", town="ngoc-lac", rule_files=[str(prom / "camfleet-alerts.yml")]
    )
    check = subprocess.run([PROMTOOL, "check", "config", str(prom / "prometheus.yml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 1 rule files found" in check.stdout + check.stderr


def test_exporter_config_and_unit(etc: Path) -> None:
    config = load_config(etc / "camfleet" / "exporter.yml")
    assert config.vault_password_file == etc / "camfleet" / "vault-password"
    assert "inventory" in config.modules and "stream" in config.modules
    unit = (etc / "systemd" / "system" / "camfleet-exporter.service").read_text(encoding="utf-8")
    assert f"--config {etc}/camfleet/exporter.yml" in unit
    assert "--inventory " + str(ROOT / "inventory" / "ngoc-lac") in unit
    assert "Environment=CAMFLEET_OVERLAY=/srv/sim/overlay.yml" in unit
    assert "ExecStart=/opt/camfleet/.venv/bin/camfleet exporter" in unit


def test_grafana_gets_datasource_provider_and_dashboards(etc: Path) -> None:
    grafana = etc / "grafana"
    ds = yaml.safe_load((grafana / "provisioning" / "datasources" / "camfleet.yml").read_text(encoding="utf-8"))
    assert ds["datasources"][0]["uid"] == "camfleet-prometheus"
    assert ds["datasources"][0]["url"] == "http://127.0.0.1:9090"
    provider = yaml.safe_load((grafana / "provisioning" / "dashboards" / "camfleet.yml").read_text(encoding="utf-8"))
    folder = Path(provider["providers"][0]["options"]["path"])
    assert folder == grafana / "dashboards" / "camfleet"
    copied = {p.name: p.read_bytes() for p in folder.glob("*.json")}
    assert copied == {p.name: p.read_bytes() for p in DASHBOARDS_DIR.glob("*.json")}


def test_second_run_changes_nothing(etc: Path) -> None:
    out = run(etc, "-e", "monitoring_sim_overlay=/srv/sim/overlay.yml")
    assert out.returncode == 0, out.stdout[-3000:]
    assert recap(out.stdout)["localhost"]["changed"] == 0


def test_a_bad_grace_period_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = run(tmp_path / "etc", "-e", '{"monitoring_alert_for": {"stream_down": "5m"}}')
    assert out.returncode != 0
    assert "monitoring_alert_for needs exactly the keys" in out.stdout
    assert not (tmp_path / "etc").exists()
