"""A province on loopback for the scale tests and ``bench/province.py``: generated towns simulated with the real
``camfleet sim up``, an exporter per town and shard, N Prometheus shards (``render_prometheus_config(shard=...)``)
remote-writing into a real VictoriaMetrics, through a TCP proxy that can cut a shard's link to the store.

Every address is loopback: the towns on 127.<net>-<net+2>.x.y, the services on 127.0.0.1 free ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from camfleet.config.prometheus import Job, RemoteWrite, Shard, render_prometheus_config
from camfleet.inventory import load
from camfleet.inventory.synthetic import DEMO_PASSWORD_FILE, simulable_town
from tests.conftest import BIN, ROOT
from tests.integration.prom import free_port, running_prometheus, stop
from tests.integration.simtown import running_town

VICTORIA_METRICS = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


@contextmanager
def running_victoria_metrics(folder: Path, *, dedup: str, ready_within: float = 30) -> Iterator[httpx.Client]:
    """VictoriaMetrics single-node on a free loopback port, deduplicating samples closer than ``dedup``
    (a resent sample, an HA pair); queries see the newest samples at once (no 30 s latency offset, no cache)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (folder / "victoria-metrics.log").open("w")
    proc = subprocess.Popen(
        [
            VICTORIA_METRICS,
            f"-storageDataPath={folder / 'data'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-dedup.minScrapeInterval={dedup}",
            "-search.latencyOffset=0s",
            "-search.disableCache",
            "-loggerLevel=WARN",
        ],
        stdout=log,
        stderr=log,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False)
    try:
        deadline = time.monotonic() + ready_within
        while True:
            assert proc.poll() is None, f"victoria-metrics exited; see {log.name}"
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"VictoriaMetrics not ready within {ready_within:g} s; see {log.name}"
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        stop(proc)
        log.close()


class CuttableLink:
    """A TCP proxy on 127.0.0.1 to ``upstream`` (HOST:PORT); :meth:`cut` drops every connection and refuses new
    ones (what a station whose uplink died sees), :meth:`restore` lets them through again."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.open = True
        self._lock = threading.Lock()
        self._live: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._live += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        for s in (src, dst):
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self._lock:
            live, self._live = self._live, []
        for s in live:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.listener.close()


class Exporter:
    """``camfleet exporter`` on a free loopback port over one town, or several (``folder`` and ``overlay`` lists:
    an exporter shard of a province), the towns' simulator overlays in its env."""

    def __init__(self, folder: Path | Sequence[Path], overlay: Path | Sequence[Path], log: Path) -> None:
        folders = [folder] if isinstance(folder, Path) else list(folder)
        overlays = [overlay] if isinstance(overlay, Path) else list(overlay)
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [
                *(str(BIN / "camfleet"), "exporter", "--config", str(ROOT / "exporters" / "camfleet.yml")),
                *(arg for f in folders for arg in ("--inventory", str(f))),
                *("--listen", "127.0.0.1:0", "--log-level", "warning"),
                *("--vault-password-file", str(folders[0] / DEMO_PASSWORD_FILE)),  # the same for every town here
            ],
            cwd=ROOT,
            env={**os.environ, "CAMFLEET_OVERLAY": os.pathsep.join(str(o) for o in overlays)},
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the exporter did not start: {log.read_text()[-2000:]}")
        self.base = line.split()[-1]
        self.address = self.base.split("://", 1)[1].rstrip("/")
        self.pid = self.proc.pid

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


@dataclass
class Province:
    """What :func:`running_province` started: the towns' cameras, the exporters per shard, the Prometheus
    clients per shard, VictoriaMetrics, the cuttable links (one per shard) and the shards' config folders."""

    cameras: dict[str, list[str]]  # town id -> its stream-probed cameras
    exporters: list[dict[str, Exporter]]  # per shard: town id -> its exporter (one exporter may serve every town)
    prometheus: list[httpx.Client]
    vm: httpx.Client
    links: list[CuttableLink]
    sim_pids: list[int] = field(default_factory=list)

    @property
    def total_cameras(self) -> int:
        return sum(len(c) for c in self.cameras.values())


def vm_query(vm: httpx.Client, expr: str, **params: Any) -> list[dict[str, Any]]:
    resp = vm.get("/api/v1/query", params={"query": expr, **params})
    assert resp.status_code == 200, resp.text
    result: list[dict[str, Any]] = resp.json()["data"]["result"]
    return result


def write_towns(work: Path, towns: int, cameras_per_town: int) -> dict[str, Path]:
    """Generated towns ``town-1`` … with about ``cameras_per_town`` town cameras each."""
    return {
        f"town-{k + 1}": simulable_town(work / f"town-{k + 1}", cameras_per_town, town_id=f"town-{k + 1}")
        for k in range(towns)
    }


@contextmanager
def running_province(
    work: Path,
    folders: dict[str, Path],
    nets: Sequence[int],
    *,
    shards: int,
    jobs: Sequence[Job],
    scrape_interval: str,
    dedup: str,
    max_backoff: str = "2s",
    sd_refresh: str = "5s",
    exporter_per_town: bool = False,
) -> Iterator[Province]:
    """Every town simulated (``nets[k]`` for town k), an exporter per town and shard, ``shards`` Prometheus
    remote-writing through their own :class:`CuttableLink` into one VictoriaMetrics. ``sd_refresh``: how often
    Prometheus asks the exporters for targets (tests: 5 s, to follow changes quickly; a station: the role's 1m).
    Each shard has one exporter serving every town (``--inventory`` per town), or with ``exporter_per_town``
    an exporter per town and shard."""
    if len(nets) < len(folders):
        raise ValueError("one --net base per town")
    vault = ("--vault-password-file",)
    with ExitStack() as stack:
        cameras: dict[str, list[str]] = {}
        overlays: dict[str, Path] = {}
        for (town, folder), net in zip(folders.items(), nets, strict=False):
            sim = stack.enter_context(
                running_town(
                    work / f"state-{town}",
                    net,
                    "--prefill-days",
                    "0",
                    *vault,
                    str(folder / DEMO_PASSWORD_FILE),
                    folder=folder,
                )
            )
            overlays[town] = sim.overlay
            fleet = load(folder, overlay=False).fleet
            cameras[town] = sorted(c.id for c in fleet.cameras.values() if c.is_managed and c.network.address)
        vm = stack.enter_context(running_victoria_metrics(work / "vm", dedup=dedup))
        vm_address = str(vm.base_url).split("://", 1)[1].rstrip("/")
        exporters: list[dict[str, Exporter]] = []
        prometheus: list[httpx.Client] = []
        links: list[CuttableLink] = []
        for index in range(shards):
            if exporter_per_town:
                mine = {
                    town: Exporter(folders[town], overlays[town], work / f"exporter-{town}-{index}.log")
                    for town in folders
                }
            else:
                shared = Exporter(list(folders.values()), list(overlays.values()), work / f"exporter-{index}.log")
                mine = dict.fromkeys(folders, shared)
            exporters.append(mine)
            for exporter in {id(e): e for e in mine.values()}.values():
                stack.callback(exporter.stop)
            link = CuttableLink(vm_address)
            stack.callback(link.close)
            links.append(link)
            folder = work / f"prometheus-{index}"
            folder.mkdir()
            (folder / "prometheus.yml").write_text(
                render_prometheus_config(
                    "",
                    town="province",
                    rule_files=(),
                    jobs=jobs,
                    scrape_interval=scrape_interval,
                    evaluation_interval=scrape_interval,
                    sd_refresh_interval=sd_refresh,
                    exporters={town: e.address for town, e in mine.items()},
                    shard=Shard(index, shards),
                    remote_write=RemoteWrite(
                        f"http://{link.address}/api/v1/write",
                        batch_send_deadline="1s",
                        min_backoff="500ms",
                        max_backoff=max_backoff,
                    ),
                ),
                encoding="utf-8",
            )
            prometheus.append(stack.enter_context(running_prometheus(folder)))
        yield Province(cameras, exporters, prometheus, vm, links)
