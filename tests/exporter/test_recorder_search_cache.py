"""The recorder probe searches each channel's recordings again only every ``search_every_s`` (the
searches are most of its cost, and retention moves by minutes a day); 0 searches on every probe."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from camfleet.drivers.base import RecordingRange
from camfleet.exporter.config import Module
from camfleet.exporter.probers import recorder


class CountingNvr:
    def __init__(self) -> None:
        self.searches: list[int] = []

    def search_recordings(self, channel: int) -> RecordingRange:
        self.searches.append(channel)
        day = dt.datetime(2026, 12, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=len(self.searches))
        return RecordingRange(day - dt.timedelta(days=30), day)


def request(every: float, host: str = "127.9.0.1") -> Any:
    module = Module(prober="recorder", search_every_s=every)
    return SimpleNamespace(
        target=SimpleNamespace(id="nvr-x"), key="town/nvr-x", endpoint=SimpleNamespace(host=host), module=module
    )


@pytest.fixture(autouse=True)
def direct_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run_blocking(req: Any, call: Callable[[], Any]) -> Any:
        return call()

    monkeypatch.setattr(recorder, "run_blocking", run_blocking)
    monkeypatch.setattr(recorder, "_RANGES", {})


def test_a_channel_is_searched_once_per_interval_and_each_channel_on_its_own() -> None:
    nvr = CountingNvr()
    req = request(600)
    first = asyncio.run(recorder._recording_range(req, nvr, 1))  # type: ignore[arg-type]
    again = asyncio.run(recorder._recording_range(req, nvr, 1))  # type: ignore[arg-type]
    asyncio.run(recorder._recording_range(req, nvr, 2))  # type: ignore[arg-type]
    assert nvr.searches == [1, 2] and again == first
    asyncio.run(recorder._recording_range(request(600, host="127.9.0.2"), nvr, 1))  # type: ignore[arg-type]
    assert nvr.searches == [1, 2, 1]  # another address is another device: never its neighbour's answer


def test_zero_searches_on_every_probe_and_an_old_answer_is_searched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    nvr = CountingNvr()
    for _ in range(3):
        asyncio.run(recorder._recording_range(request(0), nvr, 1))  # type: ignore[arg-type]
    assert nvr.searches == [1, 1, 1]
    clock = [1000.0]
    monkeypatch.setattr(recorder.time, "monotonic", lambda: clock[0])
    asyncio.run(recorder._recording_range(request(600), nvr, 5))  # type: ignore[arg-type]
    clock[0] += 599
    asyncio.run(recorder._recording_range(request(600), nvr, 5))  # type: ignore[arg-type]
    clock[0] += 2
    newer = asyncio.run(recorder._recording_range(request(600), nvr, 5))  # type: ignore[arg-type]
    assert nvr.searches == [1, 1, 1, 5, 5] and newer.newest is not None
