"""alertmanager.yml and the notification template, checked by Alertmanager's own amtool.

``amtool check-config`` on the config rendered from a town's ``alerting:`` section (every receiver kind,
secrets only as file names); ``amtool config routes test`` for where alerts go; ``amtool template render``
for the Vietnamese-first text an operator reads; and every runbook command and playbook exists.

    .venv/bin/pytest tests/prometheus/test_alertmanager.py -q
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from camfleet.config.prometheus import (
    NOTIFY_TEMPLATE,
    inline_receivers,
    render_alertmanager_config,
    render_rules,
    secret_receivers,
    token_placeholder,
)
from camfleet.model import Alerting
from tests.conftest import ROOT, TOWN, require_program

AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"
SECRETS = "/etc/prometheus/alertmanager-secrets"

ALERTING = Alerting.model_validate(
    {
        "receivers": [
            {
                "id": "duty-mail",
                "kind": "email",
                "to": "truc-ban@ca-ngoclac.example",
                "sender": "camfleet@ca-ngoclac.example",
                "smarthost": "smtp.example:587",
                "username": "camfleet",
            },
            {"id": "zalo-gateway", "kind": "webhook", "url": "https://sms-gw.example/hook", "bearer": True},
            {"id": "plain-hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
        ]
    }
)
TELEGRAM = Alerting.model_validate({"receivers": [{"id": "duty-telegram", "kind": "telegram", "chat_id": -1001234}]})


@pytest.fixture(autouse=True, scope="module")
def _amtool() -> None:
    require_program(AMTOOL, "prometheus-alertmanager")


def amtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def amtool_version() -> tuple[int, int]:
    out = subprocess.run([AMTOOL, "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
    assert found, out.stdout + out.stderr
    return int(found[1]), int(found[2])


def write_config(folder: Path, alerting: Alerting | None = ALERTING) -> Path:
    shutil.copy(NOTIFY_TEMPLATE, folder)
    path = folder / "alertmanager.yml"
    text = render_alertmanager_config(
        alerting=alerting, secrets_dir=SECRETS, templates=[str(folder / NOTIFY_TEMPLATE.name)]
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_the_rendered_config_passes_amtool_check_config_with_secrets_only_as_files(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    out = amtool("check-config", str(path), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 templates" in out.stdout and "1 receivers" in out.stdout
    station = yaml.safe_load(path.read_text(encoding="utf-8"))["receivers"][0]
    mail = station["email_configs"][0]
    assert mail["auth_password_file"] == f"{SECRETS}/duty-mail" and "auth_password" not in mail
    assert 'template "camfleet.text"' in mail["text"]
    hooks = {h["url"]: h for h in station["webhook_configs"]}
    bearer = hooks["https://sms-gw.example/hook"]["http_config"]["authorization"]
    assert bearer == {"credentials_file": f"{SECRETS}/zalo-gateway"}
    assert "http_config" not in hooks["http://127.0.0.1:9/hook"]
    assert secret_receivers(ALERTING) == ["duty-mail", "zalo-gateway"]


def test_a_broken_config_fails_amtool(tmp_path: Path) -> None:
    """The check can fail: a receiver the route names but nobody defines."""
    path = write_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('receiver: "station"', 'receiver: "nobody"', 1))
    assert amtool("check-config", str(path), cwd=tmp_path).returncode != 0


def test_telegram_reads_its_bot_token_from_a_file() -> None:
    """Never ``bot_token`` in the rendered file on Alertmanager 0.26 and newer, which reads ``bot_token_file``."""
    text = render_alertmanager_config(alerting=TELEGRAM)
    telegram = yaml.safe_load(text)["receivers"][0]["telegram_configs"][0]
    assert telegram["bot_token_file"] == f"{SECRETS}/duty-telegram" and "bot_token" not in telegram
    assert telegram["chat_id"] == -1001234
    assert secret_receivers(TELEGRAM) == ["duty-telegram"]


def test_the_demo_town_without_receivers_still_renders_a_valid_config(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-m", "camfleet.config.prometheus", "alertmanager", str(TOWN), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert reply["secrets"] == []
    (tmp_path / "alertmanager.yml").write_text(reply["config"], encoding="utf-8")
    checked = amtool("check-config", "alertmanager.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "labels",
    [
        ["alertname=LinkDown", "link_router=lr-01-01", "severity=page"],
        ["alertname=StreamDown", "link_router=lr-01-01", "instance=cam-01-t01", "severity=page"],
        ["alertname=RecorderDiskFilling", "instance=nvr-01", "severity=ticket"],
    ],
)
def test_every_alert_routes_to_the_station_receiver(tmp_path: Path, labels: list[str]) -> None:
    path = write_config(tmp_path)
    out = amtool(
        "config", "routes", "test", f"--config.file={path}", "--verify.receivers=station", *labels, cwd=tmp_path
    )
    assert out.returncode == 0, out.stdout + out.stderr
    wrong = amtool(
        "config", "routes", "test", f"--config.file={path}", "--verify.receivers=other", *labels, cwd=tmp_path
    )
    assert wrong.returncode != 0  # the check can fail


def test_a_link_outage_and_a_full_recorder_each_inhibit_the_pages_they_cause() -> None:
    """Inhibition itself runs in a real Alertmanager in tests/integration/test_alerting_e2e.py; here, its rules."""
    rules = yaml.safe_load(render_alertmanager_config())["inhibit_rules"]

    def inhibited_by(source: str, target: str) -> list[str]:
        return [
            label
            for rule in rules
            if rule["source_matchers"] == [f'alertname="{source}"']
            and re.fullmatch(rule["target_matchers"][0].split("=~")[1].strip('"'), target)
            for label in rule["equal"]
        ]

    assert inhibited_by("LinkDown", "StreamDown") == ["link_router"]
    assert inhibited_by("LinkDown", "StreamFrozen") == ["link_router"]
    assert inhibited_by("RecorderDiskFull", "RecorderChannelNotRecording") == ["instance"]
    assert inhibited_by("RecorderDiskFull", "LinkDown") == []
    alerts = {r["alert"] for g in yaml.safe_load(render_rules())["groups"] for r in g["rules"] if "alert" in r}
    for rule in rules:
        names = [rule["source_matchers"][0].split('"')[1], *rule["target_matchers"][0].split('"')[1].split("|")]
        assert set(names) <= alerts, f"an inhibit rule names an alert that does not exist: {names}"


def test_the_notification_reads_vietnamese_first_with_where_and_since(tmp_path: Path) -> None:
    data = {
        "receiver": "station",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "StreamFrozen", "instance": "cam-01-t01", "street": "Lê Lợi", "site": "kp-01"},
                "annotations": {
                    "summary": "Camera cam-01-t01 answers but its picture is frozen (no frames)",
                    "summary_vi": "Camera cam-01-t01 vẫn trả lời nhưng hình bị đứng (không có khung hình)",
                    "runbook_en": "Reboot the camera.",
                    "runbook_vi": "Khởi động lại camera.",
                },
                "startsAt": "2026-12-05T01:30:00Z",
            }
        ],
        "groupLabels": {"alertname": "StreamFrozen"},
        "commonLabels": {"alertname": "StreamFrozen"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
    }
    (tmp_path / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    shutil.copy(NOTIFY_TEMPLATE, tmp_path)
    out = amtool(
        "template",
        "render",
        f"--template.glob={tmp_path / NOTIFY_TEMPLATE.name}",
        '--template.text={{ template "camfleet.title" . }}\n{{ template "camfleet.text" . }}',
        f"--template.data={tmp_path / 'data.json'}",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert text.startswith("[CẢNH BÁO / ALERT 1] StreamFrozen"), text
    vi, en = text.index("hình bị đứng"), text.index("is frozen")
    assert vi < en, "Vietnamese comes first"
    assert "Ở đâu: Lê Lợi, khu phố kp-01" in text and "Where: Lê Lợi, khu phố kp-01" in text
    assert "Từ lúc:" in text and "05/12/2026" in text
    assert "Việc cần làm trước: Khởi động lại camera." in text and "First step: Reboot the camera." in text


# --------------------------------------------------------------------------- runbooks name what exists

COMMAND = re.compile(r"`camfleet ([a-z-]+)(?: ([a-z-]+))?")
PLAYBOOK = re.compile(r"playbooks/[\w-]+\.yml")


@functools.cache
def camfleet_help(*words: str) -> str:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/camfleet"), *words, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, f"camfleet {' '.join(words)} --help: {out.stderr.strip()}"
    return out.stdout


def test_every_runbook_names_commands_and_playbooks_that_exist() -> None:
    notes = [
        (r["alert"], r["annotations"][key])
        for g in yaml.safe_load(render_rules())["groups"]
        for r in g["rules"]
        if "alert" in r
        for key in ("runbook_en", "runbook_vi")
    ]
    top = camfleet_help()
    seen_commands = seen_playbooks = 0
    for alert, text in notes:
        assert "đầu thu" not in text.lower(), f"{alert}: a recorder is 'đầu ghi'"
        for path in PLAYBOOK.findall(text):
            seen_playbooks += 1
            assert (ROOT / path).is_file(), f"{alert} names {path}, which does not exist"
        for sub, subsub in COMMAND.findall(text):
            seen_commands += 1
            assert re.search(rf"\{{[^}}]*\b{sub}\b", top), f"{alert} names `camfleet {sub}`, which does not exist"
            if subsub:
                assert subsub in camfleet_help(sub), f"{alert} names `camfleet {sub} {subsub}`, which does not exist"
    assert seen_commands >= 4 and seen_playbooks >= 4  # the extraction itself works


def test_before_0_26_a_telegram_token_is_a_placeholder_the_role_fills_in(tmp_path: Path) -> None:
    """Debian 12's Alertmanager 0.25 has no ``bot_token_file``: the rendered text holds only a placeholder
    (roles/monitoring puts the vault's token there while writing the file, 0600, no log, no diff), and the
    filled-in file is one this amtool accepts."""
    text = render_alertmanager_config(alerting=TELEGRAM, telegram_token_inline=True)
    telegram = yaml.safe_load(text)["receivers"][0]["telegram_configs"][0]
    assert telegram["bot_token"] == token_placeholder("duty-telegram") and "bot_token_file" not in telegram
    assert inline_receivers(TELEGRAM, True) == ["duty-telegram"] and inline_receivers(TELEGRAM, False) == []
    filled = text.replace(token_placeholder("duty-telegram"), json.dumps("123456:AAE-fake-token"))
    (tmp_path / "alertmanager.yml").write_text(filled, encoding="utf-8")
    checked = amtool("check-config", "alertmanager.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
