"""Beyond one station (issue 14): 2 generated towns simulated on loopback, an exporter per town and shard, 2
Prometheus shards (``hashmod`` over the same /sd) remote-writing into a real VictoriaMetrics.

Every camera is scraped by exactly one shard (the shards' own ``/api/v1/targets``, against
``camfleet.config.prometheus.shard_of``), is in the central store once, and a shard whose link to the store is
cut for a minute leaves no gap in the central series once the link is back (Prometheus' WAL-backed queue
resends, VictoriaMetrics deduplicates).

    .venv/bin/pytest -q -p no:cacheprovider tests/integration/test_province.py
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from camfleet.config.prometheus import Job, shard_of
from tests.integration.province import Province, running_province, vm_query, write_towns

NETS = (235, 238)
SHARDS = 2
INTERVAL_S = 5
JOBS = (Job("stream", f"{INTERVAL_S}s", "4s", "sub stream"), Job("link", f"{INTERVAL_S}s", "4s", "link routers"))
STREAM = 'camfleet_probe_success{module="stream"}'

pytestmark = pytest.mark.slow


def wait_for(what: str, check: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {within:g} s"
        time.sleep(1)


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    work = tmp_path_factory.mktemp("province")
    folders = write_towns(work, len(NETS), 20)
    with running_province(
        work, folders, NETS, shards=SHARDS, jobs=JOBS, scrape_interval=f"{INTERVAL_S}s", dedup=f"{INTERVAL_S}s"
    ) as running:
        wait_for(
            "every camera in VictoriaMetrics",
            lambda: len(vm_query(running.vm, f"last_over_time({STREAM}[30s])")) >= running.total_cameras,
            90,
        )
        yield running


def sd_cameras(province: Province) -> set[tuple[str, str]]:
    """What the towns' exporters offer for the stream module (shard 0's exporters; shard 1's say the same)."""
    out = set()
    for exporter in {e.base for e in province.exporters[0].values()}:
        groups = httpx.get(f"{exporter}/sd", params={"module": "stream"}, timeout=5).json()
        out |= {(g["labels"]["__meta_camfleet_town"], g["labels"]["__param_target"]) for g in groups}
    return out


def test_every_camera_is_scraped_by_one_shard_and_is_in_the_store_once(province: Province) -> None:
    offered = sd_cameras(province)
    assert offered == {(t, c) for t, cams in province.cameras.items() for c in cams}
    assert len(offered) == province.total_cameras >= 30
    for index, prom in enumerate(province.prometheus):
        active = prom.get("/api/v1/targets", params={"state": "active"}).json()["data"]["activeTargets"]
        kept = {
            (t["labels"]["town"], t["labels"]["instance"]) for t in active if t["labels"]["job"] == "camfleet_stream"
        }
        assert kept == {(t, c) for t, c in offered if shard_of(t, c, SHARDS) == index}, f"shard {index}"
        assert 0 < len(kept) < len(offered)
    counts = vm_query(province.vm, f"count by (town, instance) (last_over_time({STREAM}[30s]))")
    seen = {(r["metric"]["town"], r["metric"]["instance"]): int(r["value"][1]) for r in counts}
    assert set(seen) == offered
    assert {k: v for k, v in seen.items() if v != 1} == {}
    shards = vm_query(province.vm, f"count by (shard) (last_over_time({STREAM}[30s]))")
    assert sorted(r["metric"]["shard"] for r in shards) == ["0", "1"]


def raw_samples(vm: httpx.Client, match: str, start: float, end: float) -> dict[tuple[str, str], list[float]]:
    """Every stored sample's time (seconds) per (town, instance), as VictoriaMetrics exports them."""
    resp = vm.get("/api/v1/export", params={"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"})
    assert resp.status_code == 200, resp.text
    out: dict[tuple[str, str], list[float]] = {}
    for line in resp.text.splitlines():
        row = json.loads(line)
        key = (row["metric"]["town"], row["metric"]["instance"])
        out.setdefault(key, []).extend(ts / 1000 for ts in row["timestamps"])
    return {k: sorted(v) for k, v in out.items()}


def test_a_shard_cut_off_from_the_store_for_a_minute_leaves_no_gap(province: Province) -> None:
    cut_s = 60
    match = 'camfleet_probe_success{module="stream",shard="0"}'
    cut_at = time.time()
    province.links[0].cut()
    time.sleep(cut_s / 2)
    # Nothing of shard 0 arrives while it is cut off (the test would prove nothing otherwise).
    during = raw_samples(province.vm, match, cut_at + 2 * INTERVAL_S, time.time())
    assert during == {}, "samples reached the store through a cut link"
    time.sleep(cut_s / 2)
    back_at = time.time()
    province.links[0].restore()
    wait_for(
        "shard 0 caught up",
        lambda: (
            all(
                s and s[-1] > back_at + INTERVAL_S
                for s in raw_samples(province.vm, match, back_at, time.time()).values()
            )
            and len(raw_samples(province.vm, match, back_at, time.time())) > 0
        ),
        60,
    )
    window = (cut_at - 3 * INTERVAL_S, back_at + 3 * INTERVAL_S)
    samples = raw_samples(province.vm, match, *window)
    shard0 = {k for k in sd_cameras(province) if shard_of(*k, SHARDS) == 0}
    assert set(samples) == shard0
    gaps = {k: max(b - a for a, b in itertools.pairwise(ts)) for k, ts in samples.items()}
    assert max(gaps.values()) < 2.5 * INTERVAL_S, sorted(gaps.items(), key=lambda kv: -kv[1])[:3]
    assert all(ts[0] < cut_at and ts[-1] > back_at for ts in samples.values())
    # And as a dashboard sees it: a point at every step of the outage, step = the scrape interval.
    resp = province.vm.get(
        "/api/v1/query_range",
        params={"query": match, "start": f"{cut_at:.0f}", "end": f"{back_at:.0f}", "step": f"{INTERVAL_S}s"},
    )
    steps = int((int(back_at) - int(cut_at)) / INTERVAL_S) + 1
    series = resp.json()["data"]["result"]
    assert len(series) == len(shard0)
    assert {len(s["values"]) for s in series} == {steps}


def test_every_dashboard_query_runs_on_the_central_store_per_town(province: Province) -> None:
    """The committed dashboards, unchanged, against VictoriaMetrics' Prometheus API: every panel query parses and
    runs with "All" towns and with one town, and the streams' queries show that town's cameras only."""
    from camfleet.config.grafana import DASHBOARDS_DIR, panel_queries
    from tests.integration.test_prometheus_alerts import VARIABLES, substitute

    queries = panel_queries(DASHBOARDS_DIR)
    assert len(queries) >= 10 and all('town=~"$town"' in expr for expr in queries.values())
    for town in (".*", "town-1"):
        VARIABLES["town"] = town
        try:
            for key, expr in queries.items():
                resp = province.vm.get("/api/v1/query", params={"query": substitute(expr)})
                assert resp.status_code == 200 and resp.json()["status"] == "success", f"{key}: {resp.text[:300]}"
        finally:
            VARIABLES["town"] = ".*"
    up = next(e for k, e in queries.items() if k.startswith("fleet-overview/Camera có hình / Streams up/"))
    down = next(e for k, e in queries.items() if k.startswith("fleet-overview/Camera mất hình / Streams down/"))
    for town, cameras in province.cameras.items():
        VARIABLES["town"] = town
        try:
            shown = sum(float(vm_query(province.vm, substitute(e))[0]["value"][1]) for e in (up, down))
        finally:
            VARIABLES["town"] = ".*"
        assert shown == len(cameras), town  # the overview's up + down is that town's cameras, no other's
    # With "All" towns a camera is (town, id): every generated town has its own cam-01-t01, kp-01 and lr-01-01, and
    # the per-camera panels keep them apart (before, max by (camera) folded the towns' namesakes into one row).
    ids = [set(cameras) for cameras in province.cameras.values()]
    assert set.intersection(*ids), "the towns share no camera id: this proves nothing"
    expected = {(t, c) for t, cameras in province.cameras.items() for c in cameras}
    health = next(e for k, e in queries.items() if k == "fleet-overview/Camera · sức khỏe / health/HEALTH")
    rows = vm_query(province.vm, substitute(health))
    assert {(r["metric"]["town"], r["metric"]["camera"]) for r in rows} >= expected
    assert len(rows) == len({(r["metric"]["town"], r["metric"]["camera"]) for r in rows})
    link = next(e for k, e in queries.items() if k == "fleet-overview/Camera mất hình lúc này / Cameras dark now/LINK")
    riding = int(vm_query(province.vm, f'count(last_over_time({STREAM[:-1]}, link_router!=""}}[30s]))')[0]["value"][1])
    assert riding > max(len(c) for c in province.cameras.values())
    wait_for("every link router in the store", lambda: len(vm_query(province.vm, substitute(link))) >= riding, 30)
    assert len(vm_query(province.vm, substitute(link))) == riding
    per_town = vm_query(province.vm, f"count by (town) (last_over_time({STREAM}[30s]))")
    assert {r["metric"]["town"]: int(r["value"][1]) for r in per_town} == {
        t: len(c) for t, c in province.cameras.items()
    }


def test_one_exporter_shard_serves_every_town_and_keeps_their_ids_apart(province: Province) -> None:
    """Each shard's exporter serves both towns (``--inventory`` per town): /sd says each target's town for
    Prometheus to send back (``__param_town``); an id both towns have needs it, an unknown town is named."""
    exporter = next(iter(province.exporters[0].values()))
    assert {id(e) for e in province.exporters[0].values()} == {id(exporter)}
    groups = httpx.get(f"{exporter.base}/sd", params={"module": "stream"}, timeout=5).json()
    assert all(g["labels"]["__param_town"] == g["labels"]["__meta_camfleet_town"] for g in groups)
    shared = sorted(set.intersection(*(set(c) for c in province.cameras.values())))[0]
    for town in province.cameras:
        resp = httpx.get(
            f"{exporter.base}/probe", params={"target": shared, "module": "stream", "town": town}, timeout=10
        )
        assert resp.status_code == 200 and "camfleet_probe_success 1" in resp.text, (town, resp.text[-300:])
    resp = httpx.get(f"{exporter.base}/probe", params={"target": shared, "module": "stream"}, timeout=10)
    assert resp.status_code == 400 and "is in several towns" in resp.text and "add town=" in resp.text
    resp = httpx.get(f"{exporter.base}/probe", params={"target": shared, "module": "stream", "town": "nope"})
    assert resp.status_code == 400 and "unknown town 'nope'" in resp.text
