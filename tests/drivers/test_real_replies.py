"""The drivers against what real Hikvision and Dahua devices answered, outside footage
(tests/drivers/replies/*/README.md name each device, its firmware and the source of the shape):
the recording-schedule switch, time zones with daylight saving, NAS volumes, cameras without
privacy masks, and Dahua facts and config tables.

The replies are served by a bare aiohttp app on a 127.77.x.y address, never by the simulator: the
simulator is ours and can only agree with the driver; these shapes are the devices'. Where a test
needs a resource no fixture records (a camera's stream list, its device info), the app answers a
minimal document, written here and marked as ours.

    .venv/bin/pytest tests/drivers/test_real_replies.py -q
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from driver_sim import served

from camfleet.drivers.base import Disk
from camfleet.drivers.dahua import DahuaCamera, DahuaNvr
from camfleet.drivers.desired import DesiredConfig, Mask, ServiceSwitches, StreamSettings, parse_posix_tz
from camfleet.drivers.errors import AuthError, MalformedReply
from camfleet.drivers.hikvision import HikvisionCamera, HikvisionNvr, hik_zone, hik_zone_text, zone_label

HIK = Path(__file__).parent / "replies" / "hikvision"
DAHUA = Path(__file__).parent / "replies" / "dahua"
UTC = dt.UTC
EASTERN_DST = "UTC-05:00 DST UTC-04:00 M3.2.0/02:00:00,M11.1.0/02:00:00"


def hik(name: str) -> str:
    return (HIK / name).read_text(encoding="utf-8")


def dahua(name: str) -> str:
    return (DAHUA / name).read_text(encoding="utf-8")


class Device:
    """What the replay app answers (``"GET /path"`` or, for Dahua, ``"GET /cgi-bin/x.cgi?action=a&name=n"``
    → status and body) and what it was sent."""

    def __init__(self, answers: dict[str, str | tuple[int, str]]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str]] = []

    def key(self, request: web.Request) -> str:
        query = "&".join(f"{k}={request.query[k]}" for k in ("action", "name") if k in request.query)
        return f"{request.method} {request.path}" + (f"?{query}" if query else "")


def replay_app(dev: Device, faults: Any, **_: Any) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        key = dev.key(request)
        dev.sent.append((key, await request.text() if request.method != "GET" else request.query_string))
        found = dev.answers.get(key)
        if found is None and request.method in ("PUT", "POST"):
            found = OK
        if found is None:
            return web.Response(status=404, text="Document Error: Not Found")
        status, body = found if isinstance(found, tuple) else (200, found)
        kind = "text/plain" if request.path.startswith("/cgi-bin/") else "application/xml"
        return web.Response(status=status, text=body, content_type=kind)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


OK = (
    '<?xml version="1.0" encoding="UTF-8"?><ResponseStatus version="1.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">'
    "<requestURL>/</requestURL><statusCode>1</statusCode><statusString>OK</statusString><subStatusCode>ok</subStatusCode>"
    "</ResponseStatus>"
)


# --------------------------------------------------------------------------- Hikvision: the recording schedule


@pytest.mark.parametrize(
    ("fixture", "mode"),
    [
        ("track-continuous-ds9632ni-m8.xml", "continuous"),  # Enable false as on every real track; days Mon→Tue 00:00
        ("track-switch-off-ds7616ni-m2.xml", "none"),  # enableSchedule false: not recording, whatever Enable says
        ("track-empty-ds7716ni-i4.xml", "none"),  # switched on, nothing scheduled
        ("track-motion-ds7716ni-i4.xml", "event"),  # motion on weekdays
    ],
)
def test_the_schedule_switch_and_the_days_as_real_recorders_write_them(fixture: str, mode: str) -> None:
    rec = Device({"GET /ISAPI/ContentMgmt/record/tracks/101": hik(fixture)})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        assert d.recording_schedule(1) == mode


def test_a_switched_off_schedule_is_switched_on_with_the_tracks_own_settings_kept() -> None:
    rec = Device({"GET /ISAPI/ContentMgmt/record/tracks/101": hik("track-switch-off-ds7616ni-m2.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        assert d.set_recording_schedule(1, continuous=True) is True
    ((_, body),) = [s for s in rec.sent if s[0].startswith("PUT")]
    assert "<enableSchedule>true</enableSchedule>" in body and body.count("<ActionRecordingMode>CMR<") == 7
    assert "<CustomExtensionName>www.hikvision.com/RaCM/trackExt/ver10</CustomExtensionName>" in body
    assert "<PreRecordTimeSeconds>5</PreRecordTimeSeconds>" in body and "HolidaySchedule" not in body


def test_a_recorder_already_recording_around_the_week_is_not_written() -> None:
    rec = Device({"GET /ISAPI/ContentMgmt/record/tracks/101": hik("track-continuous-ds9632ni-m8.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        assert d.set_recording_schedule(1, continuous=True) is False
        assert d.set_recording_schedule(1, continuous=False) is True
    put = next(body for key, body in rec.sent if key.startswith("PUT"))
    assert "<enableSchedule>false</enableSchedule>" in put and "<ScheduleAction>" not in put


def test_a_refusal_answered_in_place_of_a_track_is_an_error_not_no_schedule() -> None:
    wrong = '<?xml version="1.0"?><TrackList xmlns="http://www.hikvision.com/ver20/XMLSchema"></TrackList>'
    rec = Device(
        {
            "GET /ISAPI/ContentMgmt/record/tracks/101": wrong,
            "GET /ISAPI/ContentMgmt/record/tracks/201": (200, hik("notsupport.xml")),
        }
    )
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        with pytest.raises(MalformedReply, match="is <TrackList>, not <Track>"):
            d.recording_schedule(1)
        with pytest.raises(Exception, match="notSupport"):
            d.recording_schedule(2)


# --------------------------------------------------------------------------- Hikvision: time zones


def test_hikvision_zone_strings_with_daylight_saving_read_and_write_in_full() -> None:
    """Hours west (``CST+5`` is UTC-5) and, after ``DST``, the saving: both as the recorded devices have them."""
    assert zone_label("CST+5:00:00") == "UTC-05:00" and zone_label("CST-7:00:00") == "UTC+07:00"
    us = "CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00"
    assert zone_label(us) == EASTERN_DST and hik_zone_text(hik_zone(us)) == us
    chile = "CST+4:00:00DST01:00:00,M9.1.6/24:00:00,M4.1.6/24:00:00"  # a field note's Chilean NVR
    assert hik_zone_text(hik_zone(chile)) == chile
    zone = hik_zone(us)
    at = dt.datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)  # 01:59:59 EST: the last second of winter
    assert zone.utcoffset(at) == -5 * 3600 and zone.utcoffset(at + dt.timedelta(seconds=1)) == -4 * 3600
    assert zone.utcoffset(dt.datetime(2026, 11, 1, 5, 59, 59, tzinfo=UTC)) == -4 * 3600
    assert zone.utcoffset(dt.datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC)) == -5 * 3600
    south = hik_zone("CST-10:00:00DST01:00:00,M10.1.0/02:00:00,M4.1.0/03:00:00")  # Sydney, saving over new year
    assert south.utcoffset(dt.datetime(2026, 1, 15, tzinfo=UTC)) == 11 * 3600
    assert south.utcoffset(dt.datetime(2026, 7, 15, tzinfo=UTC)) == 10 * 3600
    # the other rule forms of POSIX: Jn (29 February never counted) and n (counted), times with a sign
    jn = parse_posix_tz("XST3XDT,J60/-1,300/25:30")
    assert jn.start is not None and jn.start.date(2028) == dt.date(2028, 3, 1) and jn.start.time_s == -3600
    assert jn.end is not None and jn.end.date(2028) == dt.date(2028, 10, 27) and jn.end.time_s == 25 * 3600 + 1800
    assert parse_posix_tz("<+0545>-5:45").label() == "UTC+05:45"
    with pytest.raises(ValueError, match="not a POSIX TZ string"):
        hik_zone("Europe/Berlin")


def test_a_recorder_on_platform_time_with_daylight_saving_reports_its_offset_and_zone() -> None:
    """The reply recorded in qb60/hikvision-downloader#5: no namespace, ``timeMode`` platform, the zone
    wrapped in new lines; March 2nd is winter, +01:00."""
    rec = Device({"GET /ISAPI/System/time": hik("time-dst-cet-platform.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        clock = d.time()
    assert clock.utc_offset_s == 3600 and clock.device_utc.hour == 16
    assert zone_label(" \nCST-1:00:00DST01:00:00,M3.5.0/02:00:00,M10.5.0/03:00:00\n") == (
        "UTC+01:00 DST UTC+02:00 M3.5.0/02:00:00,M10.5.0/03:00:00"
    )


def test_a_local_time_without_its_offset_is_read_in_the_zone_daylight_saving_included() -> None:
    rec = Device({"GET /ISAPI/System/time": hik("time-dst-us-eastern.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        clock = d.time()
    assert clock.utc_offset_s == -4 * 3600  # September: EDT, not the standard -5
    assert clock.device_utc == dt.datetime(2026, 9, 9, 11, 24, 29, tzinfo=UTC)


def test_the_sign_of_a_zone_agrees_with_the_devices_own_local_time() -> None:
    rec = Device({"GET /ISAPI/System/time": hik("time-est-manual.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        assert d.time().utc_offset_s == -5 * 3600
    assert zone_label("CST+5:00:00") == "UTC-05:00"


# --------------------------------------------------------------------------- Hikvision: a camera's audit


MAIN = StreamSettings("h264", 1920, 1080, 12, 1536, "vbr", 24)


def camera_answers(
    zone: str, capabilities: str | None, masks: str | tuple[int, str]
) -> dict[str, str | tuple[int, str]]:
    """A camera's resources: the recorded ones given, the rest minimal documents of ours."""
    ns = 'xmlns="http://www.hikvision.com/ver20/XMLSchema"'
    stream = (
        "<StreamingChannel><id>101</id><Video><videoCodecType>H.264</videoCodecType><videoResolutionWidth>1920"
        "</videoResolutionWidth><videoResolutionHeight>1080</videoResolutionHeight><videoQualityControlType>VBR"
        "</videoQualityControlType><vbrUpperCap>1536</vbrUpperCap><maxFrameRate>1200</maxFrameRate><GovLength>24"
        "</GovLength><SmartCodec><enabled>false</enabled></SmartCodec></Video></StreamingChannel>"
    )
    answers: dict[str, str | tuple[int, str]] = {
        "GET /ISAPI/System/deviceInfo": f"<DeviceInfo {ns}><deviceName>cam-01</deviceName><model>DS-2CD2443G0-IW</model></DeviceInfo>",
        "GET /ISAPI/System/time": f"<Time {ns}><timeMode>NTP</timeMode><localTime>2026-07-01T08:00:00-04:00</localTime><timeZone>{zone}</timeZone></Time>",
        "GET /ISAPI/System/time/ntpServers": f"<NTPServerList {ns}><NTPServer><id>1</id><addressingFormatType>ipaddress</addressingFormatType><ipAddress>10.0.0.1</ipAddress></NTPServer></NTPServerList>",
        "GET /ISAPI/System/Video/inputs/channels/1": f"<VideoInputChannel {ns}><id>1</id><name>Gate</name></VideoInputChannel>",
        "GET /ISAPI/Streaming/channels": f"<StreamingChannelList {ns}>{stream}</StreamingChannelList>",
        "GET /ISAPI/System/Video/inputs/channels/1/privacyMask": masks,
        "GET /ISAPI/System/Video/inputs/channels/1/overlays": hik("overlays-factory.xml"),
    }
    for part, root in (("UPnP", "UPnP"), ("EZVIZ", "EZVIZ"), ("ssh", "SSH")):
        answers[f"GET /ISAPI/System/Network/{part}"] = f"<{root} {ns}><enabled>false</enabled></{root}>"
    if capabilities is not None:
        answers["GET /ISAPI/System/capabilities"] = capabilities
    return answers


def wanted(zone: str, masks: tuple[Mask, ...] = ()) -> DesiredConfig:
    return DesiredConfig("cam-01", zone, ("10.0.0.1",), "Gate", MAIN, None, ServiceSwitches(), masks)


def test_a_camera_in_a_zone_with_daylight_saving_audits_clean_and_is_rewritten_in_full() -> None:
    us = "CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00"
    no_masks = '<PrivacyMask xmlns="http://www.hikvision.com/ver20/XMLSchema"><enabled>false</enabled></PrivacyMask>'
    rec = Device(camera_answers(us, hik("capabilities-ds2cd2386g2-iu.xml"), no_masks))
    with served(replay_app, rec) as dev, dev.driver(HikvisionCamera, "x") as d:
        assert d.read_config().timezone == EASTERN_DST
        assert d.apply_config(wanted(EASTERN_DST), check=True).changed is False  # the rule is not drift
        change = d.apply_config(wanted("UTC+07:00"))
    assert change.written == ("timezone",)
    (body,) = [b for k, b in rec.sent if k == "PUT /ISAPI/System/time"]
    assert "<timeZone>CST-7:00:00</timeZone>" in body
    rec.sent.clear()
    rec.answers["GET /ISAPI/System/time"] = rec.answers["GET /ISAPI/System/time"].replace(us, "CST-7:00:00")  # type: ignore[union-attr]
    with served(replay_app, rec) as dev, dev.driver(HikvisionCamera, "x") as d:
        d.apply_config(wanted(EASTERN_DST))
    (body,) = [b for k, b in rec.sent if k == "PUT /ISAPI/System/time"]
    assert f"<timeZone>{us}</timeZone>" in body  # the DST part and its rules, not the offset alone


def test_a_camera_that_does_not_list_privacy_masks_and_refuses_them_is_audited_without_them() -> None:
    """DS-2CD2443G0-IW V5.6.5: ``isSupportPrivacyMask`` missing from its capabilities; the mask resource
    answered with the notSupport refusal Hikvision gives for what a model lacks."""
    rec = Device(camera_answers("CST-7:00:00", hik("capabilities-ds2cd2443g0-iw.xml"), (403, hik("notsupport.xml"))))
    with served(replay_app, rec) as dev, dev.driver(HikvisionCamera, "x") as d:
        change = d.apply_config(wanted("UTC+07:00", (Mask(0.1, 0.1, 0.2, 0.2),)), check=True)
        assert d.read_config().masks == ()
    assert change.unsupported == ("masks",) and change.changed is False
    assert change.notes == ("masks: not supported by this device; the inventory's value is not applied",)


def test_a_camera_whose_capabilities_say_no_masks_is_never_asked_for_them() -> None:
    caps = hik("capabilities-ds2cd2386g2-iu.xml").replace("<isSupportPrivacyMask>true<", "<isSupportPrivacyMask>false<")
    rec = Device(camera_answers("CST-7:00:00", caps, (500, "should not be asked")))
    with served(replay_app, rec) as dev, dev.driver(HikvisionCamera, "x") as d:
        change = d.apply_config(wanted("UTC+07:00", (Mask(0.1, 0.1, 0.2, 0.2),) * 5))  # more than 4: not even fitted
    assert change.unsupported == ("masks",) and change.written == ()
    assert not any("privacyMask" in k for k, _ in rec.sent)


def test_a_camera_that_lists_masks_still_fails_loudly_when_the_mask_resource_breaks() -> None:
    rec = Device(camera_answers("CST-7:00:00", hik("capabilities-ds2cd2386g2-iu.xml"), (403, hik("notsupport.xml"))))
    with (
        served(replay_app, rec) as dev,
        dev.driver(HikvisionCamera, "x") as d,
        pytest.raises(Exception, match="notSupport"),
    ):
        d.read_config()


# --------------------------------------------------------------------------- Hikvision: storage


def test_a_nas_volume_is_reported_beside_the_local_disk() -> None:
    rec = Device({"GET /ISAPI/ContentMgmt/Storage": hik("storage-hdd-nas.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        disk, nas = d.disks()
    mib = 2**20
    assert disk == Disk(1, 29818 * mib, 25600 * mib, "ok", "RW", "sata", None)
    assert nas == Disk(9, 476837 * mib, 400000 * mib, "ok", "RW", "nas", "10.20.0.50:/volume1/cctv (SMB/CIFS)")


def test_an_offline_nas_is_reported_not_dropped() -> None:
    """DS-2CD2146G2-ISU V5.7.17: no local disk, a NAS the camera cannot reach (``offline``, 0 bytes)."""
    rec = Device({"GET /ISAPI/ContentMgmt/Storage": hik("storage-nas-offline-ds2cd2146g2-isu.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        (nas,) = d.disks()
    assert (nas.slot, nas.kind, nas.status, nas.capacity_bytes) == (9, "nas", "offline", 0)
    assert nas.source == "10.20.0.51:/volume2/cameras (NFS)"


def test_an_nvr_without_nas_and_a_full_disk_in_overwrite_reads_as_one_healthy_disk() -> None:
    rec = Device({"GET /ISAPI/ContentMgmt/Storage": hik("storage-ds7608nxi-i2.xml")})
    with served(replay_app, rec) as dev, dev.driver(HikvisionNvr, "x") as d:
        (disk,) = d.disks()
    assert (disk.slot, disk.status, disk.free_bytes, disk.kind) == (1, "ok", 0, "sata")
    assert disk.capacity_bytes == 3815447 * 2**20  # a "4 TB" disk: MiB on the wire


# --------------------------------------------------------------------------- Dahua


def dahua_answers(network: str | tuple[int, str]) -> dict[str, str | tuple[int, str]]:
    return {
        "GET /cgi-bin/magicBox.cgi?action=getSystemInfo": dahua("getsysteminfo.txt"),
        "GET /cgi-bin/magicBox.cgi?action=getSoftwareVersion": dahua("getsoftwareversion.txt"),
        "GET /cgi-bin/magicBox.cgi?action=getMachineName": "name=cam-05-t02\r\n",
        "GET /cgi-bin/configManager.cgi?action=getConfig&name=Network": network,
    }


def test_dahua_facts_read_the_mac_of_the_default_interface() -> None:
    rec = Device(dahua_answers(dahua("network-nvr.txt")))
    with served(replay_app, rec) as dev, dev.driver(DahuaNvr, "x") as d:
        facts = d.facts()
    assert (facts.model, facts.mac, facts.firmware) == (
        "IPC-HFW2431S-S-S2",
        "3c:ef:8c:20:00:30",
        "V2.800.0000016.0.R.200605",
    )


@pytest.mark.parametrize(
    "network",
    [(400, "getconfig-bad-request.txt"), (403, "getconfig-bad-request.txt"), (200, "getconfig-other-table.txt")],
)
def test_dahua_facts_degrade_per_field_when_the_network_table_cannot_be_read(network: tuple[int, str]) -> None:
    status, name = network
    answers = dahua_answers((status, dahua(name)))
    del answers["GET /cgi-bin/magicBox.cgi?action=getMachineName"]  # not offered (404): one more field unknown
    rec = Device(answers)
    with served(replay_app, rec) as dev, dev.driver(DahuaCamera, "x") as d:
        facts = d.facts()
    assert facts.activated and facts.mac is None and facts.device_name is None
    assert (facts.model, facts.serial, facts.firmware) == (
        "IPC-HFW2431S-S-S2",
        "6G0XXXXPAG00000",
        "V2.800.0000016.0.R.200605",
    )


def test_dahua_facts_still_fail_on_a_refused_password() -> None:
    answers = dahua_answers((401, "Error\r\nInvalid Authority!\r\n"))
    with served(replay_app, Device(answers)) as dev, dev.driver(DahuaCamera, "x") as d, pytest.raises(AuthError):
        d.facts()


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        ("getconfig-other-table.txt", "holds a key of another table"),
        ("getconfig-html-page.txt", "reply to configManager.cgi"),  # not key=value, or a key of no table
        (None, "is empty"),
    ],
)
def test_a_dahua_reply_that_is_not_the_table_asked_for_is_malformed_not_empty(reply: str | None, said: str) -> None:
    rec = Device({"GET /cgi-bin/configManager.cgi?action=getConfig&name=NTP": dahua(reply) if reply else ""})
    with served(replay_app, rec) as dev, dev.driver(DahuaCamera, "x") as d:
        with pytest.raises(MalformedReply, match=said):
            d.config("NTP")
        with pytest.raises(MalformedReply, match=said):
            d.time()  # the zone comes from NTP: never read as zone 0
