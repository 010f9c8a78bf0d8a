"""camfleet.jobs.silences against a real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port.

.venv/bin/pytest -q tests/unit/test_silences.py
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from camfleet.jobs.silences import (
    AlertmanagerUnreachable,
    SilenceError,
    check_url,
    expire_silences,
    silence_devices,
)
from tests.integration.am import running_alertmanager, silences
from tests.integration.prom import free_port

WAVE = ["cam-01-t04", "cam-03-t04", "nvr-01"]
CAMERAS = ["cam-01-t04", "cam-03-t04"]
COMMENT = "nâng cấp firmware đợt 2: cam-01-t04, cam-03-t04, nvr-01 / firmware wave 2"


@pytest.fixture(scope="module")
def am(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_alertmanager(tmp_path_factory.mktemp("am")) as url:
        yield url


def by_id(url: str) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in silences(url)}


def muted(url: str, labels: dict[str, str]) -> list[str]:
    """The silences Alertmanager itself says mute an alert with ``labels`` (the alert is posted, then read back)."""
    now = dt.datetime.now(dt.UTC)
    alert = {"labels": labels, "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=5)).isoformat()}
    httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=5, trust_env=False).raise_for_status()
    for _ in range(50):
        for a in httpx.get(f"{url}/api/v2/alerts", timeout=5, trust_env=False).json():
            if a["labels"] == labels:
                return sorted(a["status"]["silencedBy"])
    raise AssertionError(f"alert {labels} never listed")


def test_a_wave_is_silenced_exactly_and_for_its_duration_then_expired(am: str) -> None:
    before = dt.datetime.now(dt.UTC)
    made = silence_devices(am, WAVE, 900, COMMENT, cameras=CAMERAS)
    assert made.warning is None and len(made.ids) == 2
    assert (
        made.msg.startswith("đã tạm ẩn cảnh báo cam-01-t04, cam-03-t04, nvr-01")
        and " / silenced the alerts" in made.msg
    )
    held = by_id(am)
    devices, channels = (held[i] for i in made.ids)
    assert devices["status"]["state"] == "active" and channels["status"]["state"] == "active"
    assert devices["matchers"] == [
        {"name": "instance", "value": "cam-01-t04|cam-03-t04|nvr-01", "isRegex": True, "isEqual": True}
    ]
    assert sorted(channels["matchers"], key=lambda m: m["name"]) == [
        {"name": "alertname", "value": "RecorderChannelNotRecording", "isRegex": False, "isEqual": True},
        {"name": "camera", "value": "cam-01-t04|cam-03-t04", "isRegex": True, "isEqual": True},
    ]
    assert devices["createdBy"] == "camfleet" and devices["comment"] == COMMENT
    ends = dt.datetime.fromisoformat(devices["endsAt"].replace("Z", "+00:00"))
    assert dt.timedelta(seconds=890) < ends - before < dt.timedelta(seconds=960)

    # What Alertmanager mutes: the wave's devices and their recorder channels, not a neighbour whose id extends one.
    assert muted(am, {"alertname": "StreamDown", "instance": "cam-01-t04"}) == [made.ids[0]]
    assert muted(am, {"alertname": "RecorderDown", "instance": "nvr-01"}) == [made.ids[0]]
    channel = {"alertname": "RecorderChannelNotRecording", "instance": "nvr-02", "camera": "cam-03-t04", "channel": "3"}
    assert muted(am, channel) == [made.ids[1]]
    assert muted(am, {"alertname": "StreamDown", "instance": "cam-01-t040"}) == []
    assert muted(am, {**channel, "camera": "cam-05-t01"}) == []

    gone = expire_silences(am, made.ids, failed=["cam-03-t04"])
    assert gone.warning is None and gone.ids == made.ids
    assert "cam-03-t04 không qua kiểm tra, cảnh báo sẽ được gửi" in gone.msg and "failed their check" in gone.msg
    held = by_id(am)
    assert [held[i]["status"]["state"] for i in made.ids] == ["expired", "expired"]
    assert muted(am, {"alertname": "StreamFrozen", "instance": "cam-01-t04"}) == []
    # Expiring again (by hand in the web page, or a re-run) is not an error.
    assert expire_silences(am, made.ids).warning is None


def test_check_mode_creates_nothing_and_says_what_it_would_silence(am: str) -> None:
    count = len(silences(am))
    would = silence_devices(am, ["cam-07-t01"], 600, COMMENT, check_mode=True)
    assert would.ids == [] and would.warning is None
    assert (
        would.msg
        == "sẽ tạm ẩn cảnh báo cam-07-t01 tối đa 10 phút / would silence the alerts of cam-07-t01 for at most 10 min"
    )
    assert len(silences(am)) == count


def test_a_non_loopback_url_is_refused_while_the_simulators_overlay_is_set(
    am: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_url("http://192.0.2.10:9093/") == "http://192.0.2.10:9093"  # a station's own address is fine
    monkeypatch.setenv("CAMFLEET_OVERLAY", "/tmp/overlay.yml")
    for url in ("http://192.0.2.10:9093", "http://alertmanager.example:9093", "http://[2001:db8::1]:9093"):
        with pytest.raises(SilenceError) as err:
            silence_devices(url, WAVE, 600, COMMENT, required=True)
        assert "không phải địa chỉ loopback" in str(err.value) and "not a loopback address" in str(err.value)
        assert "\n" not in str(err.value) and url in str(err.value)
    assert check_url(am) == am and check_url("http://localhost:9093") == "http://localhost:9093"
    with pytest.raises(SilenceError) as bad:
        check_url("127.0.0.1:9093", "firmware_alertmanager_url")
    assert str(bad.value).startswith("firmware_alertmanager_url='127.0.0.1:9093': cần dạng http://máy:cổng / must")


def test_an_unreachable_alertmanager_is_one_warning_and_the_work_goes_on_unless_required() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    went_on = silence_devices(url, WAVE, 600, COMMENT, cameras=CAMERAS)
    assert went_on.ids == [] and went_on.warning is not None
    assert went_on.msg.startswith("chưa tạm ẩn cảnh báo, vẫn tiếp tục / alerts not silenced, going on: ")
    assert f"Alertmanager {url}: không kết nối được / not reachable" in went_on.msg and "\n" not in went_on.msg
    with pytest.raises(AlertmanagerUnreachable, match="not reachable"):
        silence_devices(url, WAVE, 600, COMMENT, required=True)
    named = silence_devices(url, WAVE, 600, COMMENT, require_option="firmware_require_silence")
    assert named.msg.endswith("(-e firmware_require_silence=true: dừng thay vì tiếp tục / stop instead)")
    assert expire_silences(url, ["x"]).warning is not None  # it ends by itself at its endsAt


@pytest.fixture
def broken_alertmanager() -> Iterator[str]:
    """Answers every call with 200 and a page that is not JSON, as a misconfigured reverse proxy would."""

    class Page(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html>login</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_DELETE = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_broken_alertmanager_is_one_line_never_a_traceback(broken_alertmanager: str) -> None:
    went_on = silence_devices(broken_alertmanager, WAVE, 600, COMMENT)
    assert went_on.ids == [] and "not JSON" in went_on.msg and "\n" not in went_on.msg
    with pytest.raises(SilenceError, match="POST /api/v2/silences"):
        silence_devices(broken_alertmanager, WAVE, 600, COMMENT, required=True)


def test_only_recorder_channels_can_be_silenced_and_nothing_to_silence_is_no_call(am: str) -> None:
    made = silence_devices(am, [], 600, COMMENT, cameras=["cam-05-t01"])
    [only] = [by_id(am)[i] for i in made.ids]
    assert {m["name"] for m in only["matchers"]} == {"alertname", "camera"}
    expire_silences(am, made.ids)
    count = len(silences(am))
    nothing = silence_devices(am, [], 600, COMMENT)
    assert nothing.ids == [] and nothing.warning is None and len(silences(am)) == count
