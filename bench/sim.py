"""One simulator process holding 1,000 cameras: startup, memory, and RTSP round trips under load.

    .venv/bin/python bench/sim.py                     # 1,000 simulated cameras, 200 concurrent clients
    .venv/bin/python bench/sim.py --cameras 300 --clients 100

The simulated town runs in its own process (as `camfleet sim up` does) on
127.90-92.x.y with mapped ports; the clients run here, each against a different
camera. Printed side by side: DESCRIBE round trips and first-keyframe times
with 1 client (the floor) and with N concurrent clients, their ratio, and the
simulator's CPU and memory. Nothing here gates CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from camfleet.inventory import load  # noqa: E402
from camfleet.inventory.synthetic import TOWN_SHARE, write_town  # noqa: E402
from camfleet.probes.rtsp import probe_stream  # noqa: E402

PASSWORD = "Bench-pass-2024"  # noqa: S105 - the synthetic town's only password, loopback only
NET = 90


def credentials(folder: Path) -> dict[str, dict[str, str]]:
    fleet = load(folder).fleet
    ids = [*fleet.cameras, *fleet.recorders, *fleet.link_routers]
    return {i: {"username": "admin", "password": PASSWORD} for i in ids}


def serve(folder: Path, state: Path) -> None:
    """Child process: run the simulated town until killed; write the startup time when serving."""
    from camfleet.sim.control import run_town
    from camfleet.sim.town import MAPPED_PORTS, SimTown

    start = time.perf_counter()
    fleet = load(folder).fleet
    town = SimTown(fleet, credentials(folder), state, net=NET, ports=MAPPED_PORTS, prefill_days=30)

    async def main() -> None:
        task = asyncio.create_task(run_town(town, announce=False))
        while not (state / "control.json").exists():
            await asyncio.sleep(0.05)
        (state / "ready.json").write_text(json.dumps({"startup_s": time.perf_counter() - start}))
        await task

    asyncio.run(main())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def burst(urls: list[str]) -> tuple[list[float], list[float], int]:
    results = await asyncio.gather(
        *(probe_stream(u, "admin", PASSWORD, timeout=10, frames=1, measure_s=0) for u in urls)
    )
    describe = [r.describe_s for r in results if r.success and r.describe_s is not None]
    first = [r.time_to_first_frame_s for r in results if r.success and r.time_to_first_frame_s is not None]
    return describe, first, sum(1 for r in results if not r.success)


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=1000, help="simulated (town) cameras")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--serve", nargs=2, metavar=("TOWN", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), Path(args.serve[1]))
        return 0

    with tempfile.TemporaryDirectory(prefix="camfleet-bench-sim-") as tmp:
        work = Path(tmp)
        os.environ["CAMFLEET_CACHE_DIR"] = str(work / "cache")
        folder = write_town(work / "town", int(args.cameras / TOWN_SHARE) + 1)
        fleet = load(folder).fleet
        state = work / "state"
        state.mkdir()
        child = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), str(state)], cwd=ROOT)
        try:
            while not (state / "ready.json").exists():
                if child.poll() is not None:
                    print("the simulator exited early", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            startup = json.loads((state / "ready.json").read_text())["startup_s"]
            overlay = yaml.safe_load((state / "overlay.yml").read_text())
            cams = [c for c in fleet.cameras.values() if c.id in overlay["devices"] and c.kind.value == "town"]
            port = overlay["devices"][cams[0].id]["rtsp_port"]
            urls = [f"rtsp://{overlay['devices'][c.id]['address']}:{port}/Streaming/Channels/102" for c in cams]
            idle_cpu0 = cpu_seconds(child.pid)
            time.sleep(5)
            idle_cpu = (cpu_seconds(child.pid) - idle_cpu0) / 5
            print(
                f"simulated: {len(cams)} cameras, {len(fleet.recorders)} recorders, {len(fleet.link_routers)} link routers"
            )
            print(f"  startup (load + clips + 30 days of recorder prefill + bind)   {startup:7.2f} s")
            print(f"  memory (RSS)                                                 {rss_mib(child.pid):7.0f} MiB")
            print(f"  idle CPU                                                     {idle_cpu * 100:7.1f} % of a core")

            single_d, single_f = [], []
            for url in urls[:5]:  # one client at a time: the floor
                d, f, _ = asyncio.run(burst([url]))
                single_d, single_f = single_d + d, single_f + f
            n = min(args.clients, len(urls))
            cpu0, wall0 = cpu_seconds(child.pid), time.perf_counter()
            many_d, many_f, failed = asyncio.run(burst(urls[:n]))
            wall, cpu = time.perf_counter() - wall0, cpu_seconds(child.pid) - cpu0
            print(f"{n} concurrent clients, each on its own camera (sub stream), vs 1 client:")
            print(
                f"  DESCRIBE round trip  p50 {pct(many_d, 0.5):6.1f} ms  p95 {pct(many_d, 0.95):6.1f} ms   "
                f"(1 client {statistics.median(single_d) * 1000:5.1f} ms, ratio {pct(many_d, 0.5) / (statistics.median(single_d) * 1000):4.1f}x)"
            )
            print(
                f"  first keyframe       p50 {pct(many_f, 0.5):6.1f} ms  p95 {pct(many_f, 0.95):6.1f} ms   "
                f"(1 client {statistics.median(single_f) * 1000:5.1f} ms, ratio {pct(many_f, 0.5) / (statistics.median(single_f) * 1000):4.1f}x)"
            )
            print(f"  failed {failed}; burst wall {wall:.2f} s; simulator CPU {cpu:.2f} s")
        finally:
            child.terminate()
            child.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
