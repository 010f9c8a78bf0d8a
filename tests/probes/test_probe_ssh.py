"""The SSH banner probe against small hostile servers on loopback: an endless banner line with no
newline, and a newline that comes only after 64 KB, are a ``bad_banner`` (one line, no exception),
read in bounded time and memory.

.venv/bin/pytest tests/probes/test_probe_ssh.py -q
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from camfleet.probes.ssh import ssh_banner


def loopback() -> str:
    return f"127.77.{random.randint(1, 254)}.{random.randint(1, 254)}"  # noqa: S311


@asynccontextmanager
async def server(send: Callable[[asyncio.StreamWriter], None]) -> AsyncIterator[tuple[str, int]]:
    """A TCP server on its own 127.77.x.y that runs ``send`` on each connection, then keeps it open."""

    async def handle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        send(writer)
        try:
            await writer.drain()
            await asyncio.sleep(30)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()

    host = loopback()
    srv = await asyncio.start_server(handle, host, 0)
    try:
        yield host, srv.sockets[0].getsockname()[1]
    finally:
        srv.close()


def run(send: Callable[[asyncio.StreamWriter], None], timeout: float = 3.0) -> tuple[object, float]:
    async def main() -> tuple[object, float]:
        async with server(send) as (host, port):
            loop = asyncio.get_running_loop()
            start = loop.time()
            result = await ssh_banner(host, port, timeout=timeout)
            return result, loop.time() - start

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("70 KB without a newline", b"SSH-2.0-" + b"A" * 70_000),
        ("a 64 KB+ line, then its newline", b"SSH-2.0-" + b"B" * 65_600 + b"\r\n"),
        ("a 1 MB line without a newline", b"X" * 1_000_000),
    ],
)
def test_an_oversized_banner_line_is_a_bad_banner_in_bounded_time(name: str, payload: bytes) -> None:
    result, took = run(lambda w: w.write(payload))
    assert result.up is False, name  # type: ignore[attr-defined]
    assert result.reason == "bad_banner", (name, result)  # type: ignore[attr-defined]
    assert "\n" not in result.detail and "bytes" in result.detail  # type: ignore[attr-defined]
    assert result.connect_s is not None  # type: ignore[attr-defined]
    assert took < 2.5, f"{name}: answered after {took:.1f} s, not at once"  # generous: it should take ms


def test_a_long_but_lawful_banner_still_counts() -> None:
    banner = b"SSH-2.0-ROSSSH " + b"c" * 200 + b"\r\n"
    result, _ = run(lambda w: w.write(banner))
    assert result.up is True  # type: ignore[attr-defined]
    assert result.banner == banner[:255]  # type: ignore[attr-defined]


def test_reading_a_flood_keeps_memory_bounded() -> None:
    """A server that streams 50 MB with no newline: the probe's process grows by far less than that."""
    script = textwrap.dedent(
        """
        import asyncio, resource, sys
        from camfleet.probes.ssh import ssh_banner

        CHUNK = b"Z" * 65536

        async def handle(reader, writer):
            try:
                for _ in range(800):
                    writer.write(CHUNK)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.transport.abort()

        async def main():
            host = sys.argv[1]
            srv = await asyncio.start_server(handle, host, 0)
            port = srv.sockets[0].getsockname()[1]
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            result = await ssh_banner(host, port, timeout=5)
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            srv.close()
            print(result.reason, (after - before) // 1024)

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, loopback()], capture_output=True, text=True, timeout=30, check=True
    )
    reason, grown_mb = out.stdout.split()
    assert reason == "bad_banner"
    assert int(grown_mb) < 10, f"RSS grew {grown_mb} MB reading one banner"
