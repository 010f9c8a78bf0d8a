"""What the simulated HTTP device tests share: a fake simulator clock, serving one device app on a
random 127.77.x.y address for the length of a block, and running a scenario with a time limit.

    .venv/bin/pytest tests/sim/test_hikvision.py tests/sim/test_dahua.py -q
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from camfleet.sim.faults import Faults
from camfleet.sim.httpserve import Timings, serve

T0 = 1_717_200_000.0  # 2024-06-01 00:00:00 UTC


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class Served:
    """A device being served: where, its clock (tests move it), faults, state and change count."""

    base: str
    clock: FakeClock
    faults: Faults
    state: Any
    password: str
    changes: list[int] = field(default_factory=list)

    def client(self, password: str | None = None, user: str = "admin", **kw: Any) -> httpx.AsyncClient:
        auth = httpx.DigestAuth(user, self.password if password is None else password)
        return httpx.AsyncClient(base_url=self.base, auth=auth, timeout=10, **kw)


def address() -> str:
    return f"127.77.{1 + secrets.randbelow(254)}.{2 + secrets.randbelow(253)}"


@asynccontextmanager
async def served(
    factory: Callable[..., web.Application],
    state: Any,
    *,
    password: str,
    timings: Timings,
    faults: Faults | None = None,
) -> AsyncIterator[Served]:
    """``factory(state, faults, clock=..., on_change=..., timings=...)`` served until the block ends."""
    dev = Served("", FakeClock(), faults or Faults(), state, password)
    app = factory(state, dev.faults, clock=dev.clock, on_change=lambda: dev.changes.append(1), timings=timings)
    host = address()
    runner, port = await serve(app, host, 0)
    dev.base = f"http://{host}:{port}"
    try:
        yield dev
    finally:
        await runner.cleanup()


def run(scenario: Callable[[], Awaitable[None]], timeout: float = 30) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(scenario(), timeout)

    asyncio.run(bounded())
