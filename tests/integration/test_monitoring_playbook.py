"""playbooks/monitoring.yml through ansible-playbook, into a temporary folder instead of /etc.

With ``monitoring_service_manager=none`` (files only): the files are the ones camfleet.config.prometheus
renders (Ansible header aside), promtool accepts them, the exporter can load its config, Grafana
gets its datasource and dashboards, the exporter's unit is hardened and passes
``systemd-analyze verify``, nothing is started, and a second run changes nothing. The systemd
mode cannot run here (no systemd as PID 1): its tasks pass ``--syntax-check`` and its
preflight refuses a folder other than /etc. Process mode runs in test_monitoring_deploy.py.

    .venv/bin/pytest tests/integration/test_monitoring_playbook.py -q
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from camfleet.config.grafana import DASHBOARDS_DIR
from camfleet.config.prometheus import render_alertmanager_config, render_prometheus_config, render_rules
from camfleet.exporter.config import load_config
from tests.conftest import BIN, REFERENCE_ANSIBLE_ENV, ROOT, require_program
from tests.integration.simtown import recap

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _promtool() -> None:
    require_program(PROMTOOL, "prometheus")


def run(etc: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "playbooks/monitoring.yml",
            "-e",
            f"monitoring_etc_dir={etc}",
            "-e",
            "monitoring_service_manager=none",
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, **REFERENCE_ANSIBLE_ENV},
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
        "127.0.0.1:9830",
        town="ngoc-lac",
        rule_files=[str(prom / "camfleet-alerts.yml")],
        alertmanagers=["127.0.0.1:9093"],
    )
    # Alertmanager's file is the one camfleet renders for the town (no receivers in the demo town).
    assert (prom / "alertmanager.yml").read_text(encoding="utf-8") == render_alertmanager_config(
        secrets_dir=str(prom / "alertmanager-secrets"), templates=[str(prom / "camfleet-notify.tmpl")]
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
    assert "ExecStart=/opt/camfleet/.venv/bin/camfleet exporter \\\n" in unit
    assert "--listen 127.0.0.1:9830\n" in unit


HARDENING = {
    "User": "camfleet",
    "NoNewPrivileges": "true",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "PrivateDevices": "true",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter": "@system-service",
    "CacheDirectory": "camfleet-exporter",
}


def service_section(text: str) -> dict[str, str]:
    """[Service] keys of a unit (continuation lines joined, later keys win)."""
    section, out = "", {}
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key] = value
    return out


def test_exporter_unit_is_hardened_like_the_shipped_one(etc: Path) -> None:
    unit = service_section((etc / "systemd" / "system" / "camfleet-exporter.service").read_text(encoding="utf-8"))
    assert {k: unit.get(k) for k in HARDENING} == HARDENING
    shipped = service_section((ROOT / "exporters" / "camfleet-exporter.service").read_text(encoding="utf-8"))
    differs = {k for k in unit.keys() | shipped.keys() if unit.get(k) != shipped.get(k)}
    # Only the station-specific paths may differ from exporters/camfleet-exporter.service.
    assert differs <= {"ExecStart", "Environment"}, differs


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(etc: Path, tmp_path: Path) -> None:
    text = (etc / "systemd" / "system" / "camfleet-exporter.service").read_text(encoding="utf-8")
    # verify also wants ExecStart's program to exist: point it at this checkout's camfleet.
    unit = tmp_path / "camfleet-exporter.service"
    unit.write_text(text.replace("/opt/camfleet/.venv/bin/camfleet", str(BIN / "camfleet")), encoding="utf-8")
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stderr == "", out.stderr  # unknown keys are only warnings: none allowed


def test_systemd_mode_passes_syntax_check() -> None:
    def playbook(flag: str) -> str:
        out = subprocess.run(
            [
                str(BIN / "ansible-playbook"),
                "playbooks/monitoring.yml",
                flag,
                "-e",
                "monitoring_service_manager=systemd",
            ],
            cwd=ROOT,
            env={**os.environ, **REFERENCE_ANSIBLE_ENV},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    playbook("--syntax-check")
    tasks = playbook("--list-tasks")  # every task file is imported statically, so all are listed
    for task in (
        "Install Prometheus and promtool from Debian",
        "Add Grafana's apt repository",
        "Create the exporter's system user",
        "Point Debian's Prometheus at the camfleet configuration",
        "Enable and start the camfleet exporter",
        "Restart or reload what changed, before it is checked",
        "Check Prometheus loaded them",
    ):
        assert task in tasks, task


def test_systemd_mode_wants_etc(tmp_path: Path) -> None:
    out = run(tmp_path / "etc", "-e", "monitoring_service_manager=systemd")
    assert out.returncode != 0
    assert "monitoring_etc_dir must be /etc" in out.stdout
    assert not (tmp_path / "etc").exists()


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


# --- Alertmanager's receivers: secrets from the vault into files, never into alertmanager.yml --------------------

RECEIVERS = """\
  alerting:
    receivers:
    - id: duty-mail
      kind: email
      to: truc-ban@ca-ngoclac.example
      sender: camfleet@ca-ngoclac.example
      smarthost: smtp.ca-ngoclac.example:587
      username: camfleet
    - id: zalo-gateway
      kind: webhook
      url: https://sms-gw.ca-ngoclac.example/hook
      bearer: true
    - id: duty-telegram
      kind: telegram
      chat_id: -1001234
"""


def town_with_receivers(root: Path, receivers: str, secrets: dict[str, str]) -> Path:
    """A copy of the demo town with an ``alerting:`` section and ``vault_alerting_secrets`` in its vault."""
    from camfleet.inventory.vault import decrypt_vault, encrypt_vault

    town = root / "ngoc-lac"
    shutil.copytree(ROOT / "inventory" / "ngoc-lac", town)
    text = (town / "town.yml").read_text(encoding="utf-8")
    (town / "town.yml").write_text(text.replace("  storage:\n", receivers + "  storage:\n", 1), encoding="utf-8")
    password = (town / "vault-password.DEMO-ONLY").read_bytes().strip()
    vault = yaml.safe_load(decrypt_vault((town / "vault" / "secrets.yml").read_bytes(), password))
    vault["vault_alerting_secrets"] = secrets
    plain = yaml.safe_dump(vault, allow_unicode=True).encode()
    (town / "vault" / "secrets.yml").write_bytes(encrypt_vault(plain, password, "demo"))
    return town


def test_receivers_secrets_go_from_the_vault_into_0600_files_never_into_alertmanager_yml(tmp_path: Path) -> None:
    token = "123456:AAE-Tg-t0ken"
    secrets = {"duty-mail": "smtp-Pa55-word", "zalo-gateway": "bearer-T0ken-xyz", "duty-telegram": token}
    town = town_with_receivers(tmp_path, RECEIVERS, secrets)
    etc = tmp_path / "etc"
    out = run(etc, "-i", str(town / "town.camfleet.yml"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    for secret in secrets.values():
        assert secret not in out.stdout + out.stderr  # never logged, never diffed
    config_path = etc / "prometheus" / "alertmanager.yml"
    config_text = config_path.read_text(encoding="utf-8")
    assert not any(secret in config_text for secret in secrets.values() if secret != token)
    # Debian 12's Alertmanager 0.25 reads no bot_token_file: the token is in the file, which only its owner reads.
    telegram = yaml.safe_load(config_text)["receivers"][0]["telegram_configs"][0]
    assert telegram.get("bot_token") == token or telegram.get("bot_token_file")
    if "bot_token" in telegram:
        assert config_path.stat().st_mode & 0o777 == 0o600
        assert "__CAMFLEET_SECRET_" not in config_text
    amtool = shutil.which("amtool") or "/usr/bin/amtool"
    checked = subprocess.run(
        [amtool, "check-config", str(etc / "prometheus" / "alertmanager.yml")], capture_output=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    station = yaml.safe_load(config_text)["receivers"][0]
    folder = etc / "prometheus" / "alertmanager-secrets"
    assert station["email_configs"][0]["auth_password_file"] == str(folder / "duty-mail")
    assert station["webhook_configs"][0]["http_config"]["authorization"]["credentials_file"] == str(
        folder / "zalo-gateway"
    )
    for receiver, secret in secrets.items():
        assert (folder / receiver).read_text(encoding="utf-8") == secret
        assert (folder / receiver).stat().st_mode & 0o777 == 0o600
    assert (etc / "prometheus" / "camfleet-notify.tmpl").is_file()
    assert yaml.safe_load((etc / "prometheus" / "prometheus.yml").read_text())["alerting"]["alertmanagers"][0][
        "static_configs"
    ][0]["targets"] == ["127.0.0.1:9093"]


def test_a_receiver_without_its_secret_is_refused_in_one_line_before_anything_is_written(tmp_path: Path) -> None:
    town = town_with_receivers(tmp_path, RECEIVERS, {"duty-mail": "smtp-Pa55-word"})
    out = run(tmp_path / "etc", "-i", str(town / "town.camfleet.yml"))
    assert out.returncode != 0
    assert "receiver zalo-gateway: thiếu vault_alerting_secrets.zalo-gateway" in out.stdout
    assert "smtp-Pa55-word" not in out.stdout + out.stderr
    assert not (tmp_path / "etc" / "prometheus" / "alertmanager.yml").exists()
