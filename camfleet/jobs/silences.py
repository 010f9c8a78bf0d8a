"""Planned work quiets its own pages: silences in the station's Alertmanager (API v2) for the devices a
firmware wave reboots or a password rotation interrupts, expired as soon as the work is judged.

Why here and not in ``drivers/``: Alertmanager is the station's pager, not a device protocol. Why a
silence has an end even though the job expires it: an ``ansible-playbook`` killed mid-wave never gets to
expire it, and a device that then stays down must page when the expected duration (plus margin) is over.

A pager that does not answer must not block planned work: :func:`silence_devices` warns in one line and
goes on, unless the caller requires the silence (``-e firmware_require_silence=true``).

By hand, against an Alertmanager on loopback::

    .venv/bin/python -c "from camfleet.jobs.silences import silence_devices as s; \\
        print(s('http://127.0.0.1:9093', ['cam-01-t04'], 600, 'thử / test'))"
    curl -s http://127.0.0.1:9093/api/v2/silences
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from camfleet.jobs.base import JobError

CREATED_BY = "camfleet"
#: The alert of a recorder channel carries the recorder as ``instance`` and the camera as ``camera``.
CHANNEL_ALERT = "RecorderChannelNotRecording"
MAX_REPLY = 1 << 20  # an Alertmanager's answer to these calls is a few hundred bytes; a silences list, a few KB each


class SilenceError(JobError):
    """Alertmanager refused, broke or was not reachable; one line naming its URL."""


class AlertmanagerUnreachable(SilenceError):
    """No answer at all: planned work warns and goes on (unless the silence is required)."""


def check_url(url: str, option: str = "alertmanager_url") -> str:
    """``url`` without a trailing slash, or SilenceError: only http(s), and only loopback while the
    simulator's overlay (``CAMFLEET_OVERLAY``) is set — a test never silences a real station's pager."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SilenceError(f"{option}={url!r}: cần dạng http://máy:cổng / must look like http://host:port")
    if os.environ.get("CAMFLEET_OVERLAY") and not _loopback(parts.hostname):
        raise SilenceError(
            f"{option}={url!r}: không phải địa chỉ loopback khi chạy với địa bàn mô phỏng (CAMFLEET_OVERLAY) "
            "/ not a loopback address while the simulator's overlay (CAMFLEET_OVERLAY) is set"
        )
    return url.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name could resolve anywhere: not resolved, refused


def _regex(values: Iterable[str]) -> str:
    """An RE2 alternation matching exactly these values (Alertmanager anchors it)."""
    return "|".join(re.sub(r"([^A-Za-z0-9_-])", r"\\\1", v) for v in sorted(set(values)))


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Alertmanager:
    """The three calls camfleet makes: create, expire, list. Every failure a one-line SilenceError."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = check_url(url)
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout), trust_env=False)

    def __enter__(self) -> Alertmanager:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            with self._http.stream(method, path, json=body) as reply:
                data = b""
                for chunk in reply.iter_bytes():
                    data += chunk
                    if len(data) > MAX_REPLY:
                        raise SilenceError(f"Alertmanager {self.url}: trả lời quá lớn / reply too large")
        except httpx.TransportError as err:
            raise AlertmanagerUnreachable(
                f"Alertmanager {self.url}: không kết nối được / not reachable ({type(err).__name__})"
            ) from None
        text = data.decode("utf-8", "replace")
        if reply.status_code >= 300:
            first = " ".join(text.split())[:200]
            raise SilenceError(f"Alertmanager {self.url}: {method} {path} → HTTP {reply.status_code} {first}")
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise SilenceError(
                f"Alertmanager {self.url}: {method} {path}: trả lời không phải JSON / not JSON"
            ) from None

    def create(self, matchers: list[dict[str, Any]], duration_s: float, comment: str) -> str:
        now = dt.datetime.now(dt.UTC)
        body = {
            "matchers": matchers,
            "startsAt": _stamp(now),
            "endsAt": _stamp(now + dt.timedelta(seconds=duration_s)),
            "createdBy": CREATED_BY,
            "comment": comment,
        }
        reply = self._call("POST", "/api/v2/silences", body)
        silence_id = reply.get("silenceID") if isinstance(reply, dict) else None
        if not isinstance(silence_id, str) or not silence_id:
            raise SilenceError(f"Alertmanager {self.url}: không trả mã tạm ẩn / no silenceID in its reply")
        return silence_id

    def expire(self, silence_id: str) -> None:
        try:
            self._call("DELETE", f"/api/v2/silence/{silence_id}")
        except SilenceError as err:
            if "already expired" not in str(err):  # expired by hand, or it ran out: what we wanted
                raise

    def silences(self) -> list[dict[str, Any]]:
        reply = self._call("GET", "/api/v2/silences")
        if not isinstance(reply, list):
            raise SilenceError(f"Alertmanager {self.url}: danh sách tạm ẩn sai dạng / silences list malformed")
        return reply


def matchers_for(devices: Sequence[str], cameras: Sequence[str] = ()) -> list[list[dict[str, Any]]]:
    """One matcher set per silence: every alert of the devices (``instance``), and, for cameras, the
    recorder channels that record them (their alert's ``instance`` is the recorder, ``camera`` the camera)."""
    sets = [[{"name": "instance", "value": _regex(devices), "isRegex": True, "isEqual": True}]] if devices else []
    if cameras:
        sets.append(
            [
                {"name": "alertname", "value": CHANNEL_ALERT, "isRegex": False, "isEqual": True},
                {"name": "camera", "value": _regex(cameras), "isRegex": True, "isEqual": True},
            ]
        )
    return sets


@dataclass
class SilenceResult:
    """What :func:`silence_devices` / :func:`expire_silences` did; ``warning`` set when it went on without."""

    ids: list[str] = field(default_factory=list)
    msg: str = ""
    warning: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"silence_ids": self.ids, "msg": self.msg, "warning": self.warning}


def silence_devices(
    url: str,
    devices: Sequence[str],
    duration_s: float,
    comment: str,
    *,
    cameras: Sequence[str] = (),
    required: bool = False,
    check_mode: bool = False,
    timeout: float = 5.0,
    url_option: str = "alertmanager_url",
    require_option: str = "",
) -> SilenceResult:
    """Silence the alerts of ``devices`` (and the recorder channels of ``cameras``) for ``duration_s``.

    Unreachable or refusing: a warning and no silence, or SilenceError when ``required``. ``url_option`` and
    ``require_option`` are the options as the user types them (``firmware_alertmanager_url``), for the messages."""
    url = check_url(url, url_option)
    if not devices and not cameras:
        return SilenceResult(msg="không có thiết bị cần tạm ẩn cảnh báo / no device to silence")
    names = ", ".join(devices or [f"kênh ghi của / recorder channels of {c}" for c in cameras])
    minutes = f"{duration_s / 60:.0f}"
    if check_mode:
        return SilenceResult(
            msg=f"sẽ tạm ẩn cảnh báo {names} tối đa {minutes} phút / would silence the alerts of {names} "
            f"for at most {minutes} min"
        )
    ids: list[str] = []
    try:
        with Alertmanager(url, timeout) as am:
            try:
                for matchers in matchers_for(devices, cameras):
                    ids.append(am.create(matchers, duration_s, comment))
            except SilenceError:
                for made in ids:  # all or nothing: never half a wave silenced
                    am.expire(made)
                raise
    except SilenceError as err:
        if required:
            raise
        return SilenceResult(
            msg=f"chưa tạm ẩn cảnh báo, vẫn tiếp tục / alerts not silenced, going on: {err}"
            + (f" (-e {require_option}=true: dừng thay vì tiếp tục / stop instead)" if require_option else ""),
            warning=str(err),
        )
    return SilenceResult(
        ids,
        f"đã tạm ẩn cảnh báo {names} tối đa {minutes} phút / silenced the alerts of {names} for at most {minutes} min "
        f"({', '.join(ids)})",
    )


def expire_silences(
    url: str,
    ids: Sequence[str],
    *,
    failed: Sequence[str] = (),
    check_mode: bool = False,
    timeout: float = 5.0,
    url_option: str = "alertmanager_url",
) -> SilenceResult:
    """Expire the silences ``ids``; ``failed`` names the devices that failed their gate (they page now).

    A silence that cannot be expired is a warning, never a failure: it ends by itself at its ``endsAt``."""
    url = check_url(url, url_option)
    pages = (
        f"; {', '.join(failed)} không qua kiểm tra, cảnh báo sẽ được gửi / failed their check, their alerts page"
        if failed
        else ""
    )
    if check_mode or not ids:
        return SilenceResult(msg=f"không có tạm ẩn nào để kết thúc / no silence to expire{pages}")
    expired: list[str] = []
    try:
        with Alertmanager(url, timeout) as am:
            for silence_id in ids:
                am.expire(silence_id)
                expired.append(silence_id)
    except SilenceError as err:
        left = [i for i in ids if i not in expired]
        return SilenceResult(
            expired,
            f"chưa kết thúc được tạm ẩn {', '.join(left)}, sẽ tự hết hạn / could not expire, it ends by itself: {err}",
            warning=str(err),
        )
    return SilenceResult(expired, f"đã kết thúc tạm ẩn cảnh báo / silences expired ({', '.join(ids)}){pages}")
