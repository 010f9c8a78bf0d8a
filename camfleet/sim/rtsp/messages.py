"""RTSP/1.0 messages as the simulated cameras read and write them: the request line and headers,
a reply with what runs once it is on the wire, the status reasons, and the URL helpers every
method needs (credentials dropped, ``trackID`` split off).

Why apart: parsing is where a bad client meets the server; it must answer a device's error
(400, 505) and never crash, and it is the same for every method.

Reproduce by hand::

    printf 'OPTIONS rtsp://127.0.0.9:8554/ RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n' | nc 127.0.0.9 8554
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: What Hikvision lists in ``Public`` (Dahua's list is the same set).
PUBLIC = "OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER"
KNOWN_NOT_ALLOWED = {"ANNOUNCE", "RECORD", "REDIRECT"}
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "RTSP Version not supported",
    551: "Option not supported",
}
MAX_HEADER = 16 * 1024
MAX_BODY = 64 * 1024
_METHOD = re.compile(r"[A-Za-z_]+")  # GET_PARAMETER has an underscore


@dataclass
class Request:
    method: str
    url: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def cseq(self) -> str | None:
        return self.headers.get("cseq")


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    close: bool = False
    then: Callable[[], None] | None = None  # run once the reply is on the wire (PLAY starts RTP)


def parse_request(head: bytes) -> Request | None:
    """Request line and headers; ``None`` when they are not RTSP at all."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _METHOD.fullmatch(parts[0]) or not parts[2].startswith("RTSP/"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return None
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0].upper(), parts[1], parts[2], headers)


def split_track(url: str) -> tuple[str, int | None]:
    """``.../101/trackID=1`` → (``.../101``, 1); Dahua's ``...subtype=0/trackID=0`` works the same."""
    if m := re.search(r"/trackID=(\d+)/?$", url, re.IGNORECASE):
        return url[: m.start()], int(m.group(1))
    return url.rstrip("/"), None


def target(url: str) -> str:
    """Path and query of an rtsp:// URL (what a resolver is given)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def clean_url(url: str) -> str:
    """The URL without credentials, as a camera echoes it in Content-Base."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()
