"""playbooks/backup.yml through ansible-playbook against the simulated town (--net 187): a device with
the ``malformed`` fault (its export cut in the middle, as camfleet/sim/httpserve.py ``truncate`` sends
it) fails with its reason and never replaces the last good backup; a good export replaces the old one;
the files at rest are ansible-vault, hold none of the town's secrets, and ``ansible-vault decrypt``
gives back exactly what the device exported.

    .venv/bin/pytest tests/integration/test_backup_playbook.py -q
"""

from __future__ import annotations

import re
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfleet.inventory.vault import read_vault
from camfleet.jobs.backups import check_export, decrypt_backup
from tests.conftest import BIN, ROOT, TOWN
from tests.integration.simtown import Town, ansible_env, playbook, recap, running_town

pytestmark = pytest.mark.slow

NET = 187
HIK, DAHUA = "cam-05-t01", "cam-05-t02"  # a Hikvision and a Dahua camera, both commissioned
DEVICES = [HIK, DAHUA, "nvr-01", "nvr-02", "lr-01-01", "core-01"]
PASSWORD_FILE = TOWN / "vault-password.DEMO-ONLY"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), NET, "--prefill-days", "0") as running:
        yield running


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backup folders (``<date>/``) the tests of this module share, in order."""
    return tmp_path_factory.mktemp("backups")


def backup(town: Town, dest: Path, devices: list[str] = DEVICES) -> subprocess.CompletedProcess[str]:
    return playbook(town, "backup.yml", "-e", f"backup_dir={dest}", "-l", ",".join(devices))


def secrets() -> dict[str, str]:
    """Every secret the town's vault holds: device and pull-account passwords, WireGuard private keys."""
    vault = read_vault(TOWN, "secrets")
    found = {f"{k} password": v["password"] for k, v in vault["vault_device_credentials"].items()}
    found |= {f"{k} private key": v["private_key"] for k, v in vault["vault_wireguard_keys"].items()}
    return found


def ansible_vault_decrypt(town: Town, path: Path) -> bytes:
    """What ``ansible-vault decrypt --output - FILE`` prints, with the vault identity of ansible.cfg."""
    out = subprocess.run(
        [str(BIN / "ansible-vault"), "decrypt", "--output", "-", str(path)],
        cwd=ROOT,
        env=ansible_env(town),
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


def flat(text: str) -> str:
    return " ".join(text.split())


def test_backups_at_rest_are_vault_files_with_no_secret_in_them(town: Town, backups: Path) -> None:
    day = backups / "2026-12-04"
    run = backup(town, day)
    assert run.returncode == 0, run.stdout[-3000:]
    assert all(r["changed"] == 1 and r["failed"] == 0 for r in recap(run.stdout).values())
    assert sorted(p.name for p in day.iterdir()) == sorted(
        f"{d}.{'rsc' if d.startswith(('lr-', 'core-')) else 'bin'}.vault" for d in DEVICES
    )
    for path in day.iterdir():
        raw = path.read_bytes()
        assert raw.startswith(b"$ANSIBLE_VAULT;1.2;AES256;demo\n") and path.stat().st_mode & 0o777 == 0o600
        assert re.fullmatch(rb"[0-9a-f\n]+", raw.split(b"\n", 1)[1]), path.name
        for what, secret in secrets().items():
            assert secret.encode() not in raw, f"{what} in {path.name}"
    assert re.search(r"2 of 2 devices backed up \(2 new or changed, \d+ bytes, encrypted\)", flat(run.stdout))
    assert re.search(r"4 of 4 devices backed up \(4 new or changed, \d+ bytes, encrypted\)", flat(run.stdout))

    # Decrypted by Ansible's own tool, each is exactly what the device exports...
    with town.http("nvr-01") as nvr:
        exported = nvr.get("/ISAPI/System/configurationData").content
    nvr_01 = ansible_vault_decrypt(town, day / "nvr-01.bin.vault")
    assert nvr_01 == exported == decrypt_backup(day / "nvr-01.bin.vault", PASSWORD_FILE)
    # ...which does carry the secrets (zlib-compressed plaintext in the recorder's export): they are
    # absent above because the files are encrypted, not because the export never had them.
    inflated = zlib.decompress(nvr_01[nvr_01.index(b"\n") + 1 :])
    pull = town.creds["nvr-01-channel-user"]["password"]
    assert pull.encode() in inflated and town.creds["nvr-01"]["password"].encode() in inflated
    router = ansible_vault_decrypt(town, day / "lr-01-01.rsc.vault").decode()
    assert router.startswith("# exported by RouterOS") and "/ip firewall filter" in router
    dahua = ansible_vault_decrypt(town, day / f"{DAHUA}.bin.vault")
    assert dahua.startswith(b"table.General.") and dahua.endswith(b"\r\n")
    for path in day.iterdir():  # every one passes the check it was written under
        check_export("routeros" if path.name.endswith(".rsc.vault") else "dahua" if DAHUA in path.name else "hikvision",
                     decrypt_backup(path, PASSWORD_FILE))  # fmt: skip

    again = backup(town, day)
    assert again.returncode == 0 and all(r["changed"] == 0 for r in recap(again.stdout).values())


def test_a_malformed_export_fails_and_never_replaces_the_last_good_backup(town: Town, backups: Path) -> None:
    day = backups / "2026-12-05"
    first = backup(town, day)
    assert first.returncode == 0, first.stdout[-3000:]
    before = {p.name: p.read_bytes() for p in day.iterdir()}
    broken = [HIK, DAHUA, "nvr-01"]
    for device in broken:
        town.fault(device, "malformed")
    try:
        run = backup(town, day)
        next_day = backup(town, backups / "2026-12-06", ["nvr-01"])  # a new day's folder: measured against the last
    finally:
        for device in broken:
            town.fault(device, "malformed", "--clear")
    hosts = recap(run.stdout)
    assert {h for h, r in hosts.items() if r["failed"]} == set(broken)
    assert {p.name: p.read_bytes() for p in day.iterdir()} == before  # not one byte replaced, nothing added
    text = flat(run.stdout)
    for device in broken:
        fatal = flat(run.stdout.split(f"fatal: [{device}]", 1)[1].split("\n\n", 1)[0])
        assert f"{device}: sao lưu hỏng, không thay bản cũ / backup failed, nothing replaced:" in fatal
        assert f"kept the last good one: {day / f'{device}.bin.vault'}" in fatal
        assert "Traceback" not in fatal
    assert "the zlib stream is cut short" in text  # nvr-01: a Hikvision configurationData cut in the middle
    assert "malformed reply" in text  # the Dahua camera: a getConfig reply cut mid-line
    assert re.search(
        rf"Sao lưu hỏng, bản cũ giữ nguyên / failed, last good backups kept: 2: {HIK} \(.+\); {DAHUA} \(.+\)\.", text
    )
    assert re.search(r"Sao lưu hỏng, bản cũ giữ nguyên / failed, last good backups kept: 1: nvr-01 \(", text)
    assert next_day.returncode != 0 and not (backups / "2026-12-06" / "nvr-01.bin.vault").exists()
    assert f"kept the last good one: {day / 'nvr-01.bin.vault'}" in flat(next_day.stdout)


def test_a_good_export_replaces_the_old_backup(town: Town, backups: Path) -> None:
    day = backups / "2026-12-05"
    old = (day / f"{HIK}.bin.vault").read_bytes()
    with town.http(HIK) as client:  # the camera's configuration changes: a technician renames it
        doc = client.get("/ISAPI/System/deviceInfo").text
        renamed = re.sub(r"<deviceName>[^<]*</deviceName>", "<deviceName>BACKUP-RENAMED</deviceName>", doc)
        assert client.put("/ISAPI/System/deviceInfo", content=renamed).status_code == 200
    try:
        run = backup(town, day, [HIK])
        with town.http(HIK) as client:
            exported = client.get("/ISAPI/System/configurationData").content
    finally:
        with town.http(HIK) as client:
            client.put("/ISAPI/System/deviceInfo", content=doc)
    assert run.returncode == 0, run.stdout[-3000:]
    assert recap(run.stdout)[HIK]["changed"] == 1
    new = (day / f"{HIK}.bin.vault").read_bytes()
    assert new != old and ansible_vault_decrypt(town, day / f"{HIK}.bin.vault") == exported
    assert b"BACKUP-RENAMED" in zlib.decompress(exported[exported.index(b"\n") + 1 :])
    assert sorted(p.name for p in day.iterdir() if p.name.startswith(HIK)) == [f"{HIK}.bin.vault"]
