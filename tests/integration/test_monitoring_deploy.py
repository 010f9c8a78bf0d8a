"""playbooks/monitoring.yml in process mode: the exporter and a real Prometheus really run, over a simulated town.

The way `make demo` runs them (no systemd here), on free loopback ports instead of the demo's 9830/9090:
the first run starts both (and Alertmanager, which Prometheus is wired to) and Prometheus scrapes a camera's stream probe through the exporter; a second
run changes nothing; a new scrape interval reloads Prometheus (same pid, new configuration served) while a
new exporter setting restarts the exporter; ``monitoring_state=stopped`` stops both. The role's
``monitoring_process`` module is also driven directly with a small program, for its restart/reload/check-mode
rules.

    .venv/bin/pytest tests/integration/test_monitoring_deploy.py -q
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ROOT, TOWN, require_program
from tests.integration.simtown import Town, playbook, recap, running_town

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _prometheus() -> None:
    require_program(PROMETHEUS, "prometheus")


# Only the stream job, every 3 s, so the first probe lands within seconds and the machine is not loaded.
JOBS = [{"module": "stream", "interval": "3s", "timeout": "3s", "comment": "test: sub stream every 3 s"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Deployment:
    def __init__(self, town: Town, root: Path) -> None:
        self.town = town
        self.dir = root / "monitoring"
        self.exporter = f"127.0.0.1:{free_port()}"
        self.prometheus = f"127.0.0.1:{free_port()}"
        self.alertmanager = f"127.0.0.1:{free_port()}"

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        out = playbook(
            self.town,
            "monitoring.yml",
            "-e",
            json.dumps(
                {
                    "monitoring_service_manager": "process",
                    "monitoring_process_dir": str(self.dir),
                    "monitoring_etc_dir": str(self.dir / "etc"),
                    "monitoring_camfleet_dir": str(ROOT),
                    "monitoring_vault_password_file": str(TOWN / "vault-password.DEMO-ONLY"),
                    "monitoring_sim_overlay": str(self.town.overlay),
                    "monitoring_exporter_listen": self.exporter,
                    "monitoring_prometheus_listen": self.prometheus,
                    "monitoring_alertmanager_listen": self.alertmanager,
                    "monitoring_jobs": JOBS,
                }
            ),
            *extra,
        )
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
        return out

    def pid(self, name: str) -> int:
        return int((self.dir / f"{name}.pid").read_text().strip())

    def query(self, expr: str) -> list[dict[str, Any]]:
        reply = httpx.get(f"http://{self.prometheus}/api/v1/query", params={"query": expr}, timeout=5)
        reply.raise_for_status()
        result: list[dict[str, Any]] = reply.json()["data"]["result"]
        return result

    def config(self) -> dict[str, Any]:
        reply = httpx.get(f"http://{self.prometheus}/api/v1/status/config", timeout=5)
        loaded: dict[str, Any] = yaml.safe_load(reply.json()["data"]["yaml"])
        return loaded


def changed(out: subprocess.CompletedProcess[str]) -> int:
    return recap(out.stdout)["localhost"]["changed"]


def changed_tasks(stdout: str) -> list[str]:
    """The names of the tasks a run changed (what a failed "changes nothing" shows)."""
    out, task = [], ""
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:"):
            out.append(task)
    return out


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(what: str, check: Any, timeout: float = 45) -> Any:
    """Poll ``check()`` until it returns something truthy (scrapes happen on Prometheus' own clock)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, subprocess.CompletedProcess[str]]]:
    root = tmp_path_factory.mktemp("monitoring-deploy")
    with running_town(root / "sim", 153) as town:
        deployment = Deployment(town, root)
        try:
            yield deployment, deployment.run()
        finally:
            if list(deployment.dir.glob("*.pid")):  # test_stopped_stops_both did not run, or failed
                deployment.run("-e", "monitoring_state=stopped")


def test_first_run_starts_both_and_prometheus_probes_a_camera(
    deployed: tuple[Deployment, subprocess.CompletedProcess[str]],
) -> None:
    d, first = deployed
    assert changed(first) > 0
    assert running(d.pid("exporter")) and running(d.pid("prometheus"))
    assert httpx.get(f"http://{d.exporter}/metrics", timeout=5).status_code == 200
    assert httpx.get(f"http://{d.prometheus}/-/ready", timeout=5).status_code == 200
    sample = wait_for(
        "Prometheus scraping cam-01-t01's stream probe",
        lambda: d.query('camfleet_probe_success{instance="cam-01-t01",module="stream"}'),
    )
    assert sample[0]["value"][1] == "1", sample
    assert sample[0]["metric"]["site"] == "kp-01"


def test_first_run_starts_alertmanager_and_wires_prometheus_to_it(
    deployed: tuple[Deployment, subprocess.CompletedProcess[str]],
) -> None:
    d, _ = deployed
    assert running(d.pid("alertmanager"))
    assert httpx.get(f"http://{d.alertmanager}/-/ready", timeout=5).status_code == 200
    assert d.config()["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [d.alertmanager]
    active = httpx.get(f"http://{d.prometheus}/api/v1/alertmanagers", timeout=5).json()["data"]["activeAlertmanagers"]
    assert [a["url"] for a in active] == [f"http://{d.alertmanager}/api/v2/alerts"]
    status = httpx.get(f"http://{d.alertmanager}/api/v2/status", timeout=5).json()
    loaded = yaml.safe_load(status["config"]["original"])
    assert "RecorderDiskFull" in str(loaded["inhibit_rules"]) and loaded["templates"][0].endswith(
        "camfleet-notify.tmpl"
    )


def test_second_run_changes_nothing(deployed: tuple[Deployment, subprocess.CompletedProcess[str]]) -> None:
    d, _ = deployed
    pids = d.pid("exporter"), d.pid("prometheus"), d.pid("alertmanager")
    again = d.run()
    assert changed(again) == 0, changed_tasks(again.stdout)
    assert (d.pid("exporter"), d.pid("prometheus"), d.pid("alertmanager")) == pids


def test_new_settings_reload_prometheus_and_restart_the_exporter(
    deployed: tuple[Deployment, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    d, _ = deployed
    exporter, prometheus = d.pid("exporter"), d.pid("prometheus")
    vault = tmp_path / "vault-password"  # a new exporter setting: its vault password file moved
    shutil.copy(TOWN / "vault-password.DEMO-ONLY", vault)
    out = d.run("-e", "monitoring_scrape_interval=7s", "-e", f"monitoring_vault_password_file={vault}")
    assert changed(out) > 0
    assert d.pid("prometheus") == prometheus, "a configuration change reloads Prometheus, never restarts it"
    assert d.config()["global"]["scrape_interval"] == "7s"
    assert d.pid("exporter") != exporter and not running(exporter)
    assert running(d.pid("exporter"))
    state = json.loads((d.dir / "exporter.json").read_text())
    assert state["env"]["CAMFLEET_VAULT_PASSWORD_FILE"] == str(vault)
    # Still probing after the restart: a success sample newer than it.
    since = time.time()
    probe = 'camfleet_probe_success{instance="cam-01-t01",module="stream"}'
    wait_for(
        "a fresh stream probe after the exporter restarted",
        lambda: d.query(f"{probe} == 1 and timestamp({probe}) > {since}"),
    )


def test_stopped_stops_all_three(deployed: tuple[Deployment, subprocess.CompletedProcess[str]]) -> None:
    d, _ = deployed
    pids = d.pid("exporter"), d.pid("prometheus"), d.pid("alertmanager")
    out = d.run("-e", "monitoring_state=stopped")
    assert changed(out) == 1  # one task, all three items
    assert not any(running(p) for p in pids)
    assert not list(d.dir.glob("*.pid"))
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://{d.prometheus}/-/ready", timeout=2)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://{d.alertmanager}/-/ready", timeout=2)
    assert changed(d.run("-e", "monitoring_state=stopped")) == 0


# --- monitoring_process alone, with a tiny program that records its SIGHUPs -------------------------------

PROGRAM = """
import pathlib, signal, sys, time
log = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGHUP, lambda *_: log.open("a").write("hup\\n"))
log.open("a").write("start\\n")
while True:
    time.sleep(1)
"""


def module(args: dict[str, Any], check: bool = False) -> dict[str, Any]:
    """One ``monitoring_process`` call, the way Ansible runs a module: its file with the arguments as JSON.

    Faster than ``ansible localhost -M roles/monitoring/library -m monitoring_process -a '{...}'`` (same code).
    """
    out = subprocess.run(
        [sys.executable, str(ROOT / "roles" / "monitoring" / "library" / "monitoring_process.py")],
        input=json.dumps({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check}}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    assert out.returncode == (1 if result.get("failed") else 0), out.stderr[-2000:]
    return result


def test_monitoring_process_restarts_on_restart_files_and_signals_on_reload_files(tmp_path: Path) -> None:
    program, events, restart, reload = (tmp_path / n for n in ("prog.py", "events", "restart.conf", "reload.conf"))
    program.write_text(PROGRAM)
    restart.write_text("a")
    reload.write_text("a")
    args = {
        "name": "prog",
        "state_dir": str(tmp_path / "run"),
        "argv": [sys.executable, str(program), str(events)],
        "restart_files": [str(restart)],
        "reload_files": [str(reload)],
        "reload_signal": "SIGHUP",
    }
    first = module(args)
    assert (first["changed"], first["action"]) == (True, "started")
    pid = first["pid"]
    wait_for("the program's first line", lambda: events.exists() and "start" in events.read_text(), 10)
    assert module(args)["changed"] is False

    reload.write_text("b")
    would = module(args, check=True)
    assert (would["changed"], would["action"]) == (True, "reloaded")
    assert "hup" not in events.read_text()  # check mode sent nothing
    assert module(args)["action"] == "reloaded"
    wait_for("the SIGHUP", lambda: "hup" in events.read_text(), 10)
    assert module(args)["changed"] is False

    restart.write_text("b")
    again = module(args)
    assert again["action"] == "restarted" and again["pid"] != pid
    assert not running(pid) and running(again["pid"])

    stopped = module({"name": "prog", "state_dir": args["state_dir"], "state": "stopped"})
    assert stopped["action"] == "stopped" and not running(again["pid"])


def test_monitoring_process_reports_a_program_that_dies_in_one_line(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('cannot listen: port taken'); sys.exit(3)"]
    result = module({"name": "dies", "state_dir": str(tmp_path), "argv": argv, "ready_url": "http://127.0.0.1:9/"})
    assert result.get("failed") is True
    assert result["msg"].startswith("dies exited with code 3 right after it started: cannot listen: port taken")
    assert not (tmp_path / "dies.pid").exists()


def test_monitoring_process_never_signals_a_pid_that_another_program_reused(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])  # what got the pid after the exporter died
    try:
        (tmp_path / "prog.json").write_text(json.dumps({"pid": bystander.pid, "starttime": "1"}), encoding="utf-8")
        (tmp_path / "prog.pid").write_text(f"{bystander.pid}\n", encoding="ascii")
        stopped = module({"name": "prog", "state_dir": str(tmp_path), "state": "stopped"})
        assert stopped["changed"] is False and stopped["action"] == "none"
        assert not (tmp_path / "prog.json").exists()  # the stale record is forgotten
        (tmp_path / "prog.pid").write_text(f"{bystander.pid}\n", encoding="ascii")  # an older script's pid file
        assert module({"name": "prog", "state_dir": str(tmp_path), "state": "stopped"})["changed"] is False
        assert bystander.poll() is None  # still running
    finally:
        bystander.kill()
        bystander.wait()
