"""Frame-verified stream probe: ours vs ffprobe, on the same simulated cameras, in one run.

    .venv/bin/python bench/stream_probe.py                    # 20 sequential each, burst of 200
    .venv/bin/python bench/stream_probe.py --burst 1000 --sequential 30

The simulated cameras (Hikvision style, sub stream 640x360 H.264 10 fps, GOP 20,
256 kbit/s) run in a separate server process on 127.78.x.y, so the CPU counted
for the probes is the probes' own:

1. ffprobe, one camera after another, reading one decoded frame
   (``-show_entries frame=... -read_intervals %+#1``): CPU of the finished
   children (``getrusage(RUSAGE_CHILDREN)``) and wall time per probe.
2. ``probe_stream`` on the same cameras, one after another: CPU of this process
   (``time.process_time``), with ``measure_s=0`` (stop at the first complete
   keyframe, what ffprobe proves) and with ``measure_s=1`` (fps and bitrate too).
3. A burst of ``--burst`` concurrent probes against as many cameras: wall time,
   this process's CPU and the server process's CPU.

Every number is measured in this run and printed next to its baseline as a
ratio; nothing gates on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from camfleet.probes.rtsp import StreamResult, probe_stream  # noqa: E402
from camfleet.sim.faults import Faults  # noqa: E402
from camfleet.sim.media import StreamSpec, clip_for  # noqa: E402
from camfleet.sim.rtsp import RtspServer, hikvision_resolver  # noqa: E402

MAIN = StreamSpec("h264", 1280, 720, 15, 30, 1024)
SUB = StreamSpec("h264", 640, 360, 10, 20, 256)
USER, PASSWORD = "admin", "Ngoc-Lac-2023"
PATH = "/Streaming/Channels/102"
PORT = 8554


def host_of(i: int) -> str:
    return f"127.78.{i // 250}.{i % 250 + 1}"


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --------------------------------------------------------------------------- the server process


async def serve(count: int) -> None:
    """Start ``count`` cameras, print one ready line, run until stdin closes (the bench exits)."""
    for spec in (MAIN, SUB):
        clip_for(spec)
    resolve = hikvision_resolver(MAIN, SUB)
    servers = [
        RtspServer(host_of(i), PORT, "1868cb21d4df", lambda: {USER: PASSWORD}, resolve, Faults()) for i in range(count)
    ]
    for server in servers:
        await server.start()
    print(json.dumps({"ready": count}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers:
        await server.stop()


class ServerProcess(contextlib.AbstractContextManager["ServerProcess"]):
    def __init__(self, count: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the camera server process did not start")
        self.count = json.loads(line)["ready"]

    def cpu_s(self) -> float:
        """user + system CPU seconds of the server process so far (from /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------- measurements


def url(i: int) -> str:
    return f"rtsp://{host_of(i)}:{PORT}{PATH}"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ffprobe_run(count: int) -> tuple[float, float, int]:
    """(CPU s per probe, wall s per probe, probes that returned a decoded frame)."""
    ok = 0
    cpu0, wall0 = children_cpu(), time.perf_counter()
    for i in range(count):
        creds = url(i).replace("rtsp://", f"rtsp://{USER}:{PASSWORD}@")
        command = [
            *("ffprobe", "-rtsp_transport", "tcp", "-v", "error"),
            *("-show_entries", "frame=pict_type,width,height", "-read_intervals", "%+#1", "-of", "json", creds),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode == 0 and json.loads(result.stdout or "{}").get("frames"):
            ok += 1
    return (children_cpu() - cpu0) / count, (time.perf_counter() - wall0) / count, ok


async def ours_sequential(count: int, measure_s: float, rounds: int) -> tuple[float, float, int, StreamResult]:
    """Median over ``rounds`` of (CPU s per probe, wall s per probe); the first probe (imports, caches) is not timed."""
    last = await probe_stream(url(0), USER, PASSWORD, timeout=5, measure_s=0)
    samples: list[tuple[float, float, int]] = []
    for _ in range(rounds):
        ok = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(count):
            last = await probe_stream(url(i), USER, PASSWORD, timeout=5, measure_s=measure_s)
            ok += last.success
        samples.append(((time.process_time() - cpu0) / count, (time.perf_counter() - wall0) / count, ok))
    cpu, wall, ok = sorted(samples)[len(samples) // 2]
    return cpu, wall, ok, last


async def ours_burst(count: int, measure_s: float, timeout: float) -> tuple[float, float, list[StreamResult]]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = await asyncio.gather(
        *(probe_stream(url(i), USER, PASSWORD, timeout=timeout, measure_s=measure_s) for i in range(count))
    )
    return time.perf_counter() - wall0, time.process_time() - cpu0, list(results)


def _reasons(results: list[StreamResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        key = "ok" if r.success else str(r.reason)
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequential", type=int, default=20, help="cameras probed one by one by each tool")
    parser.add_argument("--burst", type=int, default=200, help="concurrent probes (and cameras), up to 1000")
    parser.add_argument("--burst-timeout", type=float, default=10.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    raise_fd_limit()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if not 1 <= args.burst <= 1000:
        parser.error("--burst must be between 1 and 1000")
    cameras = max(args.burst, args.sequential)
    print(f"starting {cameras} simulated cameras in a server process (sub stream {SUB.width}x{SUB.height} @ {SUB.fps})")
    # Other work on the machine (a test run, another bench) shows up as slow bursts: say what it was.
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    with ServerProcess(cameras) as server:
        n = args.sequential
        ff_cpu, ff_wall, ff_ok = ffprobe_run(n)
        our_cpu, our_wall, our_ok, sample = asyncio.run(ours_sequential(n, 0.0, 5))
        fps_cpu, fps_wall, fps_ok, fps_sample = asyncio.run(ours_sequential(n, 1.0, 1))

        print(f"\n== one camera after another ({n} probes each, sub stream, frame-verified)")
        print(f"{'':34} {'CPU ms/probe':>13} {'wall ms/probe':>14} {'probes/s':>9} {'ok':>5}")
        rows = [
            ("ffprobe (1 decoded frame)", ff_cpu, ff_wall, ff_ok),
            ("probe_stream measure_s=0", our_cpu, our_wall, our_ok),
            ("probe_stream measure_s=1 (fps)", fps_cpu, fps_wall, fps_ok),
        ]
        for name, cpu, wall, ok in rows:
            print(f"{name:34} {cpu * 1e3:13.2f} {wall * 1e3:14.1f} {1 / wall:9.1f} {ok:>3}/{n}")
        print(
            f"CPU ratio ffprobe / ours (keyframe only): {ff_cpu / our_cpu:8.0f}x   (goal >= 100x; median of 5 rounds)"
        )
        print(f"CPU ratio ffprobe / ours (with 1 s fps):  {ff_cpu / fps_cpu:8.0f}x")
        print(f"CPU-bound probes/s on one core: ffprobe {1 / ff_cpu:.0f}, ours {1 / our_cpu:.0f}")
        print(
            f"sample: {sample.codec} {sample.width}x{sample.height} first keyframe {sample.time_to_first_frame_s or 0:.4f}s;"
            f" with window: fps {fps_sample.fps_measured} bitrate {fps_sample.bitrate_bps_measured or 0:.0f} b/s"
        )

        for measure in (0.0, 1.0):
            server_cpu0 = server.cpu_s()
            wall, cpu, results = asyncio.run(ours_burst(args.burst, measure, args.burst_timeout))
            server_cpu = server.cpu_s() - server_cpu0
            ttff = sorted(r.time_to_first_frame_s or 0 for r in results if r.success)
            p50 = ttff[len(ttff) // 2] if ttff else float("nan")
            p99 = ttff[int(len(ttff) * 0.99)] if ttff else float("nan")
            print(f"\n== burst: {args.burst} concurrent probes, measure_s={measure:g}")
            print(
                f"wall {wall:.2f} s, probe CPU {cpu:.2f} s ({cpu / args.burst * 1e3:.2f} ms/probe), server CPU {server_cpu:.2f} s"
            )
            print(f"results: {_reasons(results)}; time to first keyframe p50 {p50:.3f} s, p99 {p99:.3f} s")
            slowest = max(results, key=lambda r: r.duration_s)
            print(
                f"slowest probe {slowest.duration_s:.2f} s (connect {slowest.connect_s or 0:.2f} s,"
                f" OPTIONS+DESCRIBE {slowest.describe_s or 0:.2f} s); max connect"
                f" {max(r.connect_s or 0 for r in results):.2f} s"
            )
            print(
                f"probes/s {args.burst / wall:.0f}; CPU ratio ffprobe / ours {ff_cpu * args.burst / cpu:.0f}x"
                f" (ffprobe would need ~{ff_cpu * args.burst:.1f} CPU-s for the same burst)"
            )


if __name__ == "__main__":
    main()
