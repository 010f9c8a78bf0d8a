"""The words of a simulated Dahua CGI reply: ``key=value`` lines ending in CRLF, ``OK``, and the
``Error`` reply with its reason line; and how a request's values are read.

Why apart: every CGI of the camera and its config table speak this; a value that does not
parse refuses the whole call with ``Error\\r\\nBad Request!\\r\\n`` (HTTP 400), as real firmware
does.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.dahua.cgi import *; print(repr(kv([('sn', 'X1'), ('ok', True)])))"
"""

from __future__ import annotations

CRLF = "\r\n"


class CgiError(Exception):
    """A refused request: ``Error`` plus a reason line."""

    def __init__(self, reason: str = "Bad Request!", http: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.http = reason, http


def kv(pairs: list[tuple[str, object]]) -> str:
    return "".join(f"{k}={fmt(v)}{CRLF}" for k, v in pairs)


def fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_bool(value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise CgiError()


def parse_int(value: str, lo: int, hi: int) -> int:
    """An integer in ``lo..hi``; ``15.000000`` is 15, as Dahua's own web page sends frame rates."""
    try:
        number = int(float(value))
    except ValueError as exc:
        raise CgiError() from exc
    if not lo <= number <= hi:
        raise CgiError()
    return number
