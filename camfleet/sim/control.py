"""Running the simulated town as a service: the control endpoint and the ``camfleet sim`` commands.

``camfleet sim up`` runs the town in the foreground (Ctrl-C stops it cleanly)
or, with ``--detach``, in a background process with a pid file. A small HTTP
control endpoint on 127.0.0.1 (its address in ``<state>/control.json``) lets
``status``, ``fault`` and ``down`` talk to the running town:

    curl -s $(jq -r .url .state/sim/control.json)/status
    curl -s -XPOST $(jq -r .url .state/sim/control.json)/faults/cam-01-t01 -d '{"fault": "frozen"}'
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from camfleet.sim.faults import Fault
from camfleet.sim.town import SimError, SimTown

CONTROL_FILE = "control.json"
PID_FILE = "sim.pid"
LOG_FILE = "sim.log"
DETACH_TIMEOUT_S = 180.0


def control_app(town: SimTown, stop: asyncio.Event) -> web.Application:
    async def status(_: web.Request) -> web.Response:
        return web.json_response(town.status())

    async def fault(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            name = Fault(body["fault"])
            params = body.get("params") or {}
            if not isinstance(params, dict):
                raise TypeError("params must be a mapping")
        except (ValueError, KeyError, TypeError) as exc:
            known = ", ".join(f.value for f in Fault)
            return web.json_response({"error": f"bad fault request ({exc}); faults: {known}"}, status=400)
        try:
            town.set_fault(request.match_info["device"], name, params, clear=bool(body.get("clear")))
        except SimError as exc:
            status = 400 if request.match_info["device"] in town.devices else 404
            return web.json_response({"error": str(exc)}, status=status)
        await town.sync_listeners()
        return web.json_response(town.devices[request.match_info["device"]].to_status())

    async def power_cycle(request: web.Request) -> web.Response:
        try:
            town.power_cycle(request.match_info["device"])
        except SimError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        await town.sync_listeners()
        return web.json_response(town.devices[request.match_info["device"]].to_status())

    async def swap(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            first, second = str(body["a"]), str(body["b"])
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad swap request ({exc}); give a and b, two camera ids"}, status=400)
        try:
            await town.swap(first, second)
        except SimError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        return web.json_response({d: town.devices[d].address for d in (first, second)})

    async def clock(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if "speed" in body:
                town.clock.set_speed(float(body["speed"]))
            if "advance_s" in body:
                town.clock.advance(float(body["advance_s"]))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad clock request: {exc}"}, status=400)
        return web.json_response({"now": town.clock(), "speed": town.clock.speed})

    async def shutdown(_: web.Request) -> web.Response:
        stop.set()
        return web.json_response({"stopping": True})

    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_post("/faults/{device}", fault)
    app.router.add_post("/power-cycle/{device}", power_cycle)
    app.router.add_post("/clock", clock)
    app.router.add_post("/swap", swap)
    app.router.add_post("/shutdown", shutdown)
    return app


async def run_town(town: SimTown, *, announce: bool = True) -> None:
    """Start the town and its control endpoint, then run until SIGINT/SIGTERM or /shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await town.start()
    # The town's devices, clips and listeners live as long as the process: out of the cyclic collector's walks.
    gc.collect()
    gc.freeze()
    runner = web.AppRunner(control_app(town, stop), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    control = {
        "url": f"http://127.0.0.1:{port}",
        "pid": os.getpid(),
        "ready": True,
        "overlay": str(town.state_dir / "overlay.yml"),
    }
    (town.state_dir / PID_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")
    (town.state_dir / CONTROL_FILE).write_text(json.dumps(control), encoding="utf-8")
    if announce:
        counts: dict[str, int] = {}
        for dev in town.devices.values():
            counts[dev.role] = counts.get(dev.role, 0) + 1
        print(
            f"simulated {town.fleet.town.id}: {counts.get('camera', 0)} cameras, {counts.get('recorder', 0)} recorders, "
            f"{counts.get('router', 0)} link routers on 127.{town.net}-{town.net + 2}.x.y; "
            f"overlay {control['overlay']}; control {control['url']}",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        for name in (CONTROL_FILE, PID_FILE):
            with contextlib.suppress(FileNotFoundError):
                (town.state_dir / name).unlink()
        await runner.cleanup()
        await town.stop()


def running(state_dir: Path) -> dict[str, Any] | None:
    """The control record of a live simulator in ``state_dir``, or None."""
    try:
        control: dict[str, Any] = json.loads((state_dir / CONTROL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _alive(int(control.get("pid", 0))):
        return None
    return control


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours (detach then wait) is not alive.
    with contextlib.suppress(OSError, ValueError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def detach(argv: list[str], state_dir: Path) -> int:
    """Start ``camfleet sim up`` (argv without --detach) in the background; wait until it serves."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "camfleet.cli", *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + DETACH_TIMEOUT_S
    while time.monotonic() < deadline:
        control = running(state_dir)
        if control is not None and control.get("pid") == proc.pid:
            print(f"simulator running (pid {proc.pid}); overlay {control['overlay']}; log {log_path}")
            return 0
        if proc.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            print(f"camfleet sim up: the simulator exited ({proc.returncode}): " + " | ".join(tail), file=sys.stderr)
            return 1
        time.sleep(0.1)
    proc.terminate()
    print(f"camfleet sim up: not serving after {DETACH_TIMEOUT_S:.0f} s; see {log_path}", file=sys.stderr)
    return 1


def request(state_dir: Path, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    control = running(state_dir)
    if control is None:
        raise SimError(
            f"no simulator running with state {state_dir}; start one with 'camfleet sim up TOWN --state {state_dir} --detach'"
        )
    try:
        reply = httpx.request(method, control["url"] + path, json=body, timeout=10.0)
    except httpx.HTTPError as exc:
        raise SimError(f"the simulator's control endpoint did not answer: {exc}") from None
    data: dict[str, Any] = reply.json()
    if reply.status_code >= 400:
        raise SimError(str(data.get("error", reply.text)))
    return data


def shut_down(state_dir: Path, timeout: float = 15.0) -> bool:
    """Stop the simulator of ``state_dir``; False if none was running."""
    control = running(state_dir)
    if control is None:
        return False
    pid = int(control["pid"])
    with contextlib.suppress(SimError):
        request(state_dir, "POST", "/shutdown")
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return True
