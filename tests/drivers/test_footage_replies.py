"""The Hikvision recorder driver's footage calls against what real recorders answered
(tests/drivers/replies/hikvision/README.md names each device and firmware): search results as the
vendor's capture has them, paging, a playback URI carrying the HTTP port, a recorder that downloads
by file only, GET refused for POST, a cut-short download, an XML error instead of footage.

The replies are served by a bare aiohttp app on a 127.77.x.y address, not by the simulator: the
simulator is ours and can only agree with the driver; these shapes are the devices'.

    .venv/bin/pytest tests/drivers/test_footage_replies.py -q
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from driver_sim import served

from camfleet.drivers.errors import DeviceError, MalformedReply
from camfleet.drivers.hikvision import HikvisionNvr, _with_times

REPLIES = Path(__file__).parent / "replies" / "hikvision"
UTC = dt.UTC


def reply(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


class Recorder:
    """What the replay app answers, and what it was asked."""

    def __init__(self, pages: list[str], *, by_time: bool = False, get_allowed: bool = True, body: bytes = b"") -> None:
        self.pages = pages
        self.by_time = by_time
        self.get_allowed = get_allowed
        self.body = body
        self.searches: list[str] = []
        self.downloads: list[tuple[str, str]] = []


def replay_app(rec: Recorder, faults: Any, **_: Any) -> web.Application:
    async def search(request: web.Request) -> web.Response:
        sent = await request.text()
        rec.searches.append(sent)
        position = int(re.search(r"<searchResultPostion>(\d+)<", sent).group(1))  # type: ignore[union-attr]
        page = rec.pages[min(position, len(rec.pages) - 1)]  # one file per recorded page
        search_id = re.search(r"<searchID>([^<]+)<", sent).group(1).lower()  # type: ignore[union-attr]
        return web.Response(text=page.replace("SEARCH-ID", search_id), content_type="application/xml")

    async def capabilities(request: web.Request) -> web.Response:
        text = reply("download-capabilities-ds7616nxi-k2.xml")
        if rec.by_time:
            text = text.replace("<isSupportDownloadbyTime>false", "<isSupportDownloadbyTime>true")
        return web.Response(text=text, content_type="application/xml")

    async def download(request: web.Request) -> web.StreamResponse:
        sent = await request.text()
        rec.downloads.append((request.method, sent))
        if request.method == "GET" and not rec.get_allowed:
            return web.Response(status=405, text="Method Not Allowed")
        if "name=" not in sent:
            return web.Response(text=reply("download-bad-uri.xml"), content_type="application/xml")
        resp = web.StreamResponse(headers={"Content-Type": "Opaque/data"})  # DS-7616NXI-K2(D), Q-K2 S6
        await resp.prepare(request)
        for i in range(0, len(rec.body), 7_000):
            await resp.write(rec.body[i : i + 7_000])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/ISAPI/ContentMgmt/search", search)
    app.router.add_get("/ISAPI/ContentMgmt/download/capabilities", capabilities)
    app.router.add_route("*", "/ISAPI/ContentMgmt/download", download)
    return app


def test_the_vendor_capture_of_a_search_reads_as_one_file_with_its_name_size_and_lock() -> None:
    rec = Recorder([reply("search-v4.60.xml")])
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        (found,) = d.find_footage(1, dt.datetime(2024, 3, 5, 10, tzinfo=UTC), dt.datetime(2024, 3, 5, 11, tzinfo=UTC))
    assert (found.start, found.end) == (
        dt.datetime(2024, 3, 5, 10, 21, 40, tzinfo=UTC),
        dt.datetime(2024, 3, 5, 10, 22, 31, tzinfo=UTC),
    )
    assert found.name == "00000005123000200" and found.size_bytes == 1_512_344 and found.locked is False
    assert found.handle.endswith("&name=00000005123000200&size=1512344")  # the XML's &amp; undone
    (sent,) = rec.searches
    assert "<trackID>101</trackID>" in sent and "<startTime>2024-03-05T10:00:00Z</startTime>" in sent
    assert re.search(r"<searchID>[0-9A-F-]{36}</searchID>", sent)  # a GUID with dashes (Q-K2 S1)


def test_a_recorder_on_its_wall_clock_is_asked_and_read_in_local_time() -> None:
    """The guide's own device answers in its wall clock labelled Z (UTC+8, footage.md §1.5)."""
    rec = Recorder([reply("search-v4.60.xml")])
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        d.time_basis, d._offset_s = "local", 8 * 3600
        (found,) = d.find_footage(1, dt.datetime(2024, 3, 5, 2, tzinfo=UTC), dt.datetime(2024, 3, 5, 3, tzinfo=UTC))
    assert found.start == dt.datetime(2024, 3, 5, 2, 21, 40, tzinfo=UTC)
    assert "<startTime>2024-03-05T10:00:00Z</startTime>" in rec.searches[0]


def test_search_pages_while_more_with_a_new_guid_and_the_http_port_is_not_the_playback_port() -> None:
    rec = Recorder([reply("search-more-ds7616nxi-k2.xml"), reply("search-ok-ds7616nxi-k2.xml")])
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        files = d.find_footage(5, dt.datetime(2026, 11, 30, 11, tzinfo=UTC), dt.datetime(2026, 11, 30, 14, tzinfo=UTC))
        url = d.playback_url(files[1])
    assert [f.name for f in files] == ["00000001201000510", "00000001201000511"]
    assert [f.size_bytes for f in files] == [472_055_808, 1_702_313_984] and files[0].locked is None
    assert ["<searchResultPostion>0<" in rec.searches[0], "<searchResultPostion>1<" in rec.searches[1]] == [True, True]
    ids = [re.search(r"<searchID>([^<]+)<", s).group(1) for s in rec.searches]  # type: ignore[union-attr]
    assert len(set(ids)) == 2
    assert url.startswith(f"rtsp://{dev.host}:554/Streaming/tracks/501/?starttime=20261130T124110Z&")  # not :90


def test_a_recorder_that_says_more_for_ever_is_asked_until_it_repeats_itself() -> None:
    rec = Recorder([reply("search-more-ds7616nxi-k2.xml")])  # MORE, and the same file, whatever the position
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        files = d.find_footage(5, dt.datetime(2026, 11, 30, 11, tzinfo=UTC), dt.datetime(2026, 11, 30, 14, tzinfo=UTC))
    assert [f.name for f in files] == ["00000001201000510"] and len(rec.searches) == 2


def test_a_recorder_that_downloads_by_file_only_gets_the_searchs_uri_and_sends_the_whole_file() -> None:
    body = b"IMKH" + bytes(36) + b"\x00\x00\x01\xba" * 5000
    rec = Recorder([reply("search-v4.60.xml")], body=body)
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        (found,) = d.find_footage(1, dt.datetime(2024, 3, 5, 10, tzinfo=UTC), dt.datetime(2024, 3, 5, 11, tzinfo=UTC))
        found = type(found)(**{**found.__dict__, "size_bytes": len(body)})
        sink = io.BytesIO()
        window = (dt.datetime(2024, 3, 5, 10, 21, 50, tzinfo=UTC), dt.datetime(2024, 3, 5, 10, 22, 10, tzinfo=UTC))
        got = d.download_footage(found, sink, within=window)
    assert sink.getvalue() == body and got.size_bytes == len(body) and got.start == found.start  # whole file
    ((method, sent),) = rec.downloads
    assert method == "GET" and "&amp;name=00000005123000200&amp;size=1512344</playbackURI>" in sent


def test_a_recorder_that_downloads_by_time_gets_the_window_and_get_refused_falls_back_to_post() -> None:
    rec = Recorder([reply("search-v4.60.xml")], by_time=True, get_allowed=False, body=b"\x00\x00\x01\xba" * 100)
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        (found,) = d.find_footage(1, dt.datetime(2024, 3, 5, 10, tzinfo=UTC), dt.datetime(2024, 3, 5, 11, tzinfo=UTC))
        window = (dt.datetime(2024, 3, 5, 10, 21, 50, tzinfo=UTC), dt.datetime(2024, 3, 5, 10, 22, 10, tzinfo=UTC))
        got = d.download_footage(found, io.BytesIO(), within=window)
    assert [m for m, _ in rec.downloads] == ["GET", "POST"]
    assert "starttime=20240305T102150Z&amp;endtime=20240305T102210Z&amp;name=00000005123000200" in rec.downloads[1][1]
    assert (got.start, got.end) == window and got.size_bytes == 400


def test_a_download_cut_short_or_answered_with_an_error_is_one_line() -> None:
    rec = Recorder([reply("search-v4.60.xml")], body=b"\x00" * 1000)
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        (found,) = d.find_footage(1, dt.datetime(2024, 3, 5, 10, tzinfo=UTC), dt.datetime(2024, 3, 5, 11, tzinfo=UTC))
        with pytest.raises(MalformedReply, match="download of 00000005123000200 stopped at 1000 of 1512344 bytes"):
            d.download_footage(found, io.BytesIO())
        bare = type(found)(**{**found.__dict__, "handle": "rtsp://10.14.97.40/Streaming/tracks/101/?starttime=x"})
        with pytest.raises(DeviceError) as err:
            d.download_footage(bare, io.BytesIO())
    assert err.value.sub_status == "badXmlContent" and "Tag 4 is invalid" in str(err.value)
    assert "\n" not in str(err.value)


def test_with_times_keeps_the_uris_other_fields_in_order() -> None:
    uri = "rtsp://10.14.97.40/Streaming/tracks/101/?starttime=20240305T102140Z&endtime=20240305T102231Z&name=00000005123000200&size=1512344"
    assert _with_times(uri, "2024-03-05T10:21:50Z", "2024-03-05T10:22:10Z") == (
        "rtsp://10.14.97.40/Streaming/tracks/101/?starttime=20240305T102150Z&endtime=20240305T102210Z"
        "&name=00000005123000200&size=1512344"
    )


# --------------------------------------------------------------------------- Dahua


DAHUA = Path(__file__).parent / "replies" / "dahua"


class DahuaRecorder:
    def __init__(self, pages: list[str], body: bytes = b"") -> None:
        self.pages = pages
        self.body = body
        self.asked: list[tuple[str, dict[str, str]]] = []
        self.paths: list[str] = []


def dahua_app(rec: DahuaRecorder, faults: Any, **_: Any) -> web.Application:
    def crlf(text: str) -> web.Response:
        return web.Response(text=text, content_type="text/plain")

    async def cgi(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        query = dict(request.query)
        rec.asked.append((f"{name}.{query.get('action')}", query))
        action = query.get("action")
        if (name, action) == ("configManager", "getConfig") and query.get("name") == "NTP":
            return crlf("table.NTP.Enable=true\r\ntable.NTP.TimeZone=12\r\ntable.NTP.TimeZoneDesc=Bangkok\r\n")
        if (name, action) == ("mediaFileFind", "factory.create"):
            return crlf("result=308473472\r\n")
        if (name, action) == ("mediaFileFind", "findFile"):
            return crlf("OK\r\n")
        if (name, action) == ("mediaFileFind", "findNextFile"):
            return crlf(rec.pages.pop(0) if rec.pages else (DAHUA / "findnextfile-end.txt").read_text())
        if name == "mediaFileFind":  # factory.close, factory.destroy: Error with HTTP 200
            return crlf((DAHUA / "factory-close.txt").read_text())
        return web.Response(status=400, text="Error\r\nBad Request!\r\n")

    async def loadfile(request: web.Request) -> web.Response:
        rec.paths.append(request.raw_path)
        return web.Response(body=rec.body, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/cgi-bin/{name}.cgi", cgi)
    app.router.add_get("/cgi-bin/RPC_Loadfile/{path:.*}", loadfile)
    return app


def dahua_pages() -> list[str]:
    return [(DAHUA / f).read_text() for f in ("findnextfile-1.txt", "findnextfile-2.txt")]


def test_a_dahua_search_reads_every_page_in_local_time_and_survives_the_errors_of_close() -> None:
    from camfleet.drivers.dahua import DahuaNvr

    rec = DahuaRecorder(dahua_pages())
    start, end = dt.datetime(2026, 11, 30, 12, 10, tzinfo=UTC), dt.datetime(2026, 11, 30, 13, 10, tzinfo=UTC)
    with served(dahua_app, rec) as dev, dev.driver(DahuaNvr, "x") as d:
        files = d.find_footage(1, start, end)
    assert [(f.start, f.end) for f in files] == [
        (dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC), dt.datetime(2026, 11, 30, 12, 30, tzinfo=UTC)),
        (dt.datetime(2026, 11, 30, 12, 30, tzinfo=UTC), dt.datetime(2026, 11, 30, 12, 54, 35, tzinfo=UTC)),
        (dt.datetime(2026, 11, 30, 12, 59, tzinfo=UTC), dt.datetime(2026, 11, 30, 13, 5, 18, tzinfo=UTC)),
    ]  # UTC+7 (NTP.TimeZone=12): 19:00 local is 12:00 UTC
    assert files[0].handle == "/mnt/dvr/2026-11-30/0/dav/19/19.00.00-19.30.00[R][0@0][0].dav"
    assert [f.size_bytes for f in files] == [346_030_080, 283_115_520, 61_063_168] and files[0].container == "dav"
    find = next(q for what, q in rec.asked if what == "mediaFileFind.findFile")
    assert find["condition.Channel"] == "1" and find["condition.StartTime"] == "2026-11-30 19:10:00"
    assert find["condition.EndTime"] == "2026-11-30 20:10:00" and find["object"] == "308473472"
    actions = [what for what, _ in rec.asked if what.startswith("mediaFileFind")]
    assert actions[-2:] == ["mediaFileFind.factory.close", "mediaFileFind.factory.destroy"]


def test_a_dahua_file_is_fetched_by_its_path_as_it_is_and_a_short_one_is_named() -> None:
    from camfleet.drivers.dahua import DahuaNvr

    body = b"DHAV" + bytes(60) + b"dhav" + bytes(4)
    rec = DahuaRecorder(dahua_pages(), body=body)
    with served(dahua_app, rec) as dev, dev.driver(DahuaNvr, "x") as d:
        files = d.find_footage(
            1, dt.datetime(2026, 11, 30, 12, tzinfo=UTC), dt.datetime(2026, 11, 30, 12, 20, tzinfo=UTC)
        )
        exact = type(files[0])(**{**files[0].__dict__, "size_bytes": len(body)})
        sink = io.BytesIO()
        got = d.download_footage(exact, sink)
        with pytest.raises(
            MalformedReply, match=r"download of 19.00.00-19.30.00\[R\]\[0@0\]\[0\].dav stopped at 72 of"
        ):
            d.download_footage(files[0], io.BytesIO())
    assert sink.getvalue() == body and got.size_bytes == len(body)
    assert rec.paths[0] == "/cgi-bin/RPC_Loadfile//mnt/dvr/2026-11-30/0/dav/19/19.00.00-19.30.00[R][0@0][0].dav"
