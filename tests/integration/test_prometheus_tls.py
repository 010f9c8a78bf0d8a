"""A real Prometheus (Debian's) scrapes an exporter protected by TLS and basic auth, with the config camfleet renders.

Third-party truth for issue 15 item 9: ``render_prometheus_config(access=ExporterAccess(...))``
passes ``promtool check config``, and Prometheus, reading the password from a file and checking
the exporter's certificate against a CA made at test time, scrapes ``/metrics``, discovers
targets through ``/sd`` and scrapes ``/probe`` (``up == 1``, ``camfleet_probe_success == 1``);
a job with the wrong password is ``up == 0``, as are curl without credentials (401) and curl
over plain HTTP (no answer). The ``inventory`` module contacts no device, so no simulator runs.

    .venv/bin/pytest tests/integration/test_prometheus_tls.py -q
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from camfleet.config.prometheus import ExporterAccess, Job, render_prometheus_config, render_rules
from tests.certs import Certs, make_certs
from tests.conftest import require_program
from tests.exporter.test_web_protection import PASSWORD, Running, bcrypt_hash, start_exporter, web_config
from tests.integration.prom import PROMETHEUS, running_prometheus

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
CURL = shutil.which("curl") or "/usr/bin/curl"
JOBS = (Job("inventory", "2s", "1500ms", "the inventory's word on every camera"),)
PATIENCE = 45.0

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _programs() -> None:
    require_program(PROMETHEUS, "prometheus")
    require_program(PROMTOOL, "prometheus")
    require_program(CURL, "curl")


def wait_for(what: str, fn: Callable[[], Any], timeout: float = PATIENCE) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Certs]]:
    work = tmp_path_factory.mktemp("exporter")
    certs = make_certs(work / "certs")
    path = web_config(work / "web.yml", certs, {"prometheus": bcrypt_hash(PASSWORD, cost=10)})
    running = start_exporter(work, "--web.config.file", str(path))
    try:
        yield running, certs
    finally:
        running.stop()


@pytest.fixture(scope="module")
def prometheus(exporter: tuple[Running, Certs], tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    running, certs = exporter
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "password").write_text(PASSWORD + "\n", encoding="utf-8")  # Prometheus trims the trailing newline
    (folder / "wrong-password").write_text("not-the-password", encoding="utf-8")
    (folder / "password").chmod(0o600)
    (folder / "alerts.yml").write_text(render_rules(), encoding="utf-8")
    address = running.url.removeprefix("https://")
    access = ExporterAccess(ca_file=str(certs.ca), username="prometheus", password_file=str(folder / "password"))
    config = yaml.safe_load(
        render_prometheus_config(address, town="ngoc-lac", jobs=JOBS, scrape_interval="2s", access=access)
    )
    # The control: the same exporter job with the wrong password must be down.
    wrong = {
        **config["scrape_configs"][0],
        "job_name": "camfleet_exporter_wrong_password",
        "basic_auth": {"username": "prometheus", "password_file": str(folder / "wrong-password")},
    }
    config["scrape_configs"].append(wrong)
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    check = subprocess.run(
        [PROMTOOL, "check", "config", "prometheus.yml"], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with running_prometheus(folder) as client:
        yield client


def query(client: httpx.Client, expr: str) -> dict[str, float]:
    body = client.get("/api/v1/query", params={"query": expr}).json()
    assert body["status"] == "success", body
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in body["data"]["result"]}


def test_prometheus_scrapes_the_protected_exporter_and_its_probes(prometheus: httpx.Client) -> None:
    ups = wait_for(
        "up of the exporter, the wrong-password job and the inventory probe",
        lambda: (lambda u: u if len(u) == 3 else None)(query(prometheus, "up")),
    )
    assert ups == {"camfleet_exporter": 1, "camfleet_inventory": 1, "camfleet_exporter_wrong_password": 0}, ups
    success = wait_for(
        "the inventory probe through /sd over TLS",
        lambda: query(prometheus, 'camfleet_probe_success{module="inventory",instance="ngoc-lac"}'),
    )
    assert success == {"camfleet_inventory": 1}
    targets = prometheus.get("/api/v1/targets").json()["data"]["activeTargets"]
    wrong = next(t for t in targets if t["labels"]["job"] == "camfleet_exporter_wrong_password")
    assert "401" in wrong["lastError"], wrong
    assert all(t["scrapeUrl"].startswith("https://") for t in targets)


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CURL, "-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_curl_gets_401_without_or_with_a_wrong_password_and_nothing_over_plain_http(
    exporter: tuple[Running, Certs],
) -> None:
    running, certs = exporter
    url = running.url + "/metrics"
    assert curl("--cacert", str(certs.ca), url).stdout == "401"
    assert curl("--cacert", str(certs.ca), "-u", "prometheus:wrong", url).stdout == "401"
    assert curl("--cacert", str(certs.ca), "-u", f"prometheus:{PASSWORD}", url).stdout == "200"
    plain = curl("-u", f"prometheus:{PASSWORD}", url.replace("https://", "http://"))
    assert plain.returncode != 0 and plain.stdout == "000", plain
    untrusted = curl("-u", f"prometheus:{PASSWORD}", url)  # the system's CAs do not know the exporter's
    assert untrusted.returncode == 60, untrusted
