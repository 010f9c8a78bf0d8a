"""Clients that connect and never finish asking: each connection is closed within ``head_timeout_s``.

Issue 15, item 7: a connection that sent nothing, half a request line, or a byte now and then
was held until aiohttp's keep-alive timeout (an hour with aiohttp 3.14). Raw sockets on loopback
against the real CLI (``head_timeout_s: 2`` to keep the test short; the default is 10): silent,
half a request line, a trickle that never ends its head, half a second request on a kept-alive
connection, and a TLS port that gets no handshake are all closed within the bound, counted in
``camfleet_exporter_late_requests_total``, while 200 such connections held at once do not delay a
healthy scrape. An idle kept-alive connection is closed after ``idle_timeout_s``.

    .venv/bin/pytest tests/exporter/test_slow_clients.py -q
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.certs import make_certs
from tests.exporter.test_exporter import value
from tests.exporter.test_web_protection import Running, start_exporter

pytestmark = pytest.mark.slow

HEAD_TIMEOUT = 2.0
IDLE_TIMEOUT = 8.0
#: Slack for a loaded machine: the deadline is a timer on the exporter's loop, not a measurement here.
SLACK = 2.5
REQUEST = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_exporter(
        tmp_path_factory.mktemp("slow"), config={"head_timeout_s": HEAD_TIMEOUT, "idle_timeout_s": IDLE_TIMEOUT}
    )
    try:
        yield running
    finally:
        running.stop()


def address(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


def closed_after(sock: socket.socket, limit: float) -> float:
    """Seconds until the exporter closes ``sock`` (reads until EOF or reset); fails past ``limit``."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"still open after {limit:.1f} s")
    return time.monotonic() - start


def late_requests(url: str) -> float:
    reply = httpx.get(url + "/metrics", timeout=10, trust_env=False)
    return value(reply.text, "camfleet_exporter_late_requests_total") or 0.0


def test_a_silent_connection_is_closed_within_the_bound(exporter: Running) -> None:
    before = late_requests(exporter.url)
    with socket.create_connection(address(exporter.url)) as sock:
        took = closed_after(sock, HEAD_TIMEOUT + SLACK)
    assert took >= HEAD_TIMEOUT - 0.2
    assert late_requests(exporter.url) == before + 1


def test_half_a_request_line_is_closed_within_the_bound(exporter: Running) -> None:
    with socket.create_connection(address(exporter.url)) as sock:
        sock.sendall(b"GET /metr")
        closed_after(sock, HEAD_TIMEOUT + SLACK)


def test_a_trickle_that_never_ends_its_head_is_closed_by_the_deadline_not_kept_by_each_byte(
    exporter: Running,
) -> None:
    with socket.create_connection(address(exporter.url)) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /metrics HTTP/1.1\r\n")
        try:
            while time.monotonic() - start < HEAD_TIMEOUT + SLACK:
                sock.sendall(b"X-Slow: a\r\n")  # a header line every 0.2 s: bytes keep coming, the head never ends
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            closed_after(sock, 0.5)
        assert time.monotonic() - start < HEAD_TIMEOUT + SLACK


def test_a_kept_alive_connection_gets_its_answer_then_the_same_bound_for_the_next_request(exporter: Running) -> None:
    with socket.create_connection(address(exporter.url)) as sock:
        sock.sendall(REQUEST)
        sock.settimeout(5)
        answer = b""
        while b"camfleet_exporter_probes_in_flight" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer[-200:]
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        time.sleep(HEAD_TIMEOUT + 0.5)  # idle between requests: the head deadline does not run yet
        sock.sendall(b"GET /met")  # the next request starts, then stalls
        took = closed_after(sock, HEAD_TIMEOUT + SLACK)
        assert took >= HEAD_TIMEOUT - 0.2


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(exporter: Running) -> None:
    with socket.create_connection(address(exporter.url)) as sock:
        sock.sendall(REQUEST)
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        took = closed_after(sock, IDLE_TIMEOUT + 1 + SLACK)  # aiohttp rounds timers past 5 s up to the second
    assert took >= IDLE_TIMEOUT - 1


def test_two_hundred_stalled_connections_do_not_delay_a_healthy_scrape(exporter: Running) -> None:
    before = late_requests(exporter.url)
    stalled = []
    try:
        for i in range(200):
            sock = socket.create_connection(address(exporter.url))
            if i % 2:
                sock.sendall(b"GET /probe?target=ngoc-lac&mod")
            stalled.append(sock)
        start = time.monotonic()
        reply = httpx.get(
            exporter.url + "/probe", params={"target": "ngoc-lac", "module": "inventory"}, timeout=5, trust_env=False
        )
        assert reply.status_code == 200 and value(reply.text, "camfleet_probe_success") == 1
        assert time.monotonic() - start < 1.5
        time.sleep(HEAD_TIMEOUT + SLACK)
        for sock in stalled:
            closed_after(sock, 0.5)
    finally:
        for sock in stalled:
            sock.close()
    assert late_requests(exporter.url) >= before + 200


def test_a_tls_port_without_a_handshake_is_closed_within_the_bound(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {certs.server_cert}\n  key_file: {certs.server_key}\n")
    running = start_exporter(tmp_path, "--web.config.file", str(web), config={"head_timeout_s": HEAD_TIMEOUT})
    try:
        with socket.create_connection(address(running.url)) as sock:
            closed_after(sock, HEAD_TIMEOUT + SLACK)  # nothing sent: no ClientHello
        with socket.create_connection(address(running.url)) as raw:
            context = ssl.create_default_context(cafile=certs.ca)
            with context.wrap_socket(raw, server_hostname="localhost") as sock:  # handshake done, then silence
                took = closed_after(sock, HEAD_TIMEOUT + SLACK)
        assert took >= HEAD_TIMEOUT - 0.2
        context = ssl.create_default_context(cafile=certs.ca)
        assert httpx.get(running.url + "/metrics", verify=context, timeout=5, trust_env=False).status_code == 200
    finally:
        running.stop()
