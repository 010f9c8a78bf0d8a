"""A simulated town for integration tests: started with the real `camfleet sim up --detach`, stopped after."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from camfleet.drivers import stream_url
from camfleet.inventory import load
from camfleet.inventory.overlay import apply_overlay
from camfleet.inventory.vault import device_credentials
from tests.conftest import BIN, REFERENCE_ANSIBLE_ENV, ROOT, TOWN


def camfleet(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([str(BIN / "camfleet"), *args], capture_output=True, text=True, timeout=240, cwd=ROOT)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def local(root: Any, name: str) -> list[str]:
    """Texts of every element called ``name``, whatever its namespace (devices use several)."""
    return [e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] == name]


class Town:
    def __init__(self, state: Path, folder: Path = TOWN) -> None:
        self.state = state
        self.folder = folder  # the town the simulator runs; playbooks get it as their inventory
        self.overlay = state / "overlay.yml"
        self.fleet = apply_overlay(load(folder, overlay=False).fleet, self.overlay)
        self.creds = device_credentials(folder)

    def status(self) -> dict[str, Any]:
        return json.loads(camfleet("sim", "status", "--state", str(self.state), "--format", "json").stdout)

    def fault(self, device: str, fault: str, *extra: str) -> None:
        camfleet("sim", "fault", device, fault, "--state", str(self.state), *extra)
        time.sleep(0.7)  # servers look at their faults every 0.25-0.5 s

    def address(self, device: str) -> str:
        return str(yaml.safe_load(self.overlay.read_text())["devices"][device]["address"])

    def http(self, device: str) -> httpx.Client:
        cred = self.creds[device]
        return httpx.Client(
            base_url=f"http://{self.address(device)}",
            auth=httpx.DigestAuth(cred["username"], cred["password"]),
            timeout=5,
        )

    def rtsp_url(self, camera: str, sub: bool = False) -> str:
        """The camera's stream URL (camfleet.drivers.stream_url) with its login in it, as ffprobe takes it."""
        cred = self.creds[camera]
        return stream_url(self.fleet, camera, sub=sub).replace(
            "rtsp://", f"rtsp://{cred['username']}:{cred['password']}@", 1
        )


@contextmanager
def running_town(state: Path, net: int, *extra: str, folder: Path = TOWN) -> Iterator[Town]:
    """`camfleet sim up` of ``folder`` on 127.<net>-<net+2>.x.y for the length of the block."""
    camfleet("sim", "up", str(folder), "--state", str(state), "--net", str(net), "--detach", *extra)
    try:
        yield Town(state, folder)
    finally:
        camfleet("sim", "down", "--state", str(state), check=False)


def ansible_env(town: Town) -> dict[str, str]:
    import os

    return {**os.environ, **REFERENCE_ANSIBLE_ENV, "CAMFLEET_OVERLAY": str(town.overlay)}


def playbook(town: Town, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a real playbook against the simulated town (``env`` added to its environment)."""
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(town.folder / "town.camfleet.yml"), f"playbooks/{name}", *args],
        cwd=ROOT,
        env=ansible_env(town) | (env or {}),
        capture_output=True,
        text=True,
        timeout=600,
    )


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP as {host: {ok, changed, unreachable, failed, ...}}."""
    hosts = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        parts = line.split(":", 1)
        if len(parts) == 2 and "=" in parts[1]:
            hosts[parts[0].strip()] = {k: int(v) for k, v in (kv.split("=") for kv in parts[1].split())}
    return hosts


@contextmanager
def running_exporter(
    overlay: Path | str,
    *,
    config: Path = ROOT / "exporters" / "camfleet.yml",
    inventory: Path = TOWN,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """``python -m camfleet.exporter`` on a free loopback port over ``overlay`` for the length of the block
    (``env``: the environment, default this process's); yields its base URL (it prints "listening on URL"
    once it answers)."""

    proc = subprocess.Popen(
        [
            *(str(BIN / "python"), "-m", "camfleet.exporter", "--config", str(config)),
            *("--inventory", str(inventory), "--listen", "127.0.0.1:0"),
        ],
        cwd=ROOT,
        env={**(os.environ if env is None else env), "CAMFLEET_OVERLAY": str(overlay)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line + (proc.stderr.read() if proc.poll() is not None else "")
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
