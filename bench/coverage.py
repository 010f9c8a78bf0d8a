"""Route coverage and the map page on a generated 10,000-camera town, each beside a plain baseline.

    .venv/bin/python bench/coverage.py                 # 10,000 cameras
    .venv/bin/python bench/coverage.py --cameras 2000

Coverage runs pinned to one core (CPU time, best of 3) next to ``json.loads`` of the same cameras and
routes; the map page opens in headless Chromium next to a page that only ``JSON.parse`` s the same
GeoJSON: the time to the first drawing (``performance.now()``, which the page writes into the DOM)
and the whole browser run. Ratios are measured in this run; nothing here gates CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camfleet.cli import main as camfleet  # noqa: E402
from camfleet.inventory import load  # noqa: E402
from camfleet.inventory.coverage import camera_view, coverage  # noqa: E402
from camfleet.inventory.synthetic import write_town  # noqa: E402
from camfleet.reports.pdf import HEADLESS  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PLAIN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>plain</title></head><body>
<script id="town-data" type="application/json">{data}</script>
<script>var d = JSON.parse(document.getElementById("town-data").textContent);
document.body.dataset.features = d.features.length;
document.body.dataset.firstDrawnMs = performance.now().toFixed(1);</script></body></html>
"""


def cpu_best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def browse(page: Path, profile: Path) -> tuple[float, float]:
    """(ms from navigation to the first drawing, seconds of the whole headless run)."""
    start = time.perf_counter()
    out = subprocess.run(
        [
            CHROMIUM,
            *HEADLESS,
            f"--user-data-dir={profile}",
            "--window-size=1280,900",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    wall = time.perf_counter() - start
    found = re.search(r'data-first-drawn-ms="([0-9.]+)"', out.stdout)
    if found is None:
        raise SystemExit(f"{page}: the page drew nothing")
    return float(found.group(1)), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        town = write_town(Path(tmp) / "town", args.cameras)
        fleet = load(town).fleet
        same = json.dumps(
            {
                "cameras": [
                    [
                        c.id,
                        c.status.value,
                        c.location.lat,
                        c.location.lon,
                        c.location.bearing_deg,
                        camera_view(fleet, c).angle_deg,
                        camera_view(fleet, c).range_m,
                    ]
                    for c in fleet.cameras.values()
                ],
                "routes": [[r.id, [list(p) for p in r.points]] for r in fleet.routes.values()],
            }
        )
        result = coverage(fleet)
        segments = sum(len(r.points) - 1 for r in fleet.routes.values())
        t_cov = cpu_best(lambda: coverage(fleet))
        t_json = cpu_best(lambda: json.loads(same), repeat=5)
        print(
            f"town: {len(fleet.cameras):,} cameras, {len(fleet.routes):,} routes ({segments:,} segments, "
            f"{result.length_m / 1000:,.0f} km), covered {result.share:.1%}"
        )
        print(f"coverage (1 core, CPU)     {t_cov:8.3f} s   (budget 5 s)")
        print(f"json.loads of the same     {t_json:8.3f} s   ratio {t_cov / t_json:6.1f}x")

        out = Path(tmp) / "map"
        start = time.process_time()
        camfleet(["map", str(town), "-o", str(out)])
        print(
            f"camfleet map (CPU)         {time.process_time() - start:8.3f} s   "
            f"map.html {(out / 'map.html').stat().st_size / 1e6:.1f} MB"
        )
        if not Path(CHROMIUM).exists():
            print("chromium not installed: page timings skipped")
            return
        # the same GeoJSON the map page carries: town.geojson less the cone polygons (the page draws
        # each cone from its camera's bearing, angle and range)
        geo = json.loads((out / "town.geojson").read_text(encoding="utf-8"))
        geo["features"] = [f for f in geo["features"] if f["properties"]["layer"] != "view"]
        text = json.dumps(geo, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
        plain = out / "plain.html"
        plain.write_text(PLAIN_PAGE.format(data=text), encoding="utf-8")
        print(
            f"town.geojson {(out / 'town.geojson').stat().st_size / 1e6:.1f} MB (with cones), "
            f"inlined in both pages {len(text.encode()) / 1e6:.1f} MB"
        )
        browse(plain, Path(tmp) / "warm")  # the first start of a profile pays for creating it
        runs = {
            name: [browse(page, Path(tmp) / "warm") for _ in range(3)]
            for name, page in (("map", out / "map.html"), ("plain", plain))
        }
        best = {name: (min(r[0] for r in rs), min(r[1] for r in rs)) for name, rs in runs.items()}
        print(f"map page, first drawing    {best['map'][0] / 1000:8.3f} s   (budget 3 s)")
        print(
            f"plain JSON.parse page      {best['plain'][0] / 1000:8.3f} s   ratio {best['map'][0] / best['plain'][0]:6.1f}x"
        )
        print(
            f"headless run, map page     {best['map'][1]:8.3f} s   "
            f"plain {best['plain'][1]:.3f} s   ratio {best['map'][1] / best['plain'][1]:6.1f}x"
        )


if __name__ == "__main__":
    main()
