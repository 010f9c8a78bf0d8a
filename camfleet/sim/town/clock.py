"""Simulator time: UNIX seconds running ``speed`` times faster than the wall clock, so days of
recording pass in seconds, and a restart picks up where the last run left off.

Reproduce by hand::

    .venv/bin/camfleet sim clock --speed 3600 --state .state/sim     # an hour a second
    .venv/bin/camfleet sim clock --advance-days 1 --state .state/sim
"""

from __future__ import annotations

import time


class SimClock:
    """Simulator time (UNIX seconds) running ``speed`` times faster than the wall clock."""

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        self._base_sim = time.time() if start is None else start
        self._base_real = time.monotonic()
        self.speed = speed

    def __call__(self) -> float:
        return self._base_sim + (time.monotonic() - self._base_real) * self.speed

    def set_speed(self, speed: float) -> None:
        self._base_sim, self._base_real, self.speed = self(), time.monotonic(), speed

    def advance(self, seconds: float) -> None:
        self._base_sim += seconds

    def reset_to(self, sim_time: float) -> None:
        """Read ``sim_time`` now (a restored clock), at the same speed."""
        self._base_sim, self._base_real = sim_time, time.monotonic()
