"""Builds in version order and the catalogue's vulnerable ranges (issue 15 item 6): a build older
than every one the catalogue names is flagged, a fixed one is cleared, an unreadable one is not.

The version strings are the ones devices write (docs/reference/devices.md, device-apis.md §1/§4,
tests/drivers/replies/dahua/getsoftwareversion.txt)."""

from __future__ import annotations

import datetime as dt

import pytest

from camfleet.inventory import load
from camfleet.inventory.catalogue import status_of, vulnerability
from camfleet.inventory.versions import parse_build
from camfleet.model import FirmwareEntry
from tests.conftest import TOWN


@pytest.mark.parametrize(
    ("text", "vendor", "numbers", "date"),
    [
        ("V5.4.5 build 160530", "hikvision", (5, 4, 5), dt.date(2016, 5, 30)),
        ("V5.7.15 build 240201", "hikvision", (5, 7, 15), dt.date(2024, 2, 1)),
        ("V5.5.800build 210628", "hikvision", (5, 5, 800), dt.date(2021, 6, 28)),
        ("IPC_E0_CN_STD_5.4.6_180112", "hikvision", (5, 4, 6), dt.date(2018, 1, 12)),
        ("V4.62.210 build 230619", "hikvision", (4, 62, 210), dt.date(2023, 6, 19)),
        ("V5.5.0", "hikvision", (5, 5, 0), None),
        ("build 210628", "hikvision", (), dt.date(2021, 6, 28)),
        ("V2.800.0000000.25.R, Build Date: 2021-06-01", "dahua", (2, 800, 0, 25), dt.date(2021, 6, 1)),
        ("2.800.0000016.0.R,build:2020-06-05", "dahua", (2, 800, 16, 0), dt.date(2020, 6, 5)),
        ("V2.840.0000000.11.R.230412", "dahua", (2, 840, 0, 11), dt.date(2023, 4, 12)),
        ("V2.800.0000000.16.R.210518", "kbvision", (2, 800, 0, 16), dt.date(2021, 5, 18)),
        ("Build Date: 2021-07-01", "dahua", (), dt.date(2021, 7, 1)),
    ],
)
def test_builds_as_devices_write_them_are_read(text: str, vendor: str, numbers: tuple[int, ...], date: dt.date) -> None:
    parsed = parse_build(text, vendor)
    assert parsed is not None and (parsed.numbers, parsed.date) == (numbers, date)


@pytest.mark.parametrize("text", ["unknown", "", "V5.4.5 build 161399", "V2.800.0000000.1.R.garbage"])
def test_what_is_not_a_build_reads_as_none(text: str) -> None:
    assert parse_build(text, "dahua" if "R." in text else "hikvision") is None


def test_hikvision_orders_by_version_then_build_date() -> None:
    def p(t: str):  # type: ignore[no-untyped-def]
        return parse_build(t, "hikvision")

    assert p("V5.4.5 build 160530").compare(p("V5.4.5 build 170123")) == -1
    assert p("V5.4.5 build 170123").compare(p("V5.4.5 build 170123")) == 0
    assert p("V5.5.0 build 170725").compare(p("V5.4.5 build 170123")) == 1
    assert p("V5.4.9 build 190101").compare(p("V5.5.0")) == -1  # a dateless bound: every build of 5.5.0
    assert p("V5.5.0 build 170725").compare(p("V5.5.0")) == 0
    assert p("V5.6.3 build 190923").compare(p("build 210628")) == -1  # a date-only bound compares dates
    assert p("V5.4.5").compare(p("V5.4.5 build 170123")) is None  # cannot tell without the build date


def test_dahua_orders_by_build_date_first() -> None:
    older = parse_build("V2.840.0000000.1.R.200101", "dahua")
    newer = parse_build("V2.800.0000000.25.R, Build Date: 2021-06-01", "dahua")
    assert older is not None and newer is not None
    assert older.compare(newer) == -1  # a higher baseline built earlier is still older


def entry(**ranges: object) -> FirmwareEntry:
    return FirmwareEntry.model_validate(
        {
            "vendor": "hikvision",
            "model": "DS-2CD2032-I",
            "approved": {"build": "V5.7.15 build 230519", "file": "f.dav", "sha256": "0" * 64},
            "known_bad": [{"build": "V5.5.0 build 170725", "cves": ["CVE-2021-36260"]}],
            **ranges,
        }
    )


def test_an_older_build_than_every_catalogued_one_is_flagged_by_its_range() -> None:
    line = entry(
        vulnerable=[
            {"cves": ["CVE-2017-7921"], "affected_from": "V5.2.0 build 140721", "fixed_in": "V5.4.5 build 170123"},
            {"cves": ["CVE-2021-36260"], "fixed_in": "build 210628", "note": "command injection"},
        ]
    )
    old = vulnerability(line, "V5.4.5 build 160530")
    assert old is not None and old.cves == ("CVE-2017-7921", "CVE-2021-36260")
    assert vulnerability(line, "V5.1.6 build 140412") is not None  # before 7921's range, still 36260
    assert vulnerability(line, "V5.1.6 build 140412").cves == ("CVE-2021-36260",)  # type: ignore[union-attr]
    assert vulnerability(line, "V5.5.800 build 210628") is None  # the fixed build
    assert vulnerability(line, "V5.7.15 build 230519") is None
    assert vulnerability(line, "V5.5.0 build 170725").build == "V5.5.0 build 170725"  # type: ignore[union-attr]


def test_last_affected_is_inclusive_and_a_dateless_bound_covers_its_whole_version() -> None:
    line = entry(vulnerable=[{"cves": ["CVE-2017-7921"], "last_affected": "V5.4.4"}])
    assert vulnerability(line, "V5.4.4 build 161125") is not None
    assert vulnerability(line, "V5.4.3 build 160808") is not None
    assert vulnerability(line, "V5.4.5 build 160928") is None


def test_an_unreadable_build_is_never_cleared_when_the_model_has_ranges() -> None:
    line = entry(vulnerable=[{"cves": ["CVE-2021-36260"], "fixed_in": "build 210628"}])
    found = vulnerability(line, "firmware 5-ish")
    assert found is not None and found.cves == ("CVE-2021-36260",) and "cannot rule out" in (found.note or "")
    assert vulnerability(entry(), "firmware 5-ish") is None  # no ranges: nothing to rule out


def test_the_reference_town_flags_an_old_hikvision_build_it_never_names() -> None:
    fleet = load(TOWN, overlay=False).fleet
    status = status_of(fleet, "cam-03-t04", "V5.4.5 build 160530")
    assert status.vulnerable is not None
    assert set(status.vulnerable.cves) == {"CVE-2017-7921", "CVE-2021-36260"}
    assert status_of(fleet, "cam-03-t04", "V5.7.15 build 230519").vulnerable is None
    dahua = status_of(fleet, "cam-01-t04", "V2.800.0000000.25.R, Build Date: 2021-06-01")
    assert dahua.vulnerable is not None and dahua.vulnerable.cves == ("CVE-2021-33044",)
    assert status_of(fleet, "cam-01-t04", "V2.840.0000000.11.R.230412").vulnerable is None
