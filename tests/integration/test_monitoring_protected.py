"""playbooks/monitoring.yml with the exporter protected: TLS and basic auth from the town's vault, Prometheus scraping it.

Process mode on free loopback ports over the reference town (only the ``inventory`` job, which
contacts no device, so no simulator). The exporter's key, certificate, password and its bcrypt
hash live in an ansible-vault file made here (the repository holds none); the role writes the
web config, the key (0600), Prometheus' password file (0600) and a config with ``scheme: https``,
``tls_config`` and ``basic_auth``/``password_file``; its own check logs in. Then a real
Prometheus has ``up == 1`` for the exporter and its probe job, curl without the password gets
401, no secret appears in the files it should not be in or in Ansible's output, and a second
run changes nothing.

    .venv/bin/pytest tests/integration/test_monitoring_protected.py -q
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import yaml

from camfleet.inventory.vault import encrypt_vault
from tests.certs import Certs, make_certs
from tests.conftest import BIN, REFERENCE_ANSIBLE_ENV, ROOT, TOWN
from tests.integration.simtown import recap

pytestmark = pytest.mark.slow

PASSWORD = "station-Mật-khẩu-42"
JOBS = [{"module": "inventory", "interval": "2s", "timeout": "1500ms", "comment": "test: the inventory job"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Station:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "monitoring"
        self.exporter = f"127.0.0.1:{free_port()}"
        self.prometheus = f"127.0.0.1:{free_port()}"
        self.certs: Certs = make_certs(root / "certs")
        secrets = {
            "vault_monitoring_exporter_tls_cert": self.certs.server_cert.read_text(),
            "vault_monitoring_exporter_tls_key": self.certs.server_key.read_text(),
            "vault_monitoring_exporter_password": PASSWORD,
            "vault_monitoring_exporter_password_bcrypt": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode(),
        }
        self.vault = root / "secrets.yml"
        password = (TOWN / "vault-password.DEMO-ONLY").read_bytes().strip()
        self.vault.write_bytes(encrypt_vault(yaml.safe_dump(secrets).encode(), password, "demo"))

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        settings = {
            "monitoring_service_manager": "process",
            "monitoring_process_dir": str(self.dir),
            "monitoring_etc_dir": str(self.dir / "etc"),
            "monitoring_camfleet_dir": str(ROOT),
            "monitoring_vault_password_file": str(TOWN / "vault-password.DEMO-ONLY"),
            "monitoring_exporter_listen": self.exporter,
            "monitoring_prometheus_listen": self.prometheus,
            "monitoring_jobs": JOBS,
            "monitoring_exporter_tls": True,
            "monitoring_exporter_tls_ca": self.certs.ca.read_text(),
            "monitoring_exporter_basic_auth": True,
            "monitoring_exporter_vault_file": str(self.vault),
        }
        out = subprocess.run(
            [str(BIN / "ansible-playbook"), "playbooks/monitoring.yml", "-e", json.dumps(settings), *extra],
            cwd=ROOT,
            env={**os.environ, **REFERENCE_ANSIBLE_ENV},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
        return out

    def query(self, expr: str) -> list[dict[str, Any]]:
        reply = httpx.get(f"http://{self.prometheus}/api/v1/query", params={"query": expr}, timeout=5, trust_env=False)
        result: list[dict[str, Any]] = reply.json()["data"]["result"]
        return result


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Station, subprocess.CompletedProcess[str]]]:
    s = Station(tmp_path_factory.mktemp("protected-station"))
    try:
        yield s, s.run()
    finally:
        if list(s.dir.glob("*.pid")):
            s.run("-e", "monitoring_state=stopped")


def test_prometheus_scrapes_the_protected_exporter(station: tuple[Station, subprocess.CompletedProcess[str]]) -> None:
    s, _ = station
    deadline = time.monotonic() + 60
    while True:
        up = {r["metric"]["job"]: r["value"][1] for r in s.query("up")}
        success = s.query('camfleet_probe_success{module="inventory"}')
        if up == {"camfleet_exporter": "1", "camfleet_inventory": "1"} and success:
            break
        assert time.monotonic() < deadline, f"not scraped within 60 s: up={up} success={success}"
        time.sleep(0.5)
    assert success[0]["value"][1] == "1"
    config = yaml.safe_load((s.dir / "etc" / "prometheus" / "prometheus.yml").read_text())
    for job in config["scrape_configs"]:
        assert job["scheme"] == "https"
        assert job["basic_auth"] == {
            "username": "prometheus",
            "password_file": str(s.dir / "etc" / "prometheus" / "camfleet-exporter.password"),
        }


def test_the_exporter_refuses_whoever_has_no_password(
    station: tuple[Station, subprocess.CompletedProcess[str]],
) -> None:
    s, _ = station
    url = f"https://{s.exporter}/metrics"
    assert (
        httpx.get(url, verify=ssl.create_default_context(cafile=s.certs.ca), timeout=5, trust_env=False).status_code
        == 401
    )
    ca = ssl.create_default_context(cafile=s.certs.ca)
    wrong = httpx.get(url, verify=ca, auth=("prometheus", "nope"), timeout=5, trust_env=False)
    assert wrong.status_code == 401
    with pytest.raises(httpx.TransportError):
        httpx.get(url.replace("https", "http"), timeout=5, trust_env=False)


def test_secrets_stay_in_their_files(station: tuple[Station, subprocess.CompletedProcess[str]]) -> None:
    s, first = station
    etc = s.dir / "etc"
    key = etc / "camfleet" / "exporter.key"
    password = etc / "prometheus" / "camfleet-exporter.password"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(password.stat().st_mode) == 0o600
    assert password.read_text() == PASSWORD
    assert "PRIVATE KEY" in key.read_text()
    web = yaml.safe_load((etc / "camfleet" / "web.yml").read_text())
    assert web["tls_server_config"]["key_file"] == str(key)
    assert bcrypt.checkpw(PASSWORD.encode(), web["basic_auth_users"]["prometheus"].encode())
    for path in etc.rglob("*"):
        if path.is_file() and path != password:
            assert PASSWORD not in path.read_text(errors="replace"), path
        if path.is_file() and path != key:
            assert "PRIVATE KEY" not in path.read_text(errors="replace"), path
    for text in (first.stdout, first.stderr, (s.dir / "exporter.log").read_text()):
        assert PASSWORD not in text and "PRIVATE KEY" not in text


def test_second_run_changes_nothing(station: tuple[Station, subprocess.CompletedProcess[str]]) -> None:
    s, _ = station
    pid = (s.dir / "exporter.pid").read_text()
    assert recap(s.run().stdout)["localhost"]["changed"] == 0
    assert (s.dir / "exporter.pid").read_text() == pid
