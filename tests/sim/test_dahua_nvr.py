"""The simulated Dahua NVR at the protocol level: raw httpx with digest auth, never the driver.

The recorder is served on a random 127.77.x.y address with a fake simulator clock; its channel 1
has two hours of recording with one hole, its footage a small (320x180) stream so each minute is
made by ffmpeg in well under a second. Checked: identity, time and zone, disks, the footage search
(paging, local wall-clock times, 0-based channels, CRLF, half-hour files, the hole), and the
download (exactly ``Length`` bytes, the same bytes twice, a DHAV file that ffprobe reads as H.264 of
the right size and length, whose burnt-in clock shows the file's own minutes).

    .venv/bin/pytest tests/sim/test_dahua_nvr.py -q
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import struct
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from http_sim import T0, Served, run, served

from camfleet.sim.dahua import Timings, nvr_app
from camfleet.sim.dahua.dhav import pack_date, unpack_date
from camfleet.sim.dahua.nvr import DavFile, parse_path, playback_target
from camfleet.sim.devices import CameraState, NvrState, ProxyChannel, RecordingSpan
from camfleet.sim.faults import Fault
from camfleet.sim.footage import Footage, read_times
from camfleet.sim.media import StreamSpec
from tests.conftest import require_program

MODEL, SERIAL, MAC = "DHI-NVR5432-EI", "8E04A21PAZ9C3F1", "e0:50:8b:12:34:56"
BUILD = "V4.003.0000000.1.R.230601"
PASSWORD = "Ngoc-Lac-2023"
ZONE = "Asia/Ho_Chi_Minh"
OFFSET = 7 * 3600
TB = 10**12
SPEC = StreamSpec("h264", 320, 180, 12, 24, 256)
TIMINGS = Timings(reboot_s=60, flash_s=90, max_real_s=0.3)
# T0 is 2024-06-01 07:00:00 local. Channel 1 records from 05:10:20.4 to 07:00:00 local, with a hole
# from 06:12:03.5 to 06:27:09.2 (the camera was offline).
REC_START, HOLE, REC_END = T0 - 6580 + 0.4, (T0 - 2877 + 0.5, T0 - 1971 + 0.2), T0


def local(when: str) -> float:
    """A local wall-clock time of the test day as UTC seconds."""
    return dt.datetime.strptime(f"2024-06-01 {when}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC).timestamp() - OFFSET


def recorder() -> NvrState:
    state = NvrState.configured(
        "dahua", MODEL, SERIAL, MAC, BUILD, admin_password=PASSWORD, name="nvr-02", disk_bytes=[4 * TB, 4 * TB]
    )
    state.add_channel(ProxyChannel("127.0.0.2", 80, "ONVIF", "admin", "x", "cam-a"), 1)
    state.add_channel(ProxyChannel("127.0.0.3", 80, "ONVIF", "admin", "x", "cam-b"), 2)
    state.recordings[1] = RecordingSpan(REC_START, REC_END, 10**9, [list(HOLE)])
    state.disks[0].free_bytes -= 10**9
    return state


@asynccontextmanager
async def nvr(state: NvrState | None = None) -> AsyncIterator[Served]:
    footage = Footage(lambda n: SPEC if n in (1, 2) else None, ZONE)
    async with served(
        functools.partial(nvr_app, footage=footage), state or recorder(), password=PASSWORD, timings=TIMINGS
    ) as dev:
        yield dev


def parse_kv(text: str) -> dict[str, str]:
    """A key=value reply read strictly: CRLF line ends, every line ``key=value``."""
    assert text.endswith("\r\n"), repr(text[-20:])
    out: dict[str, str] = {}
    for line in text[:-2].split("\r\n"):
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        out[key] = value
    return out


def items(reply: dict[str, str]) -> list[dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for key, value in reply.items():
        if m := re.fullmatch(r"items\[(\d+)\]\.(.+)", key):
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [found[i] for i in sorted(found)]


async def search(
    c: httpx.AsyncClient, channel: int, start: str, end: str, count: int = 100
) -> list[list[dict[str, str]]]:
    """Every page of one search (``found=0`` ends it), then close and destroy the object."""
    obj = parse_kv((await c.get("/cgi-bin/mediaFileFind.cgi", params={"action": "factory.create"})).text)["result"]
    condition = {
        "action": "findFile", "object": obj, "condition.Channel": str(channel), "condition.StartTime": start,
        "condition.EndTime": end, "condition.Types[0]": "dav", "condition.VideoStream": "Main",
    }  # fmt: skip
    found = await c.get("/cgi-bin/mediaFileFind.cgi", params=condition)
    assert (found.status_code, found.text) == (200, "OK\r\n")
    pages = []
    for _ in range(100):
        reply = await c.get(
            "/cgi-bin/mediaFileFind.cgi", params={"action": "findNextFile", "object": obj, "count": str(count)}
        )
        kv = parse_kv(reply.text)
        page = items(kv)
        assert int(kv["found"]) == len(page)
        if not page:
            break
        pages.append(page)
    close = await c.get("/cgi-bin/mediaFileFind.cgi", params={"action": "factory.close", "object": obj})
    assert close.status_code == 200 and close.text.startswith("Error")  # as the recorded device answers
    destroy = await c.get("/cgi-bin/mediaFileFind.cgi", params={"action": "factory.destroy", "object": obj})
    assert destroy.text == "OK\r\n"
    return pages


def when(value: str) -> float:
    """An item's local time as UTC seconds."""
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC).timestamp() - OFFSET


# --------------------------------------------------------------------------- identity, time, disks


def test_identity_time_zone_and_disks_answer_as_a_dahua_recorder() -> None:
    async def scenario() -> None:
        async with nvr() as dev:
            async with httpx.AsyncClient(base_url=dev.base) as anon:
                first = await anon.get("/cgi-bin/magicBox.cgi", params={"action": "getSystemInfo"})
            assert first.status_code == 401 and f'realm="Login to {SERIAL}"' in first.headers["www-authenticate"]
            async with dev.client() as c:
                info = parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getSystemInfo")).text)
                assert (info["deviceType"], info["serialNumber"]) == (MODEL, SERIAL)
                version = parse_kv((await c.get("/cgi-bin/magicBox.cgi?action=getSoftwareVersion")).text)
                assert version == {"version": "4.003.0000000.1.R,build:2023-06-01"}
                now = parse_kv((await c.get("/cgi-bin/global.cgi?action=getCurrentTime")).text)
                assert now == {"result": "2024-06-01 07:00:00"}  # local wall clock, no zone
                ntp = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=NTP")).text)
                assert ntp["table.NTP.TimeZone"] == "12" and all(k.startswith("table.NTP.") for k in ntp)
                net = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=Network")).text)
                assert net["table.Network.eth0.PhysicalAddress"] == MAC
                encode = await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=Encode")
                assert encode.status_code == 400 and encode.text == "Error\r\nBad Request!\r\n"  # not a camera
                disks = parse_kv((await c.get("/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo")).text)
                assert disks["list.info[0].State"] == disks["list.info[1].State"] == "Success"
                assert float(disks["list.info[0].Detail[0].TotalBytes"]) == 4 * TB
                assert float(disks["list.info[0].Detail[0].UsedBytes"]) == 10**9
                assert "list.info[2].Name" not in disks
                dev.faults.set(Fault.disk_failed, slot=2)
                disks = parse_kv((await c.get("/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo")).text)
                assert disks["list.info[1].State"] == "Error" and disks["list.info[1].Detail[0].IsError"] == "true"

    run(scenario)


def test_an_offline_recorder_refuses_connections() -> None:
    async def scenario() -> None:
        async with nvr() as dev, dev.client() as c:
            dev.faults.set(Fault.offline)
            try:
                await c.get("/cgi-bin/magicBox.cgi?action=getSystemInfo")
            except httpx.TransportError:
                pass
            else:
                raise AssertionError("an offline recorder answered")

    run(scenario)


# --------------------------------------------------------------------------- the search


def test_the_search_pages_half_hour_files_in_local_time_with_the_hole_left_out() -> None:
    async def scenario() -> None:
        async with nvr() as dev, dev.client() as c:
            pages = await search(c, 1, "2024-06-01 00:00:00", "2024-06-01 23:59:59", count=2)
            whole = await search(c, 1, "2024-06-01 00:00:00", "2024-06-01 23:59:59")
        assert [len(p) for p in pages] == [2, 2, 1] and len(whole) == 1
        files = [f for p in pages for f in p]
        assert files == whole[0]  # paging neither repeats nor skips a file
        spans = [(f["StartTime"], f["EndTime"]) for f in files]
        assert spans == [
            ("2024-06-01 05:10:22", "2024-06-01 05:30:00"),  # from the first keyframe (GOPs of 2 s), then half hours
            ("2024-06-01 05:30:00", "2024-06-01 06:00:00"),
            ("2024-06-01 06:00:00", "2024-06-01 06:12:03"),  # the camera went away at 06:12:03.5
            ("2024-06-01 06:27:10", "2024-06-01 06:30:00"),  # ... and came back at 06:27:09.2
            ("2024-06-01 06:30:00", "2024-06-01 07:00:00"),  # the file being written ends now
        ]
        first = files[0]
        assert first["Channel"] == "0" and first["Type"] == "dav" and first["Flags[0]"] == "Timing"
        assert first["VideoStream"] == "Main" and first["Duration"] == str(19 * 60 + 38)
        for f in files:
            start = f["StartTime"][11:].replace(":", ".")
            end = f["EndTime"][11:].replace(":", ".")
            assert f["FilePath"] == f"/mnt/dvr/2024-06-01/0/dav/{start[:2]}/{start}-{end}[R][0@0][0].dav"
            assert int(f["Duration"]) == when(f["EndTime"]) - when(f["StartTime"])
            assert int(f["Length"]) >= int(f["Duration"]) * SPEC.bitrate_kbps * 125

    run(scenario)


def test_a_window_finds_the_files_that_overlap_it_and_other_channels_or_streams_find_nothing() -> None:
    async def scenario() -> None:
        async with nvr() as dev, dev.client() as c:
            pages = await search(c, 1, "2024-06-01 06:10:00", "2024-06-01 06:28:00")
            inside_hole = await search(c, 1, "2024-06-01 06:15:00", "2024-06-01 06:25:00")
            other = await search(c, 2, "2024-06-01 00:00:00", "2024-06-01 23:59:59")
            obj = parse_kv((await c.get("/cgi-bin/mediaFileFind.cgi?action=factory.create")).text)["result"]
            extra = {"action": "findFile", "object": obj, "condition.Channel": "1", "condition.VideoStream": "Extra1",
                     "condition.StartTime": "2024-06-01 00:00:00", "condition.EndTime": "2024-06-01 23:59:59"}  # fmt: skip
            assert (await c.get("/cgi-bin/mediaFileFind.cgi", params=extra)).text == "OK\r\n"
            nothing = await c.get("/cgi-bin/mediaFileFind.cgi", params={"action": "findNextFile", "object": obj})
            bad = await c.get("/cgi-bin/mediaFileFind.cgi", params={**extra, "condition.StartTime": "yesterday"})
            gone = await c.get("/cgi-bin/mediaFileFind.cgi", params={"action": "findNextFile", "object": "1"})
        assert [(f["StartTime"][11:], f["EndTime"][11:]) for f in pages[0]] == [
            ("06:00:00", "06:12:03"), ("06:27:10", "06:30:00"),
        ]  # fmt: skip
        assert inside_hole == [] and other == []
        assert nothing.text == "found=0\r\n"
        assert (bad.status_code, bad.text) == (400, "Error\r\nBad Request!\r\n") and gone.status_code == 400

    run(scenario)


# --------------------------------------------------------------------------- the download


def test_a_downloaded_file_is_length_bytes_of_dhav_that_ffprobe_reads_and_shows_its_minutes(tmp_path: Path) -> None:
    require_program("/usr/bin/ffprobe", "ffmpeg")
    out: dict[str, object] = {}

    async def scenario() -> None:
        async with nvr() as dev, dev.client() as c:
            files = [f for p in await search(c, 1, "2024-06-01 06:27:00", "2024-06-01 06:29:00") for f in p]
            assert len(files) == 1
            f = files[0]
            got = await c.get(f"/cgi-bin/RPC_Loadfile/{f['FilePath']}")
            again = await c.get(f"/cgi-bin/RPC_Loadfile/{f['FilePath']}")
            async with httpx.AsyncClient(base_url=dev.base) as anon:
                out["anonymous"] = (await anon.get(f"/cgi-bin/RPC_Loadfile/{f['FilePath']}")).status_code
            in_hole = f["FilePath"].replace("06.27.10-06.30.00", "06.15.00-06.30.00")
            out["hole"] = (await c.get(f"/cgi-bin/RPC_Loadfile/{in_hole}")).status_code
            out["item"], out["body"], out["again"] = f, got.content, again.content
            out["headers"] = got.headers

    run(scenario, timeout=120)
    item, body = out["item"], out["body"]
    assert isinstance(item, dict) and isinstance(body, bytes)
    assert len(body) == int(item["Length"]) and out["again"] == body  # the same bytes for the same path
    assert int(out["headers"]["content-length"]) == len(body)  # type: ignore[index]
    assert body[:4] == b"DHAV" and body[-8:-4] == b"dhav" and out["anonymous"] == 401 and out["hole"] == 404
    # the first chunk is a keyframe of channel 0 dated at the file's first keyframe (06:27:10 local: GOPs of 2 s)
    assert body[4] == 0xFD and body[6] == 0
    assert unpack_date(struct.unpack_from("<I", body, 16)[0]) == dt.datetime(2024, 6, 1, 6, 27, 10)
    dav = tmp_path / "file.dav"
    dav.write_bytes(body)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries",
         "stream=codec_name,width,height,nb_read_packets:format=duration,format_name", "-of", "json", str(dav)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    facts = json.loads(probe.stdout)
    stream = facts["streams"][0]
    assert facts["format"]["format_name"] == "dhav" and stream["codec_name"] == "h264"
    assert (stream["width"], stream["height"]) == (SPEC.width, SPEC.height)
    seconds = int(local("06:30:00") - local("06:27:10"))
    assert float(facts["format"]["duration"]) == seconds and int(stream["nb_read_packets"]) == seconds * SPEC.fps
    times = read_times(dav, SPEC.width)
    assert times[0] == (int(local("06:27:10")), 0) and times[-1] == (int(local("06:29:59")), SPEC.fps - 1)
    assert [s for s, _ in times] == sorted(s for s, _ in times) and len(times) == seconds * SPEC.fps


# --------------------------------------------------------------------------- pure parts


def test_paths_dates_and_playback_urls_read_back() -> None:
    before_midnight = DavFile(3, int(local("23:30:00")), int(local("23:30:00")) + 1800)
    path = before_midnight.path(OFFSET)
    assert path == "/mnt/dvr/2024-06-01/2/dav/23/23.30.00-00.00.00[R][0@0][0].dav"
    assert parse_path(path, OFFSET) == before_midnight
    assert parse_path(path.replace("/23/23", "/22/23"), OFFSET) is None and parse_path("/etc/passwd", OFFSET) is None
    moment = dt.datetime(2026, 12, 1, 19, 40, 7)
    assert unpack_date(pack_date(moment)) == moment
    assert playback_target("/cam/playback?channel=10&subtype=0&starttime=2026_12_01_19_40_00&endtime=2026_12_01_19_45_00") == (
        10, 0, dt.datetime(2026, 12, 1, 19, 40),
    )  # fmt: skip
    assert playback_target("/cam/realmonitor?channel=1&subtype=0") is None


def test_remote_device_names_the_camera_each_channel_is_connected_to_and_cannot_be_written() -> None:
    """``RemoteDevice`` reports the serial, MAC and model of the camera at a channel's address now (the
    town's answer, ``source_of``), nothing for a channel not connected, placeholders for unused slots."""
    cam = CameraState.factory_fresh("dahua", "IPC-HDW1230T1", "7K0A76953547PAZ", "3c:ef:8c:1b:a6:af", "V2.8")

    async def scenario() -> None:
        app = functools.partial(nvr_app, source_of=lambda n: cam if n == 1 else None)
        async with served(app, recorder(), password=PASSWORD, timings=TIMINGS) as dev, dev.client() as c:
            table = parse_kv((await c.get("/cgi-bin/configManager.cgi?action=getConfig&name=RemoteDevice")).text)
            one = "table.RemoteDevice.uuid:System_CONFIG_NETCAMERA_INFO_0."
            assert (table[one + "SerialNo"], table[one + "Mac"], table[one + "DeviceType"]) == (
                "7K0A76953547PAZ",
                "3c:ef:8c:1b:a6:af",
                "IPC-HDW1230T1",
            )
            assert table[one + "Address"] == "127.0.0.2" and "Password" not in " ".join(table)
            two = "table.RemoteDevice.uuid:System_CONFIG_NETCAMERA_INFO_1."
            assert (table[two + "Enable"], table[two + "SerialNo"]) == ("true", "")
            three = "table.RemoteDevice.uuid:System_CONFIG_NETCAMERA_INFO_2."
            assert (table[three + "Enable"], table[three + "Address"]) == ("false", "192.168.0.0")
            write = await c.get(f"/cgi-bin/configManager.cgi?action=setConfig&{one[6:]}Address=127.0.0.9")
            assert write.status_code == 400

    run(scenario)
