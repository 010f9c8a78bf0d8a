"""Hostile and lying devices (issue 15, items 2 and 7): every reply is capped and has a total deadline.

Small raw-socket HTTP servers, each on its own random 127.77.x.y address, play a device that sends
an endless chunked body, a 200 MB body (announced, or not and read to the close), a body
trickling a byte every 0.25 s (each byte well inside the read timeout: only a total deadline
ends it), or a digest challenge malformed in one way. Against HikvisionCamera, HikvisionNvr and
DahuaCamera (facts, snapshot, a config read) each ends in one line naming the device and the
path (never a query string or the password), in bounded time; the endless and huge cases run
in a subprocess whose peak RSS is asserted. Then the exporter itself, as a process, probes a
hostile camera and recorder: ``camfleet_probe_success 0`` with ``reason="too_large"`` /
``"malformed"`` inside the scrape timeout, its peak RSS bounded, no traceback in its log.

    .venv/bin/pytest tests/drivers/test_hostile_devices.py -q
"""

from __future__ import annotations

import json
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from camfleet.drivers.base import Driver
from camfleet.drivers.dahua import DahuaCamera
from camfleet.drivers.errors import DeviceTimeout, DriverError, MalformedReply
from camfleet.drivers.hikvision import HikvisionCamera, HikvisionNvr
from tests.conftest import BIN, ROOT, TOWN
from tests.drivers.driver_sim import address
from tests.exporter.test_exporter import value

PASSWORD = "Hostile-Pw-7731"  # must never appear in a message
TIMEOUT = 1.0
#: Peak RSS of a process that met every endless and huge reply (a 200 MB body read whole cost 446 MiB).
RSS_LIMIT_MIB = 150
#: The address space given to the processes under test: code that reads a reply whole stops at this
#: (MemoryError), not at the machine's end. Measured: the client's peak is ~110 MiB, the exporter's ~360 MiB.
CLIENT_AS_LIMIT, EXPORTER_AS_LIMIT = 1 << 30, 2 << 30
MIB = 1 << 20

# --------------------------------------------------------------------------- hostile servers


class Hostile:
    """A device on its own loopback address that answers every request with ``mode``:

    ``endless`` (chunked, never ends), ``huge`` (Content-Length 200 MB, sent fast), ``flood``
    (200 MB without a length, ended by the close), ``trickle`` (a byte every 0.25 s),
    ``digest`` (401 with ``challenge`` as its WWW-Authenticate)."""

    def __init__(self, mode: str, challenge: str = "") -> None:
        self.mode = mode
        self.challenge = challenge
        self.requests: list[str] = []
        self.stop = threading.Event()
        self.sock = socket.create_server((address(), 0))
        self.host, self.port = self.sock.getsockname()[:2]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            try:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
                self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                self._answer(conn)
            except OSError:  # the client gave up on us: that is the point
                return

    def _answer(self, conn: socket.socket) -> None:
        block = b"<x>" + b"A" * (MIB - 3)
        if self.mode == "endless":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (len(block), block)
            while not self.stop.is_set():
                conn.sendall(chunk)
        elif self.mode in ("huge", "flood"):
            length = b"Content-Length: 200000000\r\n" if self.mode == "huge" else b"Connection: close\r\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n" + length + b"\r\n")
            for _ in range(200):
                if self.stop.is_set():
                    return
                conn.sendall(block[:1_000_000])
        elif self.mode == "slow":  # a valid key=value reply, each byte inside the read timeout, 1.2 s in all
            body = b"serialNumber=HOSTILE\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body))
            for byte in body:
                if self.stop.wait(1.2 / len(body)):
                    return
                conn.sendall(bytes([byte]))
        elif self.mode == "trickle":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 50\r\n\r\n")
            for _ in range(50):
                if self.stop.wait(0.25):
                    return
                conn.sendall(b"<")
        else:
            body = b"<html>Document Error: Unauthorized</html>"
            conn.sendall(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: "
                + self.challenge.encode()
                + b"\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body)
                + body
            )


@pytest.fixture
def hostile() -> Iterator[Callable[..., Hostile]]:
    made: list[Hostile] = []

    def make(mode: str, challenge: str = "") -> Hostile:
        made.append(Hostile(mode, challenge))
        return made[-1]

    yield make
    for server in made:
        server.close()


#: Per driver: the calls of the issue (identity, a picture, a configuration read) and where the first one goes.
CALLS: dict[str, tuple[type[Driver], dict[str, Callable[[Any], object]]]] = {
    "hikvision_camera": (
        HikvisionCamera,
        {"facts": lambda d: d.facts(), "snapshot": lambda d: d.snapshot(), "config": lambda d: d.read_config()},
    ),
    "hikvision_nvr": (
        HikvisionNvr,
        {"facts": lambda d: d.facts(), "snapshot": lambda d: d.snapshot(2), "config": lambda d: d.channels()},
    ),
    "dahua_camera": (
        DahuaCamera,
        {"facts": lambda d: d.facts(), "snapshot": lambda d: d.snapshot(), "config": lambda d: d.read_config()},
    ),
}


def call(kind: str, what: str, host: str, port: int) -> tuple[DriverError | None, float]:
    """The error ``what`` on a ``kind`` driver ends in (None if it succeeded), and how long it took."""
    cls, calls = CALLS[kind]
    driver = cls("cam-hostile-01", host, port, "admin", PASSWORD, timeout=TIMEOUT)
    start = time.monotonic()
    try:
        calls[what](driver)
    except DriverError as err:
        return err, time.monotonic() - start
    finally:
        driver.close()
    return None, time.monotonic() - start


def assert_one_line(err: DriverError | None) -> str:
    assert err is not None, "the hostile device's reply was accepted"
    line = str(err)
    assert line.startswith("cam-hostile-01: "), line
    assert "\n" not in line and "?" not in err.message and PASSWORD not in line, line
    return line


# --------------------------------------------------------------------------- endless and huge, memory measured


def _client_main() -> None:  # run in a subprocess: python -c "...; _client_main()" '<json>'
    servers: dict[str, list[Any]] = json.loads(sys.argv[1])
    for mode, (host, port) in servers.items():
        for kind, (_, calls) in CALLS.items():
            for what in calls:
                err, took = call(kind, what, host, port)
                row = {"mode": mode, "kind": kind, "what": what, "took": took}
                row |= {"error": type(err).__name__, "line": str(err)} if err else {"error": None, "line": ""}
                print(json.dumps(row), flush=True)
    status = Path("/proc/self/status").read_text()
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")}
    print(json.dumps({"peak_mib": kib["VmHWM"] / 1024, "virtual_peak_mib": kib["VmPeak"] / 1024}), flush=True)


def _limit_address_space(limit: int) -> Callable[[], None]:
    """A ``preexec_fn`` for the processes under test."""
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_endless_and_huge_replies_stop_at_their_cap_quickly_in_bounded_memory(
    hostile: Callable[..., Hostile],
) -> None:
    servers = {mode: hostile(mode) for mode in ("endless", "huge", "flood")}
    where = {mode: [s.host, s.port] for mode, s in servers.items()}
    code = "from tests.drivers.test_hostile_devices import _client_main; _client_main()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(where)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "CAMFLEET_OVERLAY"},
            preexec_fn=_limit_address_space(CLIENT_AS_LIMIT),
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the drivers were still reading after 60 s: {str(exc.stdout)[-500:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    *calls, peak = rows
    assert len(calls) == 27
    for row in calls:
        assert row["error"] == "ReplyTooLarge", row
        assert row["line"].startswith("cam-hostile-01: trả lời quá lớn / reply too large (GET /"), row
        assert "\n" not in row["line"] and "?" not in row["line"] and PASSWORD not in row["line"], row
        assert row["took"] < 3 * TIMEOUT, row
    snapshot = next(r for r in calls if r["mode"] == "huge" and r["what"] == "snapshot")
    assert "200000000 bytes announced, over the 16 MiB cap" in snapshot["line"], snapshot
    facts = next(r for r in calls if r["mode"] == "endless" and r["what"] == "facts")
    assert "over the 4 MiB cap" in facts["line"], facts
    print(f"client peak RSS {peak['peak_mib']:.0f} MiB, virtual {peak['virtual_peak_mib']:.0f} MiB")
    assert peak["peak_mib"] < RSS_LIMIT_MIB, peak


# --------------------------------------------------------------------------- a trickle: the total deadline


@pytest.mark.parametrize("kind", list(CALLS))
def test_a_trickling_body_ends_at_the_total_deadline_not_one_read_timeout_per_byte(
    hostile: Callable[..., Hostile], kind: str
) -> None:
    server = hostile("trickle")
    err, took = call(kind, "facts", server.host, server.port)
    line = assert_one_line(err)
    assert isinstance(err, DeviceTimeout), line
    # Hikvision: one request, its deadline 2 x the timeout; Dahua: facts() is four requests, one deadline of 3 x.
    assert "deadline" in line or "facts() not finished within 3 s" in line, line
    assert took < 3 * TIMEOUT + 1.0, (took, line)


def test_dahua_facts_keeps_one_deadline_for_all_its_calls(hostile: Callable[..., Hostile]) -> None:
    """Each of facts()' four calls finishes inside its own deadline (1.2 s of 2 s): only the one deadline of
    the whole facts() (3 x the timeout) stops the fourth, where the calls one by one would take 4.8 s."""
    server = hostile("slow")
    err, took = call("dahua_camera", "facts", server.host, server.port)
    line = assert_one_line(err)
    assert isinstance(err, DeviceTimeout), line
    assert "facts() not finished within 3 s (GET /cgi-bin/" in line, line
    assert took < 3 * TIMEOUT + 0.5, (took, line)
    assert len(server.requests) == 3  # getSystemInfo, getSoftwareVersion answered; getMachineName cut


# --------------------------------------------------------------------------- malformed digest challenges

CHALLENGES = {
    "no_realm": 'Digest qop="auth", nonce="abc123"',
    "no_nonce": 'Digest qop="auth", realm="IP Camera(83813)"',
    "unknown_algorithm": 'Digest realm="IP Camera(83813)", nonce="abc123", algorithm=ROT13',
    "auth_int_only": 'Digest realm="IP Camera(83813)", nonce="abc123", qop="auth-int"',
    "unknown_qop": 'Digest realm="IP Camera(83813)", nonce="abc123", qop="bogus"',
    "non_ascii": 'Digest realm="Camera Đường Lê Lai", nonce="abc123", qop="auth"',
    "garbage": "Digest @@@ ;;; no fields at all",
}


@pytest.mark.parametrize("kind", list(CALLS))
@pytest.mark.parametrize("case", list(CHALLENGES))
def test_a_malformed_digest_challenge_is_one_line_naming_the_device(
    hostile: Callable[..., Hostile], kind: str, case: str
) -> None:
    server = hostile("digest", CHALLENGES[case])
    err, took = call(kind, "facts", server.host, server.port)
    line = assert_one_line(err)
    assert type(err) is MalformedReply, line
    assert "unusable digest challenge (GET /" in line, line
    assert len(server.requests) == 1  # the credentials were never sent to it
    assert took < TIMEOUT


# --------------------------------------------------------------------------- the exporter probing hostile devices


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@pytest.mark.slow
def test_the_exporter_reports_hostile_devices_as_failed_probes_in_bounded_time_and_memory(
    hostile: Callable[..., Hostile], tmp_path: Path
) -> None:
    endless, bad_digest, huge = hostile("endless"), hostile("digest", CHALLENGES["unknown_algorithm"]), hostile("huge")
    overlay = {
        "town": "ngoc-lac",
        "devices": {
            "cam-01-t01": {"address": endless.host, "http_port": endless.port},  # Hikvision
            "cam-01-t04": {"address": bad_digest.host, "http_port": bad_digest.port},  # Dahua
            "nvr-01": {"address": huge.host, "http_port": huge.port},  # Hikvision NVR
        },
    }
    (tmp_path / "overlay.yml").write_text(yaml.safe_dump(overlay), encoding="utf-8")
    log = tmp_path / "exporter.log"
    proc = subprocess.Popen(
        [
            *(str(BIN / "camfleet"), "exporter", "--config", str(ROOT / "exporters" / "camfleet.yml")),
            *("--inventory", str(TOWN), "--listen", "127.0.0.1:0", "--log-level", "info"),
        ],
        cwd=ROOT,
        env={**os.environ, "CAMFLEET_OVERLAY": str(tmp_path / "overlay.yml")},
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        preexec_fn=_limit_address_space(EXPORTER_AS_LIMIT),
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("listening on "), line + log.read_text()[-2000:]
        url = line.split()[-1]
        with httpx.Client(timeout=10, trust_env=False) as client:
            client.get(f"{url}/probe", params={"target": "ngoc-lac", "module": "inventory"})  # warm: the town loaded
            before = _status_kib(proc.pid, "VmRSS")
            for target, module, reason in (
                ("cam-01-t01", "device", "too_large"),
                ("cam-01-t04", "device", "malformed"),
                ("nvr-01", "recorder", "too_large"),
            ):
                start = time.monotonic()
                resp = client.get(
                    f"{url}/probe",
                    params={"target": target, "module": module, "debug": "1"},
                    headers={"X-Prometheus-Scrape-Timeout-Seconds": "3"},
                )
                took = time.monotonic() - start
                assert resp.status_code == 200, resp.text
                assert value(resp.text, "camfleet_probe_success") == 0, resp.text
                assert value(resp.text, "camfleet_probe_failure_info", reason=reason) == 1, resp.text
                assert resp.text.startswith(f"# probe {module} {target}: {reason} {target}: "), resp.text[:300]
                assert took < 3.0, (target, took)
            time.sleep(1.0)  # a reader the probe gave up on would still be growing: give it time to show
            peak = _status_kib(proc.pid, "VmHWM")
            print(
                f"exporter RSS {before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, virtual peak "
                f"{_status_kib(proc.pid, 'VmPeak') / 1024:.0f} MiB"
            )
        assert (peak - before) / 1024 < 64, (
            f"exporter RSS grew from {before / 1024:.0f} to a peak of {peak / 1024:.0f} MiB"
        )
        assert "Traceback" not in log.read_text()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
