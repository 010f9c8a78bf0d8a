"""The Dahua recorder driver (``dahua_cgi_nvr``) against the simulated Dahua NVR over real HTTP: a search
that takes more than one ``findNextFile`` page, local times turned into UTC with the recorder's zone,
the recording range, and a file downloaded whole, ``Length`` bytes. The end-to-end export through it
is tests/integration/test_footage_dahua.py.

    .venv/bin/pytest tests/drivers/test_driver_dahua_nvr.py -q
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import time

from driver_sim import served

from camfleet.drivers.dahua import DahuaNvr
from camfleet.sim.dahua import nvr_app
from camfleet.sim.devices import NvrState, ProxyChannel, RecordingSpan
from camfleet.sim.footage import Footage
from camfleet.sim.media import StreamSpec

PASSWORD = "Ngoc-Lac-2023"
SPEC = StreamSpec("h264", 320, 180, 12, 24, 256)
UTC = dt.UTC


def recorder(days: float, hole: tuple[float, float] | None = None) -> NvrState:
    state = NvrState.configured(
        "dahua", "DHI-NVR5432-EI", "8E04A21PAZ9C3F1", "e0:50:8b:12:34:56", "V4.003.0000000.1.R.230601",
        admin_password=PASSWORD, name="nvr-02", disk_bytes=[4 * 10**12],
    )  # fmt: skip
    state.add_channel(ProxyChannel("127.0.0.2", 80, "ONVIF", "admin", "x", "cam"), 3)
    now = time.time()  # the driver tests' simulator clock is real time
    state.recordings[3] = RecordingSpan(now - days * 86400, now, 10**9, [list(hole)] if hole else [])
    return state


#: The recorder with channel 3's footage: a small stream, so each minute is made in under a second.
APP = functools.partial(nvr_app, footage=Footage(lambda n: SPEC if n == 3 else None, "Asia/Ho_Chi_Minh"))


def test_a_search_of_three_days_reads_every_page_and_gives_utc_times() -> None:
    state = recorder(3)
    span = state.recordings[3]
    assert span.start is not None and span.end is not None
    with served(APP, state) as dev, dev.driver(DahuaNvr, PASSWORD) as d:
        files = d.find_footage(3, dt.datetime(2000, 1, 1, tzinfo=UTC), dt.datetime.now(UTC) + dt.timedelta(hours=1))
        oldest, newest = d.search_recordings(3)
        finds = sum(1 for s in dev.seen if "action=findNextFile" in s.query)
    assert len(files) > 100 and finds >= 3  # 144-145 files: two pages of files, then found=0
    assert files[0].start.timestamp() - span.start < 3 and span.end - files[-1].end.timestamp() < 1
    assert all(a.end == b.start for a, b in itertools.pairwise(files))  # no hole, half hours end to end
    assert all(f.start.minute in (0, 30) and f.start.second == 0 for f in files[1:])
    assert (oldest, newest) == (files[0].start, files[-1].end)
    assert files[1].handle.startswith("/mnt/dvr/") and files[1].handle.endswith("[R][0@0][0].dav")
    local = files[1].start.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert f"/2/dav/{local:%H}/{local:%H.%M.%S}-" in files[1].handle  # channel 3 in folder 2, local wall clock


def test_a_file_downloads_whole_as_dhav_of_the_size_the_search_gave() -> None:
    now = time.time()
    state = recorder(0.05, hole=(now - 200, now - 150))  # the file after the hole: under three minutes
    with served(APP, state) as dev, dev.driver(DahuaNvr, PASSWORD, timeout=30) as d:
        files = d.find_footage(3, dt.datetime.fromtimestamp(now - 120, UTC), dt.datetime.fromtimestamp(now, UTC))
        assert len(files) in (1, 2)  # two when a half hour falls in those two minutes
        sink = io.BytesIO()
        got = d.download_footage(files[0], sink)
    assert got.size_bytes == files[0].size_bytes == len(sink.getvalue()) and sink.getvalue()[:4] == b"DHAV"
    assert files[0].container == "dav" and now - 150 <= files[0].start.timestamp() < now
