"""Is an SSH server there? A TCP connect and the server's banner line, no login, no key exchange.

Why this is enough for a link router: the banner (``SSH-2.0-ROSSSH``) proves the router is up
and the tunnel to it carries traffic, in about a millisecond and without a line in the router's
log; the connect time is one round trip. Used by the exporter's ``link`` module and by
``camfleet status``.

    .venv/bin/python -c "import asyncio; from camfleet.probes.ssh import ssh_banner; \\
        print(asyncio.run(ssh_banner('127.22.0.2', 22, timeout=2)))"
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

#: The longest banner line read: RFC 4253 allows 255 bytes.
BANNER_MAX = 255
#: The stream's buffer limit: a line with no end within it is a bad banner, and no more than about
#: twice this is ever held, whatever the far end sends (asyncio's default would let 64 KB pile up).
LINE_LIMIT = 1024


@dataclass(frozen=True)
class BannerResult:
    """``up`` when an SSH banner came; else ``reason`` is one of timeout, refused, unreachable, bad_banner."""

    up: bool
    reason: str = ""
    detail: str = ""
    connect_s: float | None = None
    banner_s: float | None = None
    banner: bytes = b""


async def ssh_banner(host: str, port: int, *, timeout: float) -> BannerResult:
    """Connect, read one line, hang up; never raises for what the far end does."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    connect_s: float | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, limit=LINE_LIMIT)
            connect_s = loop.time() - start
            try:
                line: bytes | None = await reader.readline()
            except ValueError:  # asyncio's LimitOverrunError as readline() raises it: no newline in time
                line = None
            finally:
                writer.transport.abort()
    except TimeoutError:
        return BannerResult(False, "timeout", "no SSH banner within the budget", connect_s)
    except ConnectionRefusedError as exc:
        return BannerResult(False, "refused", str(exc))
    except OSError as exc:
        return BannerResult(False, "unreachable", str(exc) or type(exc).__name__, connect_s)
    if line is None:
        what = f"no end of line within {LINE_LIMIT} bytes (an SSH banner is at most {BANNER_MAX})"
        return BannerResult(False, "bad_banner", what, connect_s)
    banner = line[:BANNER_MAX]
    if not banner.startswith(b"SSH-"):
        what = "closed without a banner" if not banner else f"not SSH: {banner[:40]!r}"
        return BannerResult(False, "bad_banner", what, connect_s, banner=banner)
    return BannerResult(True, connect_s=connect_s, banner_s=loop.time() - start, banner=banner)
