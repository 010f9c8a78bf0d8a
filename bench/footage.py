"""Export and verify one camera-hour of footage, next to the floor of that work on the same bytes.

    .venv/bin/python bench/footage.py                # one camera, the last whole hour, main stream
    .venv/bin/python bench/footage.py --minutes 20   # a shorter window

One run, side by side, on a simulated copy of the reference town (127.150-152.x.y):

1. **floors**: the recorder's file for the window copied over loopback to disk and ``sha256sum`` of
   it, what any export must at least do: once with ``curl`` (C, the true floor), once with httpx in
   this process (the Python HTTP client the drivers use);
2. **export + verify**: ``camfleet footage export``'s work in this process (request, search,
   download streamed to disk, remux to MP4 and cut with ffmpeg, ffprobe check, manifest,
   signature, SHA256SUMS, zip), then ``verify`` of the package.

Printed: wall time and CPU of each, their ratio (goal ≤ 2×), CPU-s per GB *outside ffmpeg*
(this process; goal ≤ 0.3), and the peak memory growth (goal: flat, no clip in RAM). The footage
is made once before the clock starts (each simulated minute is an ffmpeg run, cached; a 1080p hour
takes about four minutes of two cores the first time, and every hour is new).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from camfleet.drivers.hikvision import _with_times  # noqa: E402
from camfleet.inventory import load  # noqa: E402
from camfleet.inventory.vault import VaultFile, device_credentials  # noqa: E402
from camfleet.jobs import footage  # noqa: E402
from camfleet.jobs.custody import CustodyLog  # noqa: E402
from camfleet.jobs.evidence import SigningKey, verify  # noqa: E402
from camfleet.sim.footage import CLIP_S, minute_clip  # noqa: E402
from camfleet.sim.media import StreamSpec  # noqa: E402

BIN = ROOT / ".venv" / "bin"
NET = 150
CAMERA = "cam-01-t02"
GB = 1e9


def cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="window length in minutes (default 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="camfleet-bench-footage-") as tmp:
        work = Path(tmp)
        folder = work / "ngoc-lac"
        shutil.copytree(ROOT / "inventory" / "ngoc-lac", folder)
        shutil.rmtree(folder / "custody", ignore_errors=True)
        _, seed = SigningKey.generate()
        vault = VaultFile(folder / "vault" / "secrets.yml", folder / "vault-password.DEMO-ONLY")
        vault.update(lambda data: data.__setitem__("vault_footage_signing_key", seed))
        state = work / "sim"
        subprocess.run(
            [str(BIN / "camfleet"), "sim", "up", str(folder), "--state", str(state), "--net", str(NET), "--detach",
             "--prefill-days", "1"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        try:
            return run(folder, state, work, args.minutes)
        finally:
            subprocess.run([str(BIN / "camfleet"), "sim", "down", "--state", str(state)], cwd=ROOT, check=False)


def run(folder: Path, state: Path, work: Path, minutes: int) -> int:
    os.environ["CAMFLEET_OVERLAY"] = str(state / "overlay.yml")
    fleet = load(folder).fleet
    zone = ZoneInfo(fleet.town.timezone)
    # The window ends at the last whole hour: the simulated recorder cuts its files at the hour, so a
    # 60-minute window is exactly one recorder file and both sides move the same bytes.
    end = dt.datetime.now(zone).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(minutes=minutes)
    cam = fleet.cameras[CAMERA]
    assert cam.stream is not None
    p = fleet.profiles[cam.stream.main]
    spec = StreamSpec("h264", p.width, p.height, p.fps, p.gop, p.bitrate_kbps)
    made = time.perf_counter()
    first = int(start.timestamp()) // CLIP_S * CLIP_S
    with ThreadPoolExecutor(2) as pool:  # the sim and this process share the cache; two ffmpeg at a time
        list(pool.map(lambda e: minute_clip(spec, e, fleet.town.timezone), range(first, int(end.timestamp()), CLIP_S)))
    print(f"footage made ready: {minutes} min of {p.width}x{p.height} {p.fps} fps {p.bitrate_kbps} kbit/s "
          f"in {time.perf_counter() - made:.0f} s (not measured)")  # fmt: skip

    creds = device_credentials(folder)
    log = CustodyLog(work / "custody.jsonl")
    selection = footage.Selection(cameras=(CAMERA,))

    def request(case: str) -> footage.Request:
        return footage.request(
            fleet, log, case=case, authority="ca-huyen-ngoc-lac", document="CV 1/BENCH", requested_by="dtv-01",
            approved_by="cb-truong", purpose="benchmark", window_from=start.strftime("%Y-%m-%d %H:%M"),
            window_to=end.strftime("%Y-%m-%d %H:%M"), selection=selection,
        )  # fmt: skip

    req = request("BENCH-FLOOR")
    found = footage.search(fleet, req, creds, log, timeout=30)
    files = found[0].files
    assert files, found[0]

    # ------------------------------------------------------------ 1. floors: the same bytes copied and hashed
    nvr = fleet.endpoint(fleet.cameras[CAMERA].recorder.id)  # type: ignore[union-attr]
    login = creds[fleet.cameras[CAMERA].recorder.id]  # type: ignore[union-attr]
    url = f"http://{nvr.host}:{nvr.http_port}/ISAPI/ContentMgmt/download"
    bodies = []
    for f in files:
        uri = f.handle
        a, b = max(f.start, req.window.start), min(f.end, req.window.end)
        if (a, b) != (f.start, f.end):  # the part in the window, as the export asks for it (by time)
            uri = _with_times(uri, f"{a:%Y-%m-%dT%H:%M:%SZ}", f"{b:%Y-%m-%dT%H:%M:%SZ}")
        bodies.append(f"<downloadRequest><playbackURI>{uri.replace('&', '&amp;')}</playbackURI></downloadRequest>")
    target = work / "floor.ps"

    def floor_httpx() -> int:
        copied = 0
        with (
            target.open("wb") as sink,
            httpx.Client(auth=httpx.DigestAuth(login["username"], login["password"]), timeout=60) as client,
        ):
            for body in bodies:
                with client.stream("GET", url, content=body) as resp:
                    if resp.status_code != 200:
                        raise SystemExit(f"floor download: HTTP {resp.status_code}: {resp.read()[:300]!r}")
                    for chunk in resp.iter_raw():
                        sink.write(chunk)
                        copied += len(chunk)
        return copied

    def floor_curl() -> int:
        # The password goes to curl on its standard input (never on a command line); digest, GET with the body.
        secret = f'user = "{login["username"]}:{login["password"]}"\n'
        with target.open("wb") as sink:
            for body in bodies:
                run = subprocess.run(
                    ["curl", "-sS", "--fail", "--digest", "--config", "-", "-X", "GET", "--data-binary", body, url],
                    input=secret.encode(), stdout=sink, stderr=subprocess.PIPE, check=False,
                )  # fmt: skip
                if run.returncode:
                    raise SystemExit(f"floor download with curl: {run.stderr.decode()[:300]}")
        return target.stat().st_size

    floors = {}
    for name, fetch in (("curl", floor_curl), ("httpx", floor_httpx)):
        self0, kids0, wall0 = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
            time.perf_counter(),
        )
        copied = fetch()
        subprocess.run(["sha256sum", str(target)], check=True, capture_output=True)
        wall = time.perf_counter() - wall0
        used = cpu(resource.getrusage(resource.RUSAGE_SELF)) - cpu(self0)
        used += cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - cpu(kids0)
        floors[name] = (wall, used, copied)
        target.unlink()
    copied = floors["curl"][2]
    assert floors["httpx"][2] == copied, floors

    # ------------------------------------------------------------ 2. export + verify
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    self0, kids0, wall0 = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
        time.perf_counter(),
    )
    req = request("BENCH-EXPORT")
    found = footage.search(fleet, req, creds, log, timeout=30)
    key = SigningKey.from_vault(vault_data(folder))
    package = footage.export(fleet, req, found, creds, work / "usb", key, log, timeout=60)
    export_wall = time.perf_counter() - wall0
    checked = verify(package.folder)
    total_wall = time.perf_counter() - wall0
    own = cpu(resource.getrusage(resource.RUSAGE_SELF)) - cpu(self0)
    ffmpeg = cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - cpu(kids0)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss
    assert checked.intact, checked.problems
    size = sum(c.size_bytes for c in package.clips)

    print(
        f"\none camera, {minutes} min window: recorder files {copied / 1e6:.0f} MB, package clips {size / 1e6:.0f} MB"
    )
    print(f"{'':44} {'wall s':>8} {'CPU s':>8}")
    print(f"{'floor: curl to disk + sha256sum':44} {floors['curl'][0]:8.2f} {floors['curl'][1]:8.2f}")
    print(f"{'floor: httpx (Python) to disk + sha256sum':44} {floors['httpx'][0]:8.2f} {floors['httpx'][1]:8.2f}")
    print(f"{'export (camfleet, in this process)':44} {export_wall:8.2f}")
    print(
        f"{'export + verify':44} {total_wall:8.2f} {own + ffmpeg:8.2f}   (this process {own:.2f}, ffmpeg/ffprobe {ffmpeg:.2f})"
    )
    for name in ("curl", "httpx"):
        ratio = total_wall / floors[name][0]
        print(f"export + verify / {name} floor, wall: {ratio:.2f}x   {'PASS' if ratio <= 2 else 'over'} (goal <= 2x)")
    per_gb = own / (copied / GB)
    # What cannot be avoided outside ffmpeg: SHA-256 of every clip once at export and once more in verify.
    sha = _sha256_cpu_per_gb()
    print(f"CPU outside ffmpeg: {per_gb:.2f} CPU-s per GB   {'PASS' if per_gb <= 0.3 else 'over'} (goal <= 0.3)")
    print(
        f"  of which the two SHA-256 passes (export, verify) cost {2 * sha * size / copied:.2f} "
        f"(SHA-256 here: {sha:.2f} CPU-s per GB); the rest: {per_gb - 2 * sha * size / copied:.2f} CPU-s per GB"
    )
    print(f"peak memory growth during export + verify: {grown / 1024:.1f} MiB (the clips are {size / 2**20:.0f} MiB)")
    return 0


def _sha256_cpu_per_gb() -> float:
    """This machine's SHA-256 cost (hashlib, i.e. OpenSSL), CPU-s per GB: 256 MiB hashed."""
    block, digest = os.urandom(1 << 20), hashlib.sha256()
    t0 = time.process_time()
    for _ in range(256):
        digest.update(block)
    return (time.process_time() - t0) / (256 * (1 << 20) / GB)


def vault_data(folder: Path) -> dict[str, object]:
    return VaultFile(folder / "vault" / "secrets.yml", folder / "vault-password.DEMO-ONLY").read()


if __name__ == "__main__":
    sys.exit(main())
