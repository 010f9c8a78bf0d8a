"""A province on loopback: generated towns, exporter shards, Prometheus shards and VictoriaMetrics (issue 14).

    .venv/bin/python bench/province.py                                   # 10,000 cameras, 5 towns, 2 shards, 60 s
    .venv/bin/python bench/province.py --cameras 1000 --towns 2 --minutes 2   # what fits a 2-core machine in ~5 min

One run: ``--towns`` generated towns (``camfleet.inventory.synthetic``, ``--cameras`` in total) each simulated
by its own ``camfleet sim up`` on 127.<net>-<net+2>.x.y (``--nets``); ``--shards`` exporter shards (each one process
serving every town, ``--inventory`` per town; ``--exporter-per-town``: an exporter per town and shard, as before)
each scraped by its own Prometheus (``render_prometheus_config(shard=...)``): every stream,
recorder and link probed once per ``--interval``, targets asked of the exporters every minute as at a station
(``monitoring_sd_refresh_interval``; the tests ask every 5 s), remote-written into one VictoriaMetrics
(``tests/integration/province.py`` starts them all). After one interval of warm-up it measures for ``--minutes``
and prints, side by side:

- the exporters' CPU in total (cores, from ``/proc/<pid>/stat``) and per probe (their own
  ``camfleet_exporter_probes_total``), next to the single-station figure: one exporter of one town, not scraped by
  anyone, answering a burst of stream probes of the same cameras, as ``bench/exporter.py`` measures it;
- scrape success (``up`` of every job, from the central store) and probe success;
- every camera's series in the central store, once (none missing, none twice);
- the fleet overview's queries over the whole province, timed from the store; the heaviest one.

Goals of the issue (at 10,000 cameras, 60 s): exporter CPU ≤ 0.5 core, scrape success ≥ 99.9 %, every camera
in the store, the heaviest overview query ≤ 1 s. Printed as PASS/MISS; nothing here gates CI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camfleet.config.grafana import DASHBOARDS_DIR, panel_queries  # noqa: E402
from camfleet.config.prometheus import Job  # noqa: E402
from tests.integration.province import Exporter, Province, running_province, vm_query, write_towns  # noqa: E402
from tests.integration.test_prometheus_alerts import substitute  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
MONITORING_DEFAULTS = yaml.safe_load(
    (ROOT / "roles" / "monitoring" / "defaults" / "main.yml").read_text(encoding="utf-8")
)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


GROUPS = ("exporters", "simulators", "prometheus", "victoria-metrics")


def cpu_by_group(work: Path) -> dict[str, float]:
    """CPU-seconds so far of this run's processes (every one names ``work`` on its command line), by group."""
    out = dict.fromkeys(GROUPS, 0.0)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            if str(work) not in " ".join(argv):
                continue
            spent = cpu_s(int(proc.name))
        except (OSError, ValueError):
            continue  # gone meanwhile
        name = Path(argv[0]).name
        if "victoria-metrics" in name:
            out["victoria-metrics"] += spent
        elif name == "prometheus":
            out["prometheus"] += spent
        elif "exporter" in argv:
            out["exporters"] += spent
        elif "sim" in argv:
            out["simulators"] += spent
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, all) jiffies of every core so far, from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def probes_total(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("camfleet_exporter_probes_total")
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


async def burst(base: str, cameras: list[str], concurrency: int = 50) -> int:
    """Every camera's stream probed once, ``concurrency`` at a time; how many answered success."""
    limit = asyncio.Semaphore(concurrency)
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "10"}

    async def one(client: httpx.AsyncClient, camera: str) -> bool:
        async with limit:
            resp = await client.get("/probe", params={"target": camera, "module": "stream"}, headers=headers)
            return resp.status_code == 200 and "camfleet_probe_success 1" in resp.text

    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:
        return sum(await asyncio.gather(*(one(client, c) for c in cameras)))


def single_station(work: Path, folder: Path, overlay: Path, cameras: list[str]) -> tuple[float, int]:
    """CPU-seconds per stream probe of one exporter of one town answering a burst (nothing else scrapes it)."""
    exporter = Exporter(folder, overlay, work / "exporter-single.log")
    try:
        asyncio.run(burst(exporter.base, cameras[:20]))  # warm: imports, first connections
        before, n0 = cpu_s(exporter.pid), probes_total(exporter.base)
        ok = asyncio.run(burst(exporter.base, cameras))
        spent, probes = cpu_s(exporter.pid) - before, probes_total(exporter.base) - n0
    finally:
        exporter.stop()
    return spent / max(probes, 1), ok


def wait_for_store(province: Province, within: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < within:
        try:
            seen = vm_query(province.vm, 'count(last_over_time(camfleet_probe_success{module="stream"}[5m]))')
        except httpx.TimeoutException:  # the store busy registering 10,000s of new series: ask again
            continue
        if seen and int(seen[0]["value"][1]) >= province.total_cameras:
            break
        time.sleep(5)
    return time.monotonic() - start


def time_queries(vm: httpx.Client, repeats: int = 5) -> list[tuple[float, str]]:
    """Median wall time of each fleet-overview panel query over the whole province (town and site: All)."""
    out = []
    for key, expr in panel_queries(DASHBOARDS_DIR).items():
        if not key.startswith("fleet-overview/"):
            continue
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            resp = vm.get("/api/v1/query", params={"query": substitute(expr)})
            times.append(time.perf_counter() - t)
            assert resp.status_code == 200, resp.text
        out.append((statistics.median(times), key))
    return sorted(out, reverse=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cameras", type=int, default=10_000, help="cameras in the whole province")
    p.add_argument("--towns", type=int, default=5)
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--exporter-per-town", action="store_true", help="an exporter per town and shard, not per shard")
    p.add_argument("--interval", type=int, default=60, help="seconds between two probes of a device")
    p.add_argument("--minutes", type=float, default=3, help="measured window, after one interval of warm-up")
    p.add_argument("--nets", default="235,238,241,244,247", help="--net bases, one per town")
    p.add_argument("--work", type=Path, help="keep the files here (default: a temporary folder)")
    args = p.parse_args()
    nets = [int(n) for n in args.nets.split(",")]
    if args.towns > len(nets):
        p.error(f"{args.towns} towns need {args.towns} --nets bases")
    work = args.work or Path(tempfile.mkdtemp(prefix="camfleet-province-"))
    work.mkdir(parents=True, exist_ok=True)
    interval = f"{args.interval}s"
    jobs = tuple(
        Job(module, interval, f"{min(timeout, args.interval)}s", module)
        for module, timeout in (("stream", 10), ("recorder", 30), ("link", 5))
    )
    t0 = time.monotonic()
    folders = write_towns(work, args.towns, args.cameras // args.towns)
    print(f"{args.towns} towns written in {time.monotonic() - t0:.1f} s ({work})")
    with running_province(
        work,
        folders,
        nets,
        shards=args.shards,
        exporter_per_town=args.exporter_per_town,
        jobs=jobs,
        scrape_interval=interval,
        dedup=interval,
        max_backoff="30s",
        sd_refresh=MONITORING_DEFAULTS["monitoring_sd_refresh_interval"],  # a station's, not the tests' 5 s
    ) as province:
        print(f"province up: {province.total_cameras} cameras, {args.shards} shards, {time.monotonic() - t0:.0f} s")
        town = next(iter(folders))
        overlay = work / f"state-{town}" / "overlay.yml"
        per_probe_single, single_ok = single_station(work, folders[town], overlay, province.cameras[town])
        waited = wait_for_store(province, 3 * args.interval)
        print(f"every camera in the store after {waited:.0f} s more; measuring {args.minutes:g} min")
        exporters = list({id(e): e for shard in province.exporters for e in shard.values()}.values())
        start = time.monotonic()
        cpu0 = sum(cpu_s(e.pid) for e in exporters)
        n0 = sum(probes_total(e.base) for e in exporters)
        groups0, busy0 = cpu_by_group(work), machine_busy()
        time.sleep(args.minutes * 60)
        elapsed = time.monotonic() - start
        cpu = sum(cpu_s(e.pid) for e in exporters) - cpu0
        groups1, busy1 = cpu_by_group(work), machine_busy()
        probes = sum(probes_total(e.base) for e in exporters) - n0
        window, at = f"{int(elapsed)}s", {"time": f"{time.time():.3f}"}
        up, stream = 'up{job=~"camfleet_.*"}', 'camfleet_probe_success{module="stream"}'
        ratio = "sum(sum_over_time({0}[{1}])) / sum(count_over_time({0}[{1}]))"
        scrape_ratio = float(vm_query(province.vm, ratio.format(up, window), **at)[0]["value"][1])
        stream_ratio = float(vm_query(province.vm, ratio.format(stream, window), **at)[0]["value"][1])
        stream_scrapes = float(vm_query(province.vm, f"sum(count_over_time({stream}[{window}]))", **at)[0]["value"][1])
        counts = vm_query(
            province.vm, 'count by (town, instance) (last_over_time(camfleet_probe_success{module="stream"}[5m]))'
        )
        queries = time_queries(province.vm)
    seen = {(r["metric"]["town"], r["metric"]["instance"]): int(r["value"][1]) for r in counts}
    expected = {(t, c) for t, cams in province.cameras.items() for c in cams}
    twice = sum(1 for v in seen.values() if v > 1)
    scale = 10_000 / province.total_cameras * args.interval / 60  # the same probes per camera per 60 s
    cores = cpu / elapsed
    print()
    print(f"{'':34}{'province, sharded':>20}{'single station':>18}")
    print(f"{'exporter CPU per probe (ms)':34}{cpu / max(probes, 1) * 1000:>20.2f}{per_probe_single * 1000:>18.2f}")
    print(f"{'probes measured':34}{probes:>20.0f}{len(province.cameras[town]):>18}")
    print(
        f"exporter CPU, all {len(exporters)} exporters: {cores:.3f} cores over {elapsed:.0f} s "
        f"({probes / elapsed:.1f} probes/s); scaled to 10,000 cameras at 60 s: {cores * scale:.2f} cores "
        f"{verdict(cores * scale <= 0.5)} (goal ≤ 0.5)"
    )
    print(f"scrape success (up, every job): {scrape_ratio:.4%} {verdict(scrape_ratio >= 0.999)} (goal ≥ 99.9 %)")
    print(
        f"stream probe success: {stream_ratio:.2%} of {stream_scrapes:.0f} stream scrapes"
        f" (single station burst: {single_ok}/{len(province.cameras[town])})"
    )
    print(
        f"cameras in the central store: {len(set(seen) & expected)}/{len(expected)}, missing "
        f"{len(expected - set(seen))}, twice {twice} {verdict(set(seen) == expected and twice == 0)}"
    )
    busy = (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1)
    print(
        f"where the machine's {os.cpu_count()} cores went ({busy:.0%} busy): "
        + ", ".join(f"{g} {(groups1[g] - groups0[g]) / elapsed:.2f}" for g in GROUPS)
        + " cores (the simulated cameras are real devices in a province: their share is the bench's, not camfleet's)"
    )
    heaviest, which = queries[0]
    print(
        f"fleet overview queries from the store ({len(queries)}, median of 5): heaviest {heaviest * 1000:.0f} ms "
        f"({which}) {verdict(heaviest <= 1.0)} (goal ≤ 1 s at 10,000 cameras; here {province.total_cameras})"
    )
    for spent, key in queries[1:4]:
        print(f"    {spent * 1000:7.0f} ms  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
