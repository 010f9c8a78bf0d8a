"""Prometheus → Alertmanager → the duty officer, with the real binaries on loopback.

A real Prometheus evaluates camfleet's alert rules (grace periods shortened) over a static exposition served by a
tiny loopback /metrics target the test controls: a down link router with two cameras behind it, a frozen camera
behind a working link, a full recorder whose channels stopped. A real Alertmanager, on the config
``render_alertmanager_config`` writes for a station, sends to a loopback webhook (an SMS/Zalo gateway) and to a
loopback SMTP server (the e-mail receiver, with the Vietnamese-first template). The duty officer must get exactly
one LinkDown, one StreamFrozen, one RecorderDiskFull — and no camera or channel page the outage explains: a
StreamDown already in flight when the link fell (posted straight to Alertmanager) is inhibited by the LinkDown,
the full recorder's RecorderChannelNotRecording by RecorderDiskFull.

    .venv/bin/pytest tests/integration/test_alerting_e2e.py -q
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import shutil
import socketserver
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import yaml

from camfleet.config.grafana import (
    CAMERA_DARK_FOR,
    CAMERA_LINK_UP,
    CHANNEL_DARK_FOR,
    CHANNEL_LINK_UP,
    DARK_AFTER_S,
    DASHBOARDS_DIR,
    by_town,
    panel_queries,
)
from camfleet.config.prometheus import (
    DEFAULT_FOR,
    NOTIFY_TEMPLATE,
    render_alertmanager_config,
    render_rules,
    token_placeholder,
)
from camfleet.model import Alerting
from tests.conftest import require_program
from tests.integration.prom import free_port, running_prometheus, stop

pytestmark = pytest.mark.slow

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
#: The Telegram bot token the vault would hold (fake: the Bot API here is a loopback test server).
BOT_TOKEN = "123456:AAE-camfleet-test-token"

# lr-01-01 is down with cam-a and cam-b behind it; cam-f (behind lr-02-01, up) answers with no frames;
# nvr-01 is full and its channels (cameras cam-c and cam-d, streaming fine) stopped recording.
EXPOSITION = """\
camfleet_probe_success{module="link",instance="lr-01-01",link_router="lr-01-01",site="kp-01"} 0
camfleet_probe_success{module="link",instance="lr-02-01",link_router="lr-02-01",site="kp-02"} 1
camfleet_probe_success{module="stream",instance="cam-a",link_router="lr-01-01",site="kp-01",street="Lê Lợi"} 0
camfleet_probe_success{module="stream",instance="cam-b",link_router="lr-01-01",site="kp-01",street="Lê Lợi"} 0
camfleet_probe_success{module="stream",instance="cam-f",link_router="lr-02-01",site="kp-02",street="Trần Phú"} 0
camfleet_probe_failure_info{module="stream",instance="cam-f",link_router="lr-02-01",site="kp-02",street="Trần Phú",reason="no_frames"} 1
camfleet_probe_success{module="stream",instance="cam-c",link_router="lr-02-01",site="kp-02",street="Trần Phú"} 1
camfleet_probe_success{module="stream",instance="cam-d",link_router="lr-02-01",site="kp-02",street="Quang Trung"} 1
camfleet_recorder_disk_free_bytes{module="recorder",instance="nvr-01",site="station",slot="1"} 0
camfleet_recorder_channel_recording{module="recorder",instance="nvr-01",site="station",channel="1",camera="cam-c",link_router="lr-02-01"} 0
camfleet_recorder_channel_recording{module="recorder",instance="nvr-01",site="station",channel="2",camera="cam-d",link_router="lr-02-01"} 0
"""


@pytest.fixture(autouse=True, scope="module")
def _binaries() -> None:
    require_program(ALERTMANAGER, "prometheus-alertmanager")
    require_program(shutil.which("prometheus") or "/usr/bin/prometheus", "prometheus")


class Inbox:
    """What the receivers got: webhook payloads and e-mails (thread-safe appends)."""

    def __init__(self) -> None:
        self.hooks: list[dict[str, Any]] = []
        self.mails: list[email.message.EmailMessage] = []
        self.telegram: list[tuple[str, dict[str, Any]]] = []  # (request path, JSON body)

    def notified(self, alertname: str) -> list[dict[str, Any]]:
        """Every firing alert of that name, one entry per notification that carried it."""
        return [a for h in self.hooks for a in h["alerts"] if a["labels"]["alertname"] == alertname]


def serve_http(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


def metrics_target() -> tuple[ThreadingHTTPServer, str]:
    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = EXPOSITION.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return serve_http(Metrics)


def webhook(inbox: Inbox) -> tuple[ThreadingHTTPServer, str]:
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            inbox.hooks.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return serve_http(Hook)


def telegram_api(inbox: Inbox) -> tuple[ThreadingHTTPServer, str]:
    """Just enough of the Telegram Bot API (``POST /bot<token>/sendMessage``) for Alertmanager's receiver."""

    class Bot(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            kind = self.headers.get("Content-Type", "")
            if "json" in kind:
                body = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            inbox.telegram.append((self.path, body))
            chat = int(body.get("chat_id", 0) or 0)
            reply = json.dumps(
                {"ok": True, "result": {"message_id": len(inbox.telegram), "date": 0, "chat": {"id": chat}}}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply.encode())

        def log_message(self, *args: object) -> None:
            pass

    return serve_http(Bot)


def smtp(inbox: Inbox) -> tuple[socketserver.ThreadingTCPServer, str]:
    """Just enough SMTP for Alertmanager's e-mail receiver (no TLS, no login): each DATA is one message."""

    class Session(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            self.reply("220 127.0.0.1 test SMTP")
            while line := self.rfile.readline():
                verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
                if verb == "EHLO":
                    self.reply("250-127.0.0.1")
                    self.reply("250 8BITMIME")
                elif verb == "DATA":
                    self.reply("354 go on")
                    raw = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        raw += chunk[1:] if chunk.startswith(b"..") else chunk
                    inbox.mails.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def town_alerting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Inbox, httpx.Client, httpx.Client]]:
    root = tmp_path_factory.mktemp("alerting")
    inbox = Inbox()
    target, target_addr = metrics_target()
    hook, hook_addr = webhook(inbox)
    mail, mail_addr = smtp(inbox)
    bot, bot_addr = telegram_api(inbox)
    alerting = Alerting.model_validate(
        {
            "receivers": [
                {"id": "gateway", "kind": "webhook", "url": f"http://{hook_addr}/sms"},
                {
                    "id": "duty-mail",
                    "kind": "email",
                    "to": "truc-ban@ca.example",
                    "sender": "camfleet@ca.example",
                    "smarthost": mail_addr,
                },
                {"id": "duty-telegram", "kind": "telegram", "chat_id": -1001234, "api_url": f"http://{bot_addr}"},
            ]
        }
    )
    shutil.copy(NOTIFY_TEMPLATE, root)
    # Debian 12's Alertmanager 0.25 reads no bot_token_file: the token goes in where roles/monitoring puts it.
    rendered = render_alertmanager_config(
        alerting=alerting,
        templates=[str(root / NOTIFY_TEMPLATE.name)],
        group_wait="1s",
        group_interval="1s",
        telegram_token_inline=True,
    )
    config = yaml.safe_load(rendered.replace(token_placeholder("duty-telegram"), json.dumps(BOT_TOKEN)))
    for mailer in config["receivers"][0]["email_configs"]:
        mailer["require_tls"] = False  # the loopback test server speaks no TLS; a station's smarthost does
    (root / "alertmanager.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    am_port = free_port()
    am_log = (root / "alertmanager.log").open("w")
    am = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={root / 'alertmanager.yml'}",
            f"--storage.path={root / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=am_log,
        stderr=am_log,
        env={"PATH": "/usr/bin:/bin", "TZ": "Asia/Ho_Chi_Minh"},
    )
    am_client = httpx.Client(base_url=f"http://127.0.0.1:{am_port}", timeout=5, trust_env=False)
    grace = {key: "1s" for key in DEFAULT_FOR} | {"not_recording": "4s"}  # the disk page comes first, as at 2m/10m
    (root / "alerts.yml").write_text(render_rules(for_overrides=grace), encoding="utf-8")
    (root / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": ["alerts.yml"],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
                "scrape_configs": [
                    {"job_name": "fake_exporter", "honor_labels": True, "static_configs": [{"targets": [target_addr]}]}
                ],
            }
        ),
        encoding="utf-8",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert am.poll() is None, f"alertmanager exited; see {am_log.name}"
            try:
                if am_client.get("/-/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"Alertmanager not ready; see {am_log.name}"
            time.sleep(0.2)
        with running_prometheus(root) as prom:
            yield inbox, prom, am_client
    finally:
        am_client.close()
        stop(am)
        am_log.close()
        for server in (target, hook, mail, bot):
            server.shutdown()
            server.server_close()


def wait_for(what: str, check: Any, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.3)
    return value


def test_the_duty_officer_gets_one_page_per_cause_and_none_of_what_it_explains(
    town_alerting: tuple[Inbox, httpx.Client, httpx.Client],
) -> None:
    inbox, _prom, am = town_alerting
    wait_for(
        "LinkDown, StreamFrozen and RecorderDiskFull at the webhook",
        lambda: all(inbox.notified(name) for name in ("LinkDown", "StreamFrozen", "RecorderDiskFull")),
    )
    # A StreamDown that was pending in a Prometheus when lr-01-01 fell (posted as Prometheus does, once LinkDown
    # fires): Alertmanager must hold it back.
    stale = {
        "labels": {"alertname": "StreamDown", "instance": "cam-a", "link_router": "lr-01-01", "severity": "page"},
        "annotations": {"summary": "Camera cam-a sends no video", "summary_vi": "Camera cam-a không gửi hình"},
        "startsAt": dt.datetime.now(dt.UTC).isoformat(),
    }
    assert am.post("/api/v2/alerts", json=[stale]).status_code == 200
    # The channel alerts fire 4 s after the disk's; give them (and any repeat) time to reach the receivers.
    wait_for(
        "RecorderChannelNotRecording held by Alertmanager",
        lambda: len(am.get("/api/v2/alerts", params={"filter": 'alertname="RecorderChannelNotRecording"'}).json()) == 2,
    )
    time.sleep(4)
    link = inbox.notified("LinkDown")
    assert len(link) == 1 and link[0]["labels"]["link_router"] == "lr-01-01", link
    frozen = inbox.notified("StreamFrozen")
    assert len(frozen) == 1 and frozen[0]["labels"]["instance"] == "cam-f", frozen
    assert "hình bị đứng" in frozen[0]["annotations"]["summary_vi"]
    assert frozen[0]["annotations"]["runbook_vi"].startswith("Bộ mã hóa bị treo")
    assert len(inbox.notified("RecorderDiskFull")) == 1
    for explained in ("StreamDown", "RecorderChannelNotRecording"):
        assert inbox.notified(explained) == [], f"{explained} reached the duty officer"
    held = am.get("/api/v2/alerts", params={"inhibited": "true", "active": "false"}).json()
    inhibited = {(a["labels"]["alertname"], a["labels"].get("instance")) for a in held}
    assert ("StreamDown", "cam-a") in inhibited and ("RecorderChannelNotRecording", "nvr-01") in inhibited, held


def test_the_email_reads_vietnamese_first_where_and_since(
    town_alerting: tuple[Inbox, httpx.Client, httpx.Client],
) -> None:
    inbox, _prom, _am = town_alerting
    mails = wait_for("the StreamFrozen e-mail", lambda: [m for m in inbox.mails if "StreamFrozen" in str(m["Subject"])])
    subject, body = str(mails[0]["Subject"]), mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert subject.startswith("[CẢNH BÁO / ALERT 1] StreamFrozen"), subject
    assert body.index("hình bị đứng") < body.index("picture is frozen"), body
    assert "Ở đâu: Trần Phú, khu phố kp-02" in body and "Where: Trần Phú, khu phố kp-02" in body
    assert "Từ lúc: " in body and "Việc cần làm trước: Bộ mã hóa bị treo" in body and "First step: " in body
    assert "0237" not in body  # never a phone number (the exporter's labels carry none)


def test_the_dark_now_tables_say_which_camera_and_channel_is_dark_since_when_and_where(
    town_alerting: tuple[Inbox, httpx.Client, httpx.Client],
) -> None:
    """The dashboards' "dark now" queries on the same real Prometheus: since when, street, khu phố, link state."""
    _inbox, prom, _am = town_alerting
    queries = panel_queries(DASHBOARDS_DIR)
    # what Grafana runs: the same queries, each selector narrowed to the dashboard's town
    assert by_town(CAMERA_DARK_FOR) in queries.values() and by_town(CHANNEL_DARK_FOR) in queries.values()

    def rows(expr: str, key: str) -> dict[str, tuple[dict[str, str], float]]:
        expr = by_town(expr).replace("$site", ".*").replace("$recorder", ".*").replace("$town", ".*")
        body = prom.get("/api/v1/query", params={"query": expr}).json()
        assert body["status"] == "success", body
        return {r["metric"][key]: (r["metric"], float(r["value"][1])) for r in body["data"]["result"]}

    # A few scrapes: "dark for" grows from the first sample of a camera never seen up.
    dark = wait_for("cam-a dark for 2 s", lambda: (d := rows(CAMERA_DARK_FOR, "instance")) and d["cam-a"][1] >= 2 and d)
    assert {"cam-a", "cam-f", "cam-c"} <= set(dark), dark
    assert dark["cam-f"][1] >= 2, dark
    assert dark["cam-c"][1] < DARK_AFTER_S  # streaming: hidden by the panel's filter
    assert dark["cam-f"][0] | {"street": "Trần Phú", "site": "kp-02"} == dark["cam-f"][0]
    link = rows(CAMERA_LINK_UP, "instance")
    assert (link["cam-a"][1], link["cam-f"][1]) == (0, 1)
    channels = rows(CHANNEL_DARK_FOR, "camera")
    assert set(channels) == {"cam-c", "cam-d"} and all(v >= 2 for _, v in channels.values()), channels
    assert channels["cam-d"][0]["street"] == "Quang Trung" and channels["cam-d"][0]["instance"] == "nvr-01"
    assert {k: v for k, (_, v) in rows(CHANNEL_LINK_UP, "camera").items()} == {"cam-c": 1, "cam-d": 1}


def test_the_telegram_duty_group_gets_the_vietnamese_text(
    town_alerting: tuple[Inbox, httpx.Client, httpx.Client],
) -> None:
    inbox, _prom, _am = town_alerting
    sent = wait_for(
        "the StreamFrozen Telegram message",
        lambda: [b for path, b in inbox.telegram if path.endswith("/sendMessage") and "StreamFrozen" in str(b)],
    )
    paths = {path for path, _body in inbox.telegram}
    assert paths <= {f"/bot{BOT_TOKEN}/sendMessage", f"/bot{BOT_TOKEN}/getMe"}, paths  # the vault's token, in the URL
    text = str(sent[0]["text"])
    assert int(sent[0]["chat_id"]) == -1001234
    assert text.index("hình bị đứng") < text.index("picture is frozen"), text
    assert "Ở đâu: Trần Phú, khu phố kp-02" in text and "0237" not in text
