"""H.264+/H.265+ and the date/time overlay against what real cameras answered (issue 13): the recorded
``StreamingChannel`` documents of three Hikvision cameras (SmartCodec on with VBR, on with CBR, a 2014
camera without the element), a Hikvision ``overlays`` document, and Dahua's ``VideoWidget``,
``Locales`` and ``SmartEncode`` tables. tests/drivers/replies/*/README.md name each model, firmware
and source; docs/reference/devices.md §6 and §7 the facts.

Served by the bare replay app of ``test_real_replies`` (never the simulator); what the driver writes
is read back from what it sent.

    .venv/bin/pytest tests/drivers/test_stream_osd_replies.py -q
"""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote_plus

import pytest
from driver_sim import served
from test_real_replies import MAIN, Device, camera_answers, dahua, hik, replay_app

from camfleet.drivers.dahua import DahuaCamera
from camfleet.drivers.desired import DesiredConfig, OsdTime, ServiceSwitches, StreamSettings
from camfleet.drivers.hikvision import HikvisionCamera

OVERLAYS = "GET /ISAPI/System/Video/inputs/channels/1/overlays"
STREAMS = "GET /ISAPI/Streaming/channels"
CLOCK = OsdTime(True, "YYYY-MM-DD", "24h", False, 0.0, 0.0556)


def hik_camera(streams: str, overlays: str | tuple[int, str] | None = None) -> Device:
    answers = camera_answers("CST-7:00:00", hik("capabilities-ds2cd2386g2-iu.xml"), (403, hik("notsupport.xml")))
    answers[STREAMS] = hik(streams)
    if overlays is not None:
        answers[OVERLAYS] = overlays
    # the mask capability says true, so a refusal would fail: serve "no masks" instead
    answers["GET /ISAPI/System/Video/inputs/channels/1/privacyMask"] = (
        '<PrivacyMask xmlns="http://www.hikvision.com/ver20/XMLSchema"><enabled>false</enabled></PrivacyMask>'
    )
    return Device(answers)


def config(main: StreamSettings, osd_time: OsdTime | None = None) -> DesiredConfig:
    return DesiredConfig("cam-01", "UTC+07:00", ("10.0.0.1",), "Gate", main, None, ServiceSwitches(), (), osd_time)


def sent(dev: Device, key: str) -> list[str]:
    return [body for k, body in dev.sent if k == key]


# --------------------------------------------------------------------------- Hikvision: SmartCodec


@pytest.mark.parametrize(
    ("fixture", "mode", "cap", "average"),
    [
        ("streams-smartcodec-ds2cd2346g2-isu.xml", "vbr", 4096, 2048),  # V5.7.18: VBR, average half the cap
        ("streams-smartcodec-cbr-ds2cd2t86g2-isu.xml", "cbr", 12288, 6144),  # V5.7.18: CBR, no vbrUpperCap at all
    ],
)
def test_smartcodec_on_reads_with_its_average_beside_the_cap(fixture: str, mode: str, cap: int, average: int) -> None:
    cam = hik_camera(fixture, hik("overlays-factory.xml"))
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        cfg = d.read_config()
    assert (cfg.main.codec, cfg.main.bitrate_mode, cfg.main.bitrate_kbps) == ("h265", mode, cap)
    assert (cfg.main.smart_codec, cfg.main.average_kbps) == (True, average)
    assert cfg.sub is not None and (cfg.sub.smart_codec, cfg.sub.average_kbps) == (False, None)
    # the sub stream has no SmartCodec element on these cameras: reported, never written
    assert "sub.smart_codec" in d.unsupported and "main.smart_codec" not in d.unsupported


def test_an_audit_finds_smartcodec_on_where_the_baseline_has_it_off_and_apply_switches_it_off() -> None:
    cam = hik_camera("streams-smartcodec-ds2cd2346g2-isu.xml", hik("overlays-factory.xml"))
    main = StreamSettings("h265", 2688, 1520, 25, 4096, "vbr", 50)  # the camera's own profile, H.265+ off
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        audit = d.apply_config(config(main), check=True)
        change = d.apply_config(config(main))
    assert audit.diff_lines == ("main.smart_codec: true -> false", "main.average_kbps: 2048 -> none")
    assert change.written == ("main",)
    (body,) = sent(cam, "PUT /ISAPI/Streaming/channels/101")
    assert "<SmartCodec><enabled>false</enabled></SmartCodec>" in body and "vbrAverageCap" not in body


def test_apply_sets_the_average_the_baseline_wants_with_smartcodec_on() -> None:
    cam = hik_camera("streams-smartcodec-cbr-ds2cd2t86g2-isu.xml", hik("overlays-factory.xml"))
    main = StreamSettings("h265", 3840, 2160, 25, 12288, "cbr", 50, smart_codec=True, average_kbps=4096)
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        change = d.apply_config(config(main))
    assert change.diff_lines == ("main.average_kbps: 6144 -> 4096",)
    (body,) = sent(cam, "PUT /ISAPI/Streaming/channels/101")
    assert "<constantBitRate>12288</constantBitRate>" in body and "<vbrAverageCap>4096</vbrAverageCap>" in body
    assert "<SmartCodec><enabled>true</enabled></SmartCodec>" in body


def test_a_camera_without_smartcodec_reports_it_unsupported_and_is_never_sent_the_element() -> None:
    """DS-2CD2532F-IWS V5.2.0 build 140721 (2014): no ``SmartCodec`` in either stream."""
    cam = hik_camera("streams-no-smartcodec-ds2cd2532f-iws.xml", hik("overlays-factory.xml"))
    main = StreamSettings("h264", 2048, 1536, 20, 2048, "cbr", 20, smart_codec=True, average_kbps=1024)
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        cfg = d.read_config()
        change = d.apply_config(config(dataclasses.replace(main)))
    assert (cfg.main.smart_codec, cfg.main.average_kbps) == (False, None)
    assert {"main.smart_codec", "main.average_kbps"} <= set(change.unsupported)
    assert "main.smart_codec: not supported by this device; the inventory's value is not applied" in change.notes
    assert all("SmartCodec" not in body for body in sent(cam, "PUT /ISAPI/Streaming/channels/101"))


# --------------------------------------------------------------------------- Hikvision: the date/time overlay


def test_the_factory_overlay_reads_at_the_top_left_with_y_counted_from_the_bottom() -> None:
    cam = hik_camera("streams-smartcodec-ds2cd2346g2-isu.xml", hik("overlays-factory.xml"))
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        osd = d.read_config().osd_time
    assert osd is not None
    assert (osd.enabled, osd.date_format, osd.time_format, osd.show_week) == (True, "MM-DD-YYYY", "24h", True)
    assert (osd.x, round(osd.y, 4)) == (0.0, 0.0556)  # positionY 544 of 576: 32 from the top


def test_a_switched_off_clock_is_found_and_written_back_with_the_rest_of_the_document_kept() -> None:
    off = hik("overlays-factory.xml").replace(
        "<DateTimeOverlay>\n<enabled>true</enabled>", "<DateTimeOverlay>\n<enabled>false</enabled>"
    )
    cam = hik_camera("streams-smartcodec-ds2cd2346g2-isu.xml", off)
    main = StreamSettings("h265", 2688, 1520, 25, 4096, "vbr", 50, smart_codec=True, average_kbps=2048)
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        audit = d.apply_config(config(main, CLOCK), check=True)
        d.apply_config(config(main, CLOCK))
    assert audit.changed and audit.written == ("osd_time",)
    assert set(audit.diff_lines) == {
        "osd_time.enabled: false -> true",
        "osd_time.date_format: 'MM-DD-YYYY' -> 'YYYY-MM-DD'",
        "osd_time.show_week: true -> false",
    }
    (body,) = sent(cam, "PUT /ISAPI/System/Video/inputs/channels/1/overlays")
    block = body[body.index("<DateTimeOverlay>") : body.index("</DateTimeOverlay>")]
    for element in ("<enabled>true</enabled>", "<positionX>0</positionX>", "<positionY>544</positionY>"):
        assert element in block
    assert "<dateStyle>YYYY-MM-DD</dateStyle>" in block and "<displayWeek>false</displayWeek>" in block
    # the channel name, the text overlay and the layout elements go back as the camera had them
    assert "<displayText>KP05</displayText>" in body and "<alignment>customize</alignment>" in body
    assert body.count("<enabled>true</enabled>") == 3  # the clock, the text overlay, the channel name


def test_a_camera_refusing_the_overlays_resource_audits_without_the_clock() -> None:
    cam = hik_camera("streams-smartcodec-ds2cd2346g2-isu.xml", (403, hik("notsupport.xml")))
    main = StreamSettings("h265", 2688, 1520, 25, 4096, "vbr", 50, smart_codec=True, average_kbps=2048)
    with served(replay_app, cam) as dev, dev.driver(HikvisionCamera, "x") as d:
        change = d.apply_config(config(main, CLOCK), check=True)
    assert "osd_time" in change.unsupported and change.changed is False
    assert "osd_time: not supported by this device; the inventory's value is not applied" in change.notes


# --------------------------------------------------------------------------- Dahua


def dahua_camera(locales: str = "locales.txt", smart: str | tuple[int, str] = "smartencode.txt") -> Device:
    encode = (
        "table.Encode[0].MainFormat[0].Video.Compression=H.265\r\ntable.Encode[0].MainFormat[0].Video.Width=2688\r\n"
        "table.Encode[0].MainFormat[0].Video.Height=1520\r\ntable.Encode[0].MainFormat[0].Video.FPS=25.000000\r\n"
        "table.Encode[0].MainFormat[0].Video.BitRate=4096\r\ntable.Encode[0].MainFormat[0].Video.BitRateControl=VBR\r\n"
        "table.Encode[0].MainFormat[0].Video.GOP=50\r\n"
    )  # ours, in the keys of device-apis.md §2.3
    base = "GET /cgi-bin/configManager.cgi?action=getConfig&name="
    return Device(
        {
            f"{base}General": "table.General.MachineName=cam-01\r\n",
            f"{base}NTP": "table.NTP.Enable=true\r\ntable.NTP.Address=10.0.0.1\r\ntable.NTP.TimeZone=12\r\n",
            f"{base}ChannelTitle": "table.ChannelTitle[0].Name=Gate\r\n",
            f"{base}Encode": encode,
            f"{base}VideoWidget": dahua("videowidget-timetitle.txt"),
            f"{base}Locales": dahua(locales),
            f"{base}SmartEncode": dahua(smart) if isinstance(smart, str) else (smart[0], dahua(smart[1])),
            "GET /cgi-bin/configManager.cgi?action=setConfig": "OK\r\n",
        }
    )


DAHUA_MAIN = StreamSettings("h265", 2688, 1520, 25, 4096, "vbr", 50, smart_codec=True, average_kbps=None)


def test_dahua_time_title_and_time_format_read_as_the_vocabulary() -> None:
    cam = dahua_camera()
    with served(replay_app, cam) as dev, dev.driver(DahuaCamera, "x") as d:
        cfg = d.read_config()
    assert cfg.main.smart_codec is True and cfg.main.average_kbps is None
    assert cfg.osd_time == OsdTime(True, "YYYY-MM-DD", "24h", False, 5319 / 8191, 352 / 8191)
    assert "main.average_kbps" in d.unsupported and "main.smart_codec" not in d.unsupported


def test_dahua_clock_moved_and_reformatted_is_written_to_both_tables_its_size_kept() -> None:
    cam = dahua_camera(locales="locales-slashes.txt")  # dd/MM/yyyy: outside the vocabulary, so it differs
    with served(replay_app, cam) as dev, dev.driver(DahuaCamera, "x") as d:
        change = d.apply_config(config(DAHUA_MAIN, CLOCK))
    assert change.written == ("osd_time",)
    assert "osd_time.date_format: 'dd/MM/yyyy' -> 'YYYY-MM-DD'" in change.diff_lines
    writes = [unquote_plus(q) for k, q in cam.sent if k == "GET /cgi-bin/configManager.cgi?action=setConfig"]
    widget, locales = writes
    y = round(0.0556 * 8191)
    assert "VideoWidget[0].TimeTitle.EncodeBlend=true" in widget and f"VideoWidget[0].TimeTitle.Rect[1]={y}" in widget
    assert "VideoWidget[0].TimeTitle.Rect[0]=0" in widget and "VideoWidget[0].TimeTitle.Rect[2]=2610" in widget
    assert f"VideoWidget[0].TimeTitle.Rect[3]={y + 769 - 352}" in widget
    assert "Locales.TimeFormat=yyyy-MM-dd HH:mm:ss" in locales


def test_dahua_smart_codec_switch_is_its_own_table_and_the_average_is_not_supported() -> None:
    cam = dahua_camera()
    main = dataclasses.replace(DAHUA_MAIN, smart_codec=False)
    wanted = config(dataclasses.replace(main, smart_codec=True, average_kbps=2048), CLOCK)
    with served(replay_app, cam) as dev, dev.driver(DahuaCamera, "x") as d:
        audit = d.apply_config(wanted, check=True)
        d.apply_config(dataclasses.replace(wanted, main=main))
    assert "main.average_kbps: not supported by this device; the inventory's value is not applied" in audit.notes
    writes = [unquote_plus(q) for k, q in cam.sent if k == "GET /cgi-bin/configManager.cgi?action=setConfig"]
    assert any("SmartEncode[0].Enable=false" in w for w in writes)


def test_dahua_firmware_without_smart_encode_reports_the_switch_unsupported() -> None:
    cam = dahua_camera(smart=(400, "getconfig-bad-request.txt"))
    with served(replay_app, cam) as dev, dev.driver(DahuaCamera, "x") as d:
        change = d.apply_config(config(DAHUA_MAIN, CLOCK), check=True)
    assert "main.smart_codec" in change.unsupported
    assert "main.smart_codec: not supported by this device; the inventory's value is not applied" in change.notes


def test_a_stream_without_smart_codec_is_still_the_same_main_profile() -> None:
    assert MAIN.smart_codec is False and MAIN.average_kbps is None
