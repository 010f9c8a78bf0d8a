"""One way to run camfleet's long-lived asyncio services: on uvloop where it is installed.

The exporter and the simulator spend most of their CPU in the event loop itself (socket
connects, selector registrations, transport writes: a stream probe is ~6 connections' worth of
them). uvloop runs the same asyncio code on libuv; measured side by side on one machine
(``bench/province.py``, ``bench/exporter.py``) it takes about 30 % off the exporter's CPU per probe
and 20-25 % off the simulator's. ``CAMFLEET_EVENT_LOOP=asyncio`` keeps the standard loop (to rule
the loop out when something misbehaves); where uvloop is not installed the standard loop runs.

    from camfleet import aio
    aio.run(serve_forever(...))
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: The environment variable that chooses the loop: ``uvloop`` (default where installed) or ``asyncio``.
ENV = "CAMFLEET_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None for asyncio's default loop."""
    choice = os.environ.get(ENV, "uvloop").strip().lower()
    if choice == "asyncio":
        return None
    if choice != "uvloop":
        raise ValueError(f"{ENV}={choice!r}: chỉ nhận 'uvloop' hoặc 'asyncio' / only 'uvloop' or 'asyncio'")
    try:
        import uvloop  # here, not at the top: uvloop is optional (the standard loop runs where it is missing)
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def name() -> str:
    """Which loop :func:`run` would use: ``uvloop`` or ``asyncio``."""
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop :func:`loop_factory` gives."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
