"""What the simulated HTTP device APIs share: serving on a loopback address, JPEG snapshots,
fault replies (dropped connections, truncated bodies) and how long slow device operations take.

Why here: the Hikvision and Dahua apps differ in wording, not in how a device misbehaves; and
1,000 cameras must share one copy of each snapshot JPEG.

Reproduce by hand::

    .venv/bin/python -c "import asyncio; from camfleet.sim.httpserve import snapshot_jpeg; \\
        print(len(asyncio.run(snapshot_jpeg(640, 360))))"
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Timings:
    """How long slow operations take in simulator seconds, and the most they may take in real
    seconds (so a frozen or slow simulator clock never hangs a client for minutes).
    """

    reboot_s: float = 60.0
    flash_s: float = 90.0
    max_real_s: float = 3.0


async def serve(app: web.Application, host: str, port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (port 0 picks a free one); returns the runner and the port.

    Stop with ``await runner.cleanup()``.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=64)
    await site.start()
    addresses = runner.addresses
    return runner, int(addresses[0][1])


def drop_connection(request: web.Request) -> web.Response:
    """Close the TCP connection without a reply, as an unreachable or rebooting device does.

    The returned response is never written: the transport is already gone.
    """
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=503)


def truncate(body: bytes) -> bytes:
    """A body cut in the middle, for the ``malformed`` fault: XML left unclosed, and the last
    ``key=value`` line left without its ``=``.
    """
    if len(body) < 4:
        return b"<"
    cut = body[: max(1, len(body) // 2)]
    if b"=" in body and not body.lstrip().startswith(b"<"):
        head, _, last = cut.rpartition(b"\n")
        key = last.split(b"=", 1)[0]
        cut = head + b"\n" + (key[: max(1, len(key) // 2)] or b"table")
    return cut


class _JpegCache:
    """One JPEG per resolution for the whole process, made once with ffmpeg."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, int], asyncio.Future[bytes]] = {}

    async def get(self, width: int, height: int) -> bytes:
        key = (max(16, min(width, 7680)), max(16, min(height, 4320)))
        fut = self._made.get(key)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self._made[key] = fut
            try:
                fut.set_result(await self._make(*key))
            except BaseException as exc:
                del self._made[key]
                fut.set_exception(exc)
                fut.exception()  # mark retrieved; the caller gets the raise below
                raise
        return await asyncio.shield(fut)

    @staticmethod
    async def _make(width: int, height: int) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate=1",
            "-frames:v",
            "1",
            "-q:v",
            "8",
            "-f",
            "image2pipe",
            "-vcodec",
            "mjpeg",
            "pipe:1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if proc.returncode != 0 or not out.startswith(b"\xff\xd8"):
            raise RuntimeError(f"ffmpeg could not make a {width}x{height} JPEG: {err.decode(errors='replace')}")
        return out


_JPEGS = _JpegCache()


async def snapshot_jpeg(width: int, height: int) -> bytes:
    """A real baseline JPEG (SOI..EOI) of the ffmpeg test pattern at ``width`` x ``height``."""
    return await _JPEGS.get(width, height)


class RealDeadline:
    """A sim-clock deadline that also expires after a bounded real time (see :class:`Timings`)."""

    def __init__(self, sim_until: float, real_s: float) -> None:
        self.sim_until = sim_until
        self.real_until = time.monotonic() + real_s

    def passed(self, now: float) -> bool:
        return now >= self.sim_until or time.monotonic() >= self.real_until
