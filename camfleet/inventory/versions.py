"""Firmware builds in version order: what "older than the fixed build" means for each maker.

Why not compare the text: a catalogue names a few builds, a town runs many more, and an audit that
only matches the exact strings it knows clears every older build it has never seen (issue 15).
A build is read into its version numbers and its build date; the catalogue's vulnerable ranges
(:class:`camfleet.model.VulnerableRange`) are compared in that order.

What the devices say (docs/reference/devices.md, ../shared/reference/device-apis.md §1, §6):

- Hikvision ``V5.4.5 build 160530`` (``firmwareVersion`` + ``firmwareReleasedDate``, the date as
  YYMMDD), also written ``V5.5.800build 210628`` or ``5.4.6_180112`` in advisories. Order: version
  numbers, then build date.
- Dahua ``V2.840.0000000.11.R.230412`` (camfleet's form of ``getSoftwareVersion``), the device's own
  ``2.800.0000016.0.R,build:2020-06-05`` and the web page's ``V2.800.0000000.25.R, Build Date:
  2021-06-01``. Dahua's middle fields are baselines, not a counter, so advisories cut by build date
  (device-apis.md §6.3): order by build date first, then the version numbers.

    .venv/bin/python -c "from camfleet.inventory.versions import parse_build as p; \\
        print(p('V5.4.5 build 160530', 'hikvision') < p('V5.4.5 build 170123', 'hikvision'))"
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

#: Makers whose builds read as Dahua's (KBVision and Imou ship Dahua firmware).
DAHUA_LIKE = frozenset({"dahua", "kbvision", "imou"})

_HIK = re.compile(r"V?(\d+(?:\.\d+){1,3})\s*(?:[_ ]?\s*(?:build|b)?\s*[_ ]?\s*(\d{6}))?\s*$", re.IGNORECASE)
_DAHUA = re.compile(r"V?(\d+(?:\.\d+){1,5})(?:\.[A-Z]+)?", re.IGNORECASE)
_DATE_ONLY = re.compile(r"(?:build(?:\s*date)?\s*[:_ ]?\s*)?(\d{4}-\d{2}-\d{2}|\d{6})", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_SHORT_DATE = re.compile(r"\.(\d{6})$")


@dataclass(frozen=True)
class BuildVersion:
    """A build read into what orders it; ``date`` None when the text names no build date."""

    text: str
    numbers: tuple[int, ...]
    date: dt.date | None
    date_first: bool = False  # Dahua: the build date decides before the version numbers

    def _order(self, other: BuildVersion, with_date: bool) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        mine: list[Any] = [self.numbers]
        theirs: list[Any] = [other.numbers]
        if with_date:
            key_a, key_b = self.date or dt.date.min, other.date or dt.date.min
            if self.date_first:
                mine.insert(0, key_a)
                theirs.insert(0, key_b)
            else:
                mine.append(key_a)
                theirs.append(key_b)
        return tuple(mine), tuple(theirs)

    def compare(self, bound: BuildVersion) -> int | None:
        """-1, 0 or 1 against ``bound``; None when it cannot be told (the bound names a build date
        this build lacks, on equal version numbers). A bound without a date stands for every build
        of its version, so only the numbers count then; a bound that is only a date (``build
        210628``, an advisory's "build date before") compares build dates alone."""
        if not bound.numbers:
            if self.date is None or bound.date is None:
                return None
            return (self.date > bound.date) - (self.date < bound.date)
        if bound.date is None:
            a, b = self._order(bound, with_date=False)
        elif self.date is None:
            if self.date_first or self.numbers == bound.numbers:
                return None
            a, b = self._order(bound, with_date=False)
        else:
            a, b = self._order(bound, with_date=True)
        return int(a > b) - int(a < b)


def _date6(text: str) -> dt.date | None:
    try:
        return dt.date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def _date_only(text: str, date_first: bool) -> BuildVersion | None:
    """``build 210628``, ``build:2021-07-01``, ``Build Date: 2021-07-01``: a bound by build date alone."""
    m = _DATE_ONLY.fullmatch(text.strip())
    if m is None:
        return None
    raw = m.group(1)
    try:
        date = dt.date.fromisoformat(raw) if "-" in raw else _date6(raw)
    except ValueError:
        return None
    return BuildVersion(text, (), date, date_first) if date is not None else None


def _hikvision(text: str) -> BuildVersion | None:
    if (bare := _date_only(text, False)) is not None:
        return bare
    m = _HIK.search(text.strip())
    if m is None:
        return None
    date = _date6(m.group(2)) if m.group(2) else None
    if m.group(2) and date is None:
        return None
    return BuildVersion(text, tuple(int(n) for n in m.group(1).split(".")), date)


def _dahua(text: str) -> BuildVersion | None:
    if (bare := _date_only(text, True)) is not None:
        return bare
    stripped = text.strip()
    m = _DAHUA.match(stripped) or _DAHUA.search(stripped)
    if m is None:
        return None
    numbers = tuple(int(n) for n in m.group(1).split("."))
    date: dt.date | None = None
    rest = stripped[m.end() :]
    if iso := _ISO_DATE.search(rest):
        try:
            date = dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    elif short := _SHORT_DATE.search(stripped):
        date = _date6(short.group(1))
        if date is None:
            return None
    elif rest.strip(" ,."):
        return None  # something after the version that is not a date: not a build we understand
    return BuildVersion(text, numbers, date, date_first=True)


def parse_build(text: str | None, vendor: str) -> BuildVersion | None:
    """``text`` as ``vendor``'s devices write a build, or None when it is not one (``unknown``, empty)."""
    if not text:
        return None
    if vendor in DAHUA_LIKE:
        return _dahua(text)
    return _hikvision(text)
