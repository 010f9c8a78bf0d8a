"""A real Prometheus for the integration tests: started on a free loopback port over a folder holding
``prometheus.yml`` (and whatever it names), ready when ``/-/ready`` answers, stopped after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def running_prometheus(folder: Path, *, ready_within: float = 30) -> Iterator[httpx.Client]:
    """Prometheus on ``folder/prometheus.yml`` (data and log in ``folder``); a client of its HTTP API."""
    port = free_port()
    log = (folder / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=log,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5, trust_env=False)
    try:
        deadline = time.monotonic() + ready_within
        while True:
            assert proc.poll() is None, f"prometheus exited; see {log.name}"
            try:
                if client.get("/-/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"Prometheus not ready within {ready_within:g} s; see {log.name}"
            time.sleep(0.3)
        yield client
    finally:
        client.close()
        stop(proc)
        log.close()
