"""The ONVIF driver against what real cameras answered (tests/drivers/replies/onvif/README.md names
each shape, its source and how sure it is): a Dahua-family camera (an Imou) that has no
``GetServices`` and is found through ``GetCapabilities``, and a Hikvision that lists its services.

The replies are served by a bare aiohttp app on a 127.77.x.y address, never by the simulator. The
addresses the replies name (``192.168.1.123``, ``192.168.1.64``: the cameras' LAN) are turned into
*another* loopback address on which nothing listens, so a driver that followed an address the
camera names instead of the one it was given fails here (and nothing ever leaves loopback).

    .venv/bin/pytest tests/drivers/test_onvif_replies.py -q
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from driver_sim import served

from camfleet.drivers import NOT_MANAGED
from camfleet.drivers.errors import AuthError, MalformedReply, ReplyTooLarge, Unsupported
from camfleet.drivers.http import DOCUMENT_MAX
from camfleet.drivers.onvif import OnvifCamera

REPLIES = Path(__file__).parent / "replies" / "onvif"
LAN = {"dahua": "192.168.1.123", "hikvision": "192.168.1.64"}
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64 + b"\xff\xd9"
OPERATION = re.compile(rb"<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)")


@dataclass
class Replay:
    """Which camera's replies to serve, what to refuse, and what was asked."""

    vendor: str
    refuse: set[str] = field(default_factory=set)  # operations answered with the vendor's NotAuthorized
    override: dict[str, bytes] = field(default_factory=dict)
    endless: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)


def replay_app(replay: Replay, faults: Any, **_: Any) -> web.Application:
    async def answer(request: web.Request) -> web.StreamResponse:
        if request.method == "GET":  # the snapshot URI
            replay.asked.append(request.path_qs)
            return web.Response(body=JPEG, content_type="image/jpeg")
        body = await request.read()
        m = OPERATION.search(body)
        op = m.group(1).decode() if m else "?"
        replay.asked.append(op)
        if op in replay.endless:  # a body that never ends (issue 15)
            resp = web.StreamResponse(headers={"Content-Type": "application/soap+xml"})
            await resp.prepare(request)
            await resp.write(b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">')
            while True:
                await resp.write(b"<s:Body>" * 8192)
        if op in replay.refuse:
            status = 401 if replay.vendor == "hikvision" else 400
            return web.Response(status=status, body=(REPLIES / f"{replay.vendor}-NotAuthorized.xml").read_bytes())
        path = REPLIES / f"{replay.vendor}-{op}.xml"
        if op in replay.override:
            text = replay.override[op]
        elif path.exists():
            text = path.read_bytes()
        else:  # what a camera without the call answers [M]
            return web.Response(
                status=400,
                content_type="application/soap+xml",
                body=b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                b'xmlns:ter="http://www.onvif.org/ver10/error"><s:Body><s:Fault><s:Code><s:Value>s:Receiver'
                b"</s:Value><s:Subcode><s:Value>ter:ActionNotSupported</s:Value></s:Subcode></s:Code>"
                b'<s:Reason><s:Text xml:lang="en">not supported</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>',
            )
        # The camera's LAN address becomes a loopback one where nothing listens (see the module's docstring).
        host = request.host.split(":")[0]
        elsewhere = ".".join([*host.split(".")[:3], str((int(host.split(".")[3]) % 250) + 3)])
        text = text.replace(LAN[replay.vendor].encode(), elsewhere.encode())
        return web.Response(body=text, content_type="application/soap+xml", charset="utf-8")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@pytest.mark.parametrize("vendor", ["dahua", "hikvision"])
def test_facts_time_and_uris_from_real_replies(vendor: str) -> None:
    replay = Replay(vendor)
    with served(replay_app, replay) as dev, dev.driver(OnvifCamera, "secret") as cam:
        facts = cam.facts()
        clock = cam.time()
        sub = cam.stream_path(sub=True)
        snap = cam.snapshot()
    if vendor == "dahua":
        assert (facts.vendor, facts.model, facts.serial) == ("imou", "IPC-F22P", "7G0A1B2PAZ3C4D5")
        assert facts.firmware == "2.840.0000000.5.R, Build Date 2022-06-14"
        assert clock.device_utc == dt.datetime(2024, 6, 1, 3, 4, 5, tzinfo=dt.UTC)
        assert sub == "/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif"  # whitespace in <Uri> trimmed
        assert "/onvifsnapshot/media_service/snapshot?channel=1&subtype=0" in replay.asked
        assert "GetCapabilities" in replay.asked  # no GetServices on this firmware: found the old way
    else:
        assert (facts.vendor, facts.model, facts.firmware) == ("hikvision", "DS-2CD2085FWD-I", "V5.5.82 build 190909")
        assert clock.device_utc == dt.datetime(2024, 5, 31, 23, 59, 30, tzinfo=dt.UTC)
        assert sub == "/Streaming/Channels/102?transportmode=unicast&profile=Profile_2"
        assert "/onvif-http/snapshot?Profile_1" in replay.asked
    assert clock.utc_offset_s == 7 * 3600  # LocalDateTime minus UTCDateTime, across midnight too
    assert clock.skew_s < -86400  # the replies' clock is in 2024: far behind ours
    assert snap == JPEG
    assert "GetProfiles" in replay.asked  # the media service was reached at our address, not the LAN one


def test_the_sub_stream_is_the_smallest_profile_and_main_the_largest() -> None:
    with served(replay_app, Replay("hikvision")) as dev, dev.driver(OnvifCamera, "secret") as cam:
        assert cam.profile(sub=False).token == "Profile_1"
        assert (cam.profile(sub=True).token, cam.profile(sub=True).width) == ("Profile_2", 640)


@pytest.mark.parametrize("vendor", ["dahua", "hikvision"])
def test_a_refused_login_is_one_line_and_never_sent_twice(vendor: str) -> None:
    replay = Replay(vendor, refuse={"GetDeviceInformation"})
    with served(replay_app, replay) as dev, dev.driver(OnvifCamera, "wrong") as cam:
        with pytest.raises(AuthError) as first:
            cam.facts()
        asked = len(replay.asked)
        with pytest.raises(AuthError, match="not sending the refused credentials again"):
            cam.facts()
        assert len(replay.asked) == asked
    message = str(first.value)
    assert message.startswith("dev-under-test: sai mật khẩu / ONVIF login refused") and "NotAuthorized" in message
    assert "\n" not in message and "wrong" not in message


@pytest.mark.parametrize("cut", [180, 400])  # in the element's name; in the serial number (recover mode kept half)
def test_a_cut_reply_is_a_one_line_malformed_reply(cut: int) -> None:
    broken = (REPLIES / "hikvision-GetDeviceInformation.xml").read_bytes()[:cut]
    with (
        served(replay_app, Replay("hikvision", override={"GetDeviceInformation": broken})) as dev,
        dev.driver(OnvifCamera, "secret") as cam,
        pytest.raises(MalformedReply) as err,
    ):
        cam.facts()
    message = str(err.value)
    assert message.startswith(
        "dev-under-test: trả lời không đọc được / POST /onvif/device_service: the reply is not well-formed XML"
    )
    assert "\n" not in message


def test_a_stream_uri_that_is_not_rtsp_is_refused() -> None:
    odd = (REPLIES / "hikvision-GetStreamUri.xml").read_bytes().replace(b"rtsp://", b"http://")
    with (
        served(replay_app, Replay("hikvision", override={"GetStreamUri": odd})) as dev,
        dev.driver(OnvifCamera, "secret") as cam,
        pytest.raises(MalformedReply, match="GetStreamUri gave no rtsp:// URI"),
    ):
        cam.stream_uri(sub=True)


def test_nothing_is_written_to_a_shared_camera() -> None:
    replay = Replay("hikvision")
    with served(replay_app, replay) as dev, dev.driver(OnvifCamera, "secret") as cam:
        for call in (cam.reboot, cam.users, cam.config_export, lambda: cam.set_password("admin", "x")):
            with pytest.raises(Unsupported, match=re.escape(NOT_MANAGED)):
                call()
    assert replay.asked == []


def test_an_endless_reply_is_cut_at_its_cap() -> None:
    replay = Replay("hikvision", endless={"GetDeviceInformation"})
    with (
        served(replay_app, replay) as dev,
        dev.driver(OnvifCamera, "secret", timeout=10) as cam,
        pytest.raises(ReplyTooLarge) as err,
    ):
        cam.facts()
    assert err.value.cap == DOCUMENT_MAX and err.value.received <= DOCUMENT_MAX + 2**20
