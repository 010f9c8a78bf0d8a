"""A real Prometheus (Debian's) scrapes the exporter over the simulated town; faults make alerts fire.

Third-party truth for the monitoring chain: the config and rules are the ones
``camfleet.config.prometheus`` renders (only intervals and grace periods shortened), targets come from
the exporter's ``/sd``, and alert states are read from Prometheus' own ``/api/v1/alerts``.

- a frozen camera: StreamFrozen goes pending, then firing; cleared, it resolves;
- a link router down: LinkDown fires, while the cameras behind it (whose probes do fail) never
  page StreamDown on their own;
- every panel query of every Grafana dashboard parses and returns data on this Prometheus.

    .venv/bin/pytest tests/integration/test_prometheus_alerts.py -q
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from camfleet.config.prometheus import Job, render_prometheus_config, render_rules
from tests.conftest import BIN, ROOT, TOWN, require_program
from tests.integration.prom import PROMETHEUS, running_prometheus, stop
from tests.integration.simtown import Town, running_town

NET = 127
GRACE = "6s"  # `for:` of the alerts under test: three rule evaluations, so "pending" is seen
#: Deadlines of the polling loops: met in a few seconds on an idle machine; generous because a
#: loaded CI box (or parallel test sims) slows scrapes, and a deadline only costs when it fails.
PATIENCE = 45.0
#: Short intervals; the expressions are the production ones.
JOBS = (
    Job("stream", "4s", "3500ms", "sub stream"),
    Job("link", "3s", "2500ms", "link routers"),
    Job("recorder", "5s", "4500ms", "recorders"),
    Job("inventory", "4s", "3s", "inventory"),
    Job("device", "10s", "5s", "device facts"),
    Job("stream_main", "10s", "5s", "main stream"),
    Job("link_wireguard", "10s", "5s", "wireguard"),
    Job("coverage", "4s", "3s", "route coverage"),
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True, scope="module")
def _prometheus() -> None:
    require_program(PROMETHEUS, "prometheus")


T = TypeVar("T")


def wait_for(what: str, fn: Callable[[], T | None], timeout: float, every: float = 0.3) -> T:
    """Poll ``fn`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@dataclass
class Stack:
    town: Town
    exporter: str
    prometheus: httpx.Client

    def alerts(self) -> list[dict[str, Any]]:
        body = self.prometheus.get("/api/v1/alerts").json()
        assert body["status"] == "success", body
        return list(body["data"]["alerts"])

    def alert_states(self, name: str, **labels: str) -> set[str]:
        return {
            a["state"]
            for a in self.alerts()
            if a["labels"]["alertname"] == name and all(a["labels"].get(k) == v for k, v in labels.items())
        }

    def query(self, expr: str) -> dict[str, Any]:
        return dict(self.prometheus.get("/api/v1/query", params={"query": expr}).json())

    def value(self, expr: str) -> float | None:
        result = self.query(expr)["data"]["result"]
        return float(result[0]["value"][1]) if result else None


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), NET, "--prefill-days", "2") as running:
        yield running


@pytest.fixture(scope="module")
def exporter(town: Town, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = (tmp_path_factory.mktemp("exporter") / "exporter.log").open("w")
    proc = subprocess.Popen(
        [
            *(str(BIN / "camfleet"), "exporter", "--config", "exporters/camfleet.yml", "--inventory", str(TOWN)),
            *("--listen", "127.0.0.1:0", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env={**os.environ, "CAMFLEET_OVERLAY": str(town.overlay)},
        stdout=subprocess.PIPE,
        stderr=log,  # a file, not a pipe nobody reads: the exporter must never block on its log
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("listening on "), f"exporter did not start: {line!r}; see {log.name}"
        yield line.split()[-1].removeprefix("http://")
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def stack(town: Town, exporter: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "alerts.yml").write_text(
        render_rules(for_overrides={"stream_down": GRACE, "stream_frozen": GRACE, "link_down": GRACE}),
        encoding="utf-8",
    )
    config = render_prometheus_config(
        exporter, town="ngoc-lac", jobs=JOBS, scrape_interval="2s", evaluation_interval="2s", sd_refresh_interval="5s"
    )
    (folder / "prometheus.yml").write_text(config, encoding="utf-8")
    with running_prometheus(folder) as client:
        s = Stack(town, exporter, client)
        # Every camera scraped at least once and healthy (the faults below start from a clean town).
        # Cameras mounted but not provisioned have no login yet: /sd leaves them out.
        sd = httpx.get(f"http://{exporter}/sd?module=stream", timeout=5).json()
        commissioned = sum(1 for g in sd if town.fleet.cameras[g["targets"][0]].status.value == "commissioned")
        wait_for(
            f"{len(sd)} stream probes, {commissioned} healthy",
            lambda: (
                s.value('count(camfleet_probe_success{module="stream"})') == len(sd)
                and s.value('count(camfleet_probe_success{module="stream"} == 1)') == commissioned
            ),
            PATIENCE,
        )
        yield s


def test_frozen_camera_pages_stream_frozen_then_resolves(stack: Stack) -> None:
    camera = "cam-01-t02"
    assert stack.alert_states("StreamFrozen", instance=camera) == set()
    stack.town.fault(camera, "frozen")
    seen: list[str] = []

    def firing() -> bool:
        states = stack.alert_states("StreamFrozen", instance=camera)
        seen.extend(sorted(states))
        return "firing" in states

    try:
        wait_for("StreamFrozen firing", firing, PATIENCE)
        assert "pending" in seen, f"StreamFrozen fired without being pending first: {seen}"
        assert seen.index("pending") < seen.index("firing")
        # Frozen is its own alert: the same camera does not also page StreamDown.
        assert stack.alert_states("StreamDown", instance=camera) == set()
        alert = next(a for a in stack.alerts() if a["labels"]["alertname"] == "StreamFrozen")
        assert alert["labels"]["link_router"] and alert["labels"]["site"] == "kp-01"
        assert alert["annotations"]["runbook_vi"] and alert["annotations"]["runbook_en"]
    finally:
        stack.town.fault(camera, "frozen", "--clear")
    wait_for("StreamFrozen resolved", lambda: not stack.alert_states("StreamFrozen", instance=camera), PATIENCE)
    wait_for(
        f"{camera} streaming again",
        lambda: stack.value(f'camfleet_probe_success{{module="stream", instance="{camera}"}}') == 1,
        PATIENCE,
    )


def test_link_down_pages_once_and_holds_back_its_cameras(stack: Stack) -> None:
    router = "lr-03-01"
    behind = sorted(
        c.id
        for c in stack.town.fleet.cameras.values()
        if (link := stack.town.fleet.links.get(c.network.link or "")) and link.router == router
    )
    assert len(behind) >= 2
    stack.town.fault(router, "link_down")
    stream_down_states: set[str] = set()

    seen: list[tuple[float | None, frozenset[str]]] = []  # (link probe value, LinkDown states) per poll

    def link_firing() -> bool:
        for cam in behind:
            stream_down_states.update(stack.alert_states("StreamDown", instance=cam))
        states = stack.alert_states("LinkDown", instance=router)
        seen.append((stack.value(f'camfleet_probe_success{{module="link", instance="{router}"}}'), frozenset(states)))
        return "firing" in states

    try:
        try:
            wait_for("LinkDown firing", link_firing, PATIENCE)
        except pytest.fail.Exception as exc:
            raise AssertionError(f"{exc}; (link probe, LinkDown states) seen: {sorted(set(seen), key=str)}") from None
        # Longer than StreamDown's grace: it would have fired by now if the rules did not hold it back.
        hold = time.monotonic() + 8
        while time.monotonic() < hold:
            link_firing()
            time.sleep(0.5)
        for cam in behind:
            # The cameras really are down (the control): only the rule keeps them quiet.
            expr = f'camfleet_probe_success{{module="stream", instance="{cam}"}}'
            wait_for(f"{cam} failing behind {router}", lambda expr=expr: stack.value(expr) == 0, PATIENCE)
        assert "firing" not in stream_down_states, f"cameras behind {router} paged on their own"
        assert stack.alert_states("StreamDown", instance=behind[0]) == set()
        link_alerts = [a for a in stack.alerts() if a["labels"]["alertname"] == "LinkDown"]
        assert [a["labels"]["instance"] for a in link_alerts] == [router], "one page for the outage"
    finally:
        stack.town.fault(router, "link_down", "--clear")
    wait_for("LinkDown resolved", lambda: not stack.alert_states("LinkDown", instance=router), PATIENCE)


# ---------------------------------------------------------------------- Grafana panel queries

#: Template variables as the dashboards use them, replaced by "everything" (or a short range).
VARIABLES = {
    "town": ".*",  # "All": the station's own series carry no town label (only what it sends the central store does)
    "site": ".*",
    "recorder": ".*",
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "30d",
}


def substitute(expr: str) -> str:
    for name, value in sorted(VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    assert "$" not in re.sub(r'"\$\d"|\$\d', "", expr), f"unsubstituted variable in {expr}"
    return expr


def test_every_dashboard_query_parses_and_returns_data(stack: Stack) -> None:
    from camfleet.config.grafana import DASHBOARDS_DIR, panel_queries

    queries = panel_queries(DASHBOARDS_DIR)
    assert len(queries) >= 10
    pending = dict(queries)

    def all_have_data() -> bool:
        for key, expr in list(pending.items()):
            body = stack.query(substitute(expr))
            assert body["status"] == "success", f"{key}: {expr}: {body}"
            if body["data"]["result"]:
                del pending[key]
        return not pending

    wait_for("data for every panel query", all_have_data, PATIENCE, every=1.0)
    # The map and rollout panels read the exporter's inventory module: every camera not retired.
    listed = sum(1 for c in stack.town.fleet.cameras.values() if c.status.value != "retired")
    assert stack.value("count(camfleet_camera_info)") == listed
    assert stack.value("count(camfleet_camera_latitude_degrees)") == listed
