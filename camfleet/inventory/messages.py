"""The words an installer reads when the inventory is wrong: field labels, and each problem with its fix.

Why apart from the loader: the loader, the cross-checks and the simulator overlay all turn a
pydantic error or a document path into the same kind of line (``file:line: cam-01.location.lat:
must be between -90 and 90 (got 105.3); are latitude and longitude swapped?``); they share
these functions instead of importing each other.

    .venv/bin/camfleet validate tests/fixtures/invalid/swapped-coordinates.yml
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic_core import ErrorDetails

from camfleet.inventory.glossary import vietnamese_first as _vietnamese_first
from camfleet.inventory.problems import DocPath
from camfleet.model import CVE_PATTERN, ID_PATTERN, IPV4_PATTERN, IPV4_PREFIX_PATTERN, MAC_PATTERN, Strict

_SECRET_KEY = re.compile(r"(pass(word|wd|phrase)?|secret|private_?key|psk|token|api_?key)$", re.I)
_PERSONAL_KEY = re.compile(r"(^|_)(name|full_?name|owner_?name|phone|mobile|tel|telephone|cccd|cmnd|id_?card)$", re.I)


def looks_secret(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def looks_personal(key: str) -> bool:
    return bool(_PERSONAL_KEY.search(key))


def label_for(doc: Any, path: DocPath) -> str:
    """How a problem names its field: the entry's id, then the path inside it (cam-01.location.lat)."""
    head: list[str] = []
    rest = path
    if len(path) >= 2 and isinstance(path[1], int) and isinstance(doc, dict):
        items = doc.get(path[0])
        item = items[path[1]] if isinstance(items, list) and len(items) > path[1] else None
        ident = item.get("id") or item.get("model") if isinstance(item, dict) else None
        if isinstance(ident, str):
            head, rest = [ident], path[2:]
    return dotted(*head, *rest)


def dotted(*parts: str | int) -> str:
    """cam-01, privacy_masks, 0, x → cam-01.privacy_masks[0].x"""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


_PATTERN_HELP = {
    ID_PATTERN: "chỉ dùng chữ thường, chữ số và '-' / use lower-case letters, digits and '-' only, e.g. cam-kp01-03",
    MAC_PATTERN: "viết chữ thường, có dấu hai chấm / write it lower-case with colons, e.g. 44:19:b6:0a:1c:2e",
    r"^[0-9a-f]{64}$": "viết SHA-256 bằng 64 chữ số hex thường / write the SHA-256 as 64 lower-case hex digits (sha256sum FILE)",
    IPV4_PATTERN: "viết một địa chỉ IPv4 / write an IPv4 address, e.g. 10.78.1.2",
    IPV4_PREFIX_PATTERN: "viết địa chỉ IPv4 kèm độ dài tiền tố / write an IPv4 address with its prefix length, e.g. 10.78.1.0/29",
    CVE_PATTERN: "viết mã CVE / write a CVE id as CVE-<year>-<number>, e.g. CVE-2021-36260",
}


def explain(err: ErrorDetails, model: type[Strict], loc: tuple[Any, ...]) -> str:
    """A pydantic error in the words an installer needs, with the fix."""
    kind = err["type"]
    got = err.get("input")
    if kind == "missing":
        return "thiếu trường bắt buộc; hãy thêm vào / required field is missing; add it"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        if looks_secret(name):
            return f"'{name}' là thông tin bí mật, chỉ để trong vault/secrets.yml / '{name}' looks like a secret: secrets live only in the ansible-vault file vault/secrets.yml"
        if looks_personal(name):
            return f"'{name}' là dữ liệu cá nhân, chỉ để trong vault/contacts.yml / '{name}' is personal data: names and phone numbers live only in the ansible-vault file vault/contacts.yml, keyed by the household id"
        known = _fields_at(model, loc[:-1])
        return f"trường không hợp lệ '{name}' / unknown field '{name}'{did_you_mean(name, known)}; allowed here: {', '.join(known)}"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"giá trị '{got}' không được phép / '{got}' is not allowed; use one of {expected}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"giá trị '{got}' không được phép / '{got}' is not allowed; use {expected}"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        fix = _PATTERN_HELP.get(pattern, f"phải khớp mẫu / it must match {pattern}")
        vi, _, en = fix.partition(" / ")
        return f"'{got}' sai định dạng, {vi} / '{got}' is malformed; {en}"
    if kind == "string_type" and isinstance(got, int | float | bool | dt.date):
        read_as = "true/false" if isinstance(got, bool) else "date" if isinstance(got, dt.date) else "number"
        return f"{got} bị đọc thành số/ngày, không phải chữ; hãy đặt trong dấu nháy / {got} was read as a {read_as}, not text; put it in quotes"
    if loc and loc[-1] in ("lat", "lon") and kind in ("less_than_equal", "greater_than_equal"):
        limit = 90 if loc[-1] == "lat" else 180
        return f"phải từ -{limit} đến {limit} (đang là {got}) / must be between -{limit} and {limit} (got {got}); are latitude and longitude swapped?"
    if (
        len(loc) >= 3
        and loc[-3] == "points"
        and loc[-1] in (0, 1)
        and kind in ("less_than_equal", "greater_than_equal")
    ):
        limit = 90 if loc[-1] == 0 else 180
        return (
            f"phải từ -{limit} đến {limit} (đang là {got}) / must be between -{limit} and {limit} (got {got}); "
            "a route point is [lat, lon]: are they swapped?"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"phải là một bảng các trường / must be a mapping of fields (got {type(got).__name__})"
    if kind == "list_type":
        return f"phải là một danh sách / must be a list (got {type(got).__name__})"
    if kind == "value_error":  # a rule between fields of one entry (model.py validators say it whole)
        rule = str(err.get("ctx", {}).get("error", err["msg"]))
        return rule if _vietnamese_first(rule) else f"mục này chưa đúng quy tắc / {rule}"
    msg = err["msg"]
    if isinstance(got, dict | list):
        return f"giá trị không hợp lệ / {msg[0].lower()}{msg[1:]}"
    return f"giá trị không hợp lệ / {msg[0].lower()}{msg[1:]} (got {got!r})"


def _fields_at(model: type[Strict], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (sub)model at ``loc``, for 'did you mean' hints."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        info = getattr(current, "model_fields", {}).get(step)
        if info is None:
            return []
        current = _inner_model(info.annotation)
    return list(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        inner = _inner_model(arg)
        if hasattr(inner, "model_fields"):
            return inner
    return annotation


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# The words of a file the YAML reader refuses before anything in it is looked at. Each is said
# at the line of the fault (yamlfiles.YamlSyntaxError), Vietnamese first.


def yaml_aliases_expand(own: int, limit: int, total: int) -> str:
    """An alias fan-out (a 'billion laughs'): a few hundred bytes that would build millions of values."""
    return (
        f"bí danh YAML (*tên) nhân bản dữ liệu quá nhiều / YAML aliases expand too much: the file's {own:,} "
        f"values would build {total:,} through its aliases, more than the {limit:,} allowed (this alias passes "
        "the limit); write the values out, or reuse an anchor (&tên) without nesting aliases inside it"
    )


def yaml_alias_cycle(anchor: str) -> str:
    return (
        f"bí danh YAML tự trỏ vào chính nó / YAML alias *{anchor} is inside the value &{anchor} it names: "
        "a value cannot contain itself; write it out"
    )


def yaml_too_deep(limit: int) -> str:
    return (
        f"YAML lồng quá sâu / YAML nested too deeply: more than {limit} levels here "
        "(an inventory file needs fewer than 10); is a bracket or an indentation wrong?"
    )


def not_utf8(byte: int, column: int) -> str:
    return (
        f"tệp không phải UTF-8 / not UTF-8: byte 0x{byte:02x} at column {column} is not text; "
        "save the file as UTF-8 (the editor's 'encoding' setting)"
    )


def control_character(char: str, column: int) -> str:
    name = " (NUL)" if char == "\x00" else ""
    return (
        f"ký tự điều khiển không được phép / control character U+{ord(char):04X}{name} at column {column}: "
        "YAML does not allow it; delete it (was the file copied from a binary or a word processor?)"
    )


# The words of a surveyed route that does not fit the town (checks.routes), Vietnamese first.


def route_point_outside(lat: float, lon: float, box: Any, kind: str) -> str:
    """``kind``: the town's word (``Town.kind``: xã, phường, thị trấn)."""
    return (
        f"điểm của tuyến nằm ngoài địa bàn {kind} / route point ({lat}, {lon}) is outside the town's bounding box "
        f"[{box.south}..{box.north} N, {box.west}..{box.east} E]; points are [lat, lon]: are they swapped?"
    )


def route_no_site(site: str, known: Iterable[str]) -> str:
    choices = sorted(known)
    shown = ", ".join(choices[:8]) + (", ..." if len(choices) > 8 else "")
    return f"không có khu phố '{site}' / no site '{site}'; use one of: {shown}"


def route_too_short() -> str:
    return (
        "tuyến không có chiều dài / the route has no length: all its points are the same place; "
        "survey at least its two ends"
    )
