"""The date/time overlay and H.264+/H.265+ through each driver against its simulated camera: a technician
switches the clock off (or moves and reformats it) in the web UI, here by raw HTTP as the web UI sends
it, never through the driver; the audit names the drift and writes nothing, the apply repairs it and a
second audit is clean.

    .venv/bin/pytest tests/drivers/test_osd_clock_sim.py -q
"""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from driver_sim import Served, served
from test_contract import FAMILIES, PASSWORD, TOWN, Family, drive

from camfleet.config.camera import desired_camera_config
from camfleet.drivers.desired import DesiredConfig
from camfleet.inventory import load


def raw(dev: Served) -> httpx.Client:
    return httpx.Client(base_url=f"http://{dev.host}:{dev.port}", auth=httpx.DigestAuth("admin", PASSWORD), timeout=3)


def baseline(family: Family) -> DesiredConfig:
    fleet = load(TOWN).fleet
    return desired_camera_config(fleet, fleet.cameras[family.inventory_camera])


def tamper(dev: Served, family: Family, *, enabled: str, date: str | None = None) -> None:
    """What the web UI sends: the clock switched off (and, with ``date``, reformatted and moved)."""
    with raw(dev) as client:
        if family.vendor == "hikvision":
            doc = client.get("/ISAPI/System/Video/inputs/channels/1/overlays").text
            block = re.search(r"<DateTimeOverlay>.*?</DateTimeOverlay>", doc, re.DOTALL)
            assert block is not None
            new = re.sub(r"<enabled>\w+</enabled>", f"<enabled>{enabled}</enabled>", block.group(0))
            if date is not None:
                new = re.sub(r"<dateStyle>[^<]*</dateStyle>", f"<dateStyle>{date}</dateStyle>", new)
                new = re.sub(r"<positionY>\d+</positionY>", "<positionY>32</positionY>", new)  # to the bottom
            reply = client.put(
                "/ISAPI/System/Video/inputs/channels/1/overlays", content=doc.replace(block.group(0), new)
            )
            assert reply.status_code == 200, reply.text
        else:
            query = {"action": "setConfig", "VideoWidget[0].TimeTitle.EncodeBlend": enabled}
            if date is not None:
                query |= {"VideoWidget[0].TimeTitle.Rect[1]": "7700", "VideoWidget[0].TimeTitle.Rect[3]": "8100"}
            reply = client.get("/cgi-bin/configManager.cgi", params=query)
            assert reply.status_code == 200 and "OK" in reply.text, reply.text
            if date is not None:
                fmt = {"DD-MM-YYYY": "dd-MM-yyyy HH:mm:ss"}[date]
                reply = client.get(
                    "/cgi-bin/configManager.cgi", params={"action": "setConfig", "Locales.TimeFormat": fmt}
                )
                assert reply.status_code == 200 and "OK" in reply.text, reply.text


@pytest.mark.parametrize("family", FAMILIES)
def test_a_clock_switched_off_in_the_web_ui_is_found_by_the_audit_and_switched_back_on(family: Family) -> None:
    desired = baseline(family)
    state = family.camera()
    with served(family.app, state) as dev, drive(dev, family) as d:
        d.apply_config(desired)
        assert not d.apply_config(desired, check=True).changed
        tamper(dev, family, enabled="false")
        assert state.osd.show_datetime is False
        mark = dev.mark()
        audit = d.apply_config(desired, check=True)
        assert audit.diff_lines == ("osd_time.enabled: false -> true",) and audit.written == ("osd_time",)
        assert dev.writes(since=mark) == [] and state.osd.show_datetime is False  # check mode wrote nothing
        fixed = d.apply_config(desired)
        assert fixed.written == ("osd_time",) and state.osd.show_datetime is True
        assert not d.apply_config(desired, check=True).changed


@pytest.mark.parametrize("family", FAMILIES)
def test_a_clock_moved_and_reformatted_is_put_back_where_and_how_the_baseline_has_it(family: Family) -> None:
    desired = baseline(family)
    state = family.camera()
    with served(family.app, state) as dev, drive(dev, family) as d:
        d.apply_config(desired)
        tamper(dev, family, enabled="true", date="DD-MM-YYYY")
        audit = d.apply_config(desired, check=True)
        assert audit.written == ("osd_time",)
        assert "osd_time.date_format: 'DD-MM-YYYY' -> 'YYYY-MM-DD'" in audit.diff_lines
        assert any(line.startswith("osd_time.y: 0.9") for line in audit.diff_lines)  # near the bottom -> the top
        d.apply_config(desired)
        assert state.osd.date_style == "YYYY-MM-DD" and state.osd.datetime_y < 0.06
        assert not d.apply_config(desired, check=True).changed


def test_hikvision_smartcodec_switched_on_in_the_web_ui_is_switched_off_by_the_baseline() -> None:
    family = next(p.values[0] for p in FAMILIES if p.id == "hikvision")
    desired = baseline(family)
    state = family.camera()
    with served(family.app, state) as dev, drive(dev, family) as d:
        d.apply_config(desired)
        with raw(dev) as client:
            doc = client.get("/ISAPI/Streaming/channels/101").text
            doc = doc.replace(
                "<SmartCodec><enabled>false</enabled></SmartCodec>", "<SmartCodec><enabled>true</enabled></SmartCodec>"
            )
            doc = re.sub(r"<vbrAverageCap>\d+</vbrAverageCap>", "<vbrAverageCap>512</vbrAverageCap>", doc)
            assert client.put("/ISAPI/Streaming/channels/101", content=doc).status_code == 200
        assert state.streams[101].smart_codec and state.streams[101].average_kbps == 512
        audit = d.apply_config(desired, check=True)
        assert audit.diff_lines == ("main.smart_codec: true -> false", "main.average_kbps: 512 -> none")
        d.apply_config(desired)
        assert state.streams[101].smart_codec is False
        on = dataclasses.replace(desired, main=dataclasses.replace(desired.main, smart_codec=True, average_kbps=768))
        d.apply_config(on)
        assert (state.streams[101].smart_codec, state.streams[101].average_kbps) == (True, 768)
        assert not d.apply_config(on, check=True).changed
