"""A real Alertmanager (Debian's prometheus-alertmanager) for tests: a minimal config, its own storage folder,
a free loopback port, no cluster; ready when ``/-/ready`` answers, stopped after."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import require_program
from tests.integration.prom import free_port, stop

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
CONFIG = "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n"


@contextmanager
def running_alertmanager(folder: Path, *, ready_within: float = 20) -> Iterator[str]:
    """Alertmanager with data and log in ``folder``; yields its base URL (http://127.0.0.1:PORT)."""
    require_program(ALERTMANAGER, "prometheus-alertmanager")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alertmanager.yml").write_text(CONFIG, encoding="utf-8")
    port = free_port()
    log = (folder / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={folder / 'alertmanager.yml'}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while True:
            assert proc.poll() is None, f"alertmanager exited; see {log.name}"
            try:
                if httpx.get(f"{url}/-/ready", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"alertmanager not ready within {ready_within} s; see {log.name}"
            time.sleep(0.1)
        yield url
    finally:
        stop(proc)
        log.close()


def silences(url: str) -> list[dict[str, Any]]:
    """Every silence Alertmanager holds (active, pending and expired)."""
    reply = httpx.get(f"{url}/api/v2/silences", timeout=5, trust_env=False)
    reply.raise_for_status()
    return list(reply.json())
