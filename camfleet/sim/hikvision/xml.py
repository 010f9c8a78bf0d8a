"""The simulated ISAPI's own XML: writing elements and documents, reading request bodies, and the
``ResponseStatus`` error every refused request becomes.

Why the simulator has its own (and does not share the driver's): a device and a client that read
XML with the same helper cannot disagree, so a test of one against the other would prove nothing.
Reading is namespace-agnostic (``{*}``) because clients send bodies with the camera namespace,
the NVR one, or none; a value that does not parse is 6 ``badParameters``, as on a real device.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.hikvision.xml import *; \\
        print(document('SSH', x('enabled', False), NS_CAMERA).decode()); \\
        print(get_bool(parse_body(b'<SSH><enabled>true</enabled></SSH>', 'SSH'), 'enabled'))"
"""

from __future__ import annotations

import datetime as dt
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

NS_CAMERA = "http://www.hikvision.com/ver20/XMLSchema"
NS_NVR = "http://www.isapi.org/ver20/XMLSchema"
STATUS_STRINGS = {
    1: "OK",
    2: "Device Busy",
    3: "Device Error",
    4: "Invalid Operation",
    5: "Invalid XML Format",
    6: "Invalid XML Content",
    7: "Reboot Required",
}
# [?] the HTTP code that goes with each statusCode (see the package docstring)
HTTP_FOR_STATUS = {1: 200, 7: 200, 2: 503, 3: 500, 4: 403, 5: 400, 6: 400}


class IsapiError(Exception):
    """A request the device refuses; rendered as a ResponseStatus."""

    def __init__(self, code: int, sub: str, *, http: int | None = None, description: str | None = None) -> None:
        super().__init__(f"{code} {sub}")
        self.code, self.sub, self.description = code, sub, description
        self.http = http if http is not None else HTTP_FOR_STATUS.get(code, 400)


# --------------------------------------------------------------------------- writing


def x(tag: str, value: object) -> str:
    """``<tag>value</tag>`` with booleans as true/false and text escaped."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def document(root: str, inner: str, ns: str, attrs: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} version="2.0" xmlns="{ns}"{attrs}>{inner}</{root}>\n'.encode()
    )


# --------------------------------------------------------------------------- reading


def parse_body(body: bytes, *roots: str) -> Element:
    """Parse a request body, namespace or not; 5 badXmlFormat if it is not XML, 6 if the root is wrong."""
    try:
        el: Element = SafeET.fromstring(body)
    except Exception as exc:  # defusedxml raises ParseError or its own DefusedXmlException
        raise IsapiError(5, "badXmlFormat") from exc
    if roots and local(el.tag) not in roots:
        raise IsapiError(6, "badXmlContent")
    return el


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find(el: Element, path: str) -> Element | None:
    return el.find("/".join(f"{{*}}{p}" for p in path.split("/")))


def findall(el: Element, path: str) -> list[Element]:
    return el.findall("/".join(f"{{*}}{p}" for p in path.split("/")))


def text(el: Element, path: str) -> str | None:
    found = find(el, path)
    return None if found is None or found.text is None else found.text.strip()


def get_bool(el: Element, path: str) -> bool | None:
    value = text(el, path)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise IsapiError(6, "badParameters")


def get_int(el: Element, path: str, lo: int | None = None, hi: int | None = None) -> int | None:
    value = text(el, path)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise IsapiError(6, "badParameters") from exc
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise IsapiError(6, "badParameters")
    return number


# --------------------------------------------------------------------------- time


def utc_z(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, default_offset_s: int) -> float:
    """ISO 8601 (``Z``, ``+07:00`` or naive = device local time) to UTC seconds."""
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise IsapiError(6, "badParameters") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(seconds=default_offset_s)))
    return when.timestamp()
