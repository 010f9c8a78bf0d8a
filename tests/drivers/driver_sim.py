"""Serve simulated devices for the driver tests: an asyncio loop in a background thread (the
drivers are synchronous), one random 127.77.x.y address per device, every request counted.

    .venv/bin/pytest tests/drivers -q
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from camfleet.sim.faults import Faults
from camfleet.sim.httpserve import Timings, serve

TIMINGS = Timings(reboot_s=60, flash_s=90, max_real_s=0.4)


class SimClock:
    """Real time plus an offset the test may move (lock-out expiry)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Seen:
    method: str
    path: str
    authorised: bool
    query: str = ""

    @property
    def writes(self) -> bool:
        """Whether the request changes the device: anything but GET, or a Dahua CGI action that writes
        (Dahua writes with GET: ``configManager.cgi?action=setConfig&...``)."""
        return self.method != "GET" or any(f"action={a}" in self.query for a in DAHUA_WRITES)


#: Dahua CGI actions that change the device although sent as GET.
DAHUA_WRITES = ("setConfig", "modifyPassword", "addUser", "deleteUser", "reboot", "uploadFirmware", "factoryReset")


@dataclass
class Served:
    host: str
    port: int
    state: Any
    faults: Faults
    clock: SimClock
    seen: list[Seen] = field(default_factory=list)

    def driver(self, cls: type[Any], password: str, *, user: str = "admin", timeout: float = 3.0) -> Any:
        return cls("dev-under-test", self.host, self.port, user, password, timeout=timeout)

    def writes(self, since: int = 0) -> list[Seen]:
        return [s for s in self.seen[since:] if s.writes]

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int) -> list[Seen]:
        return self.seen[mark:]


def address() -> str:
    return f"127.77.{1 + secrets.randbelow(254)}.{2 + secrets.randbelow(253)}"


@contextmanager
def served(factory: Callable[..., web.Application], state: Any, faults: Faults | None = None) -> Iterator[Served]:
    """Serve ``factory(state, ...)`` until the block ends, then stop the server and its loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sim-loop", daemon=True)
    thread.start()
    faults = faults or Faults()
    clock = SimClock()
    dev = Served("", 0, state, faults, clock)
    app = factory(state, faults, clock=clock, on_change=lambda: None, timings=TIMINGS)

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        dev.seen.append(Seen(request.method, request.path, "Authorization" in request.headers, request.query_string))
        resp: web.StreamResponse = await handler(request)
        return resp

    app.middlewares.append(count)
    host = address()
    runner, port = asyncio.run_coroutine_threadsafe(serve(app, host, 0), loop).result(10)
    dev.host, dev.port = host, port
    try:
        yield dev
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        asyncio.run_coroutine_threadsafe(_cancel_the_rest(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def _cancel_the_rest() -> None:
    """Handlers of a hung device wait forever; cancel them so the loop closes clean."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
