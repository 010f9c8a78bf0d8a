"""camfleet.jobs.backups and the backup job without devices: each format's whole-export check (fed
what the simulator's ``malformed`` fault sends), the last good backup never replaced by a bad one,
and backups at rest in ansible-vault format that Ansible's own VaultLib opens.

    .venv/bin/pytest tests/unit/test_backups.py -q
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from camfleet.inventory import load
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.vault import VaultFormatError
from camfleet.jobs import devices
from camfleet.jobs.backups import (
    BackupVault,
    BadBackup,
    check_export,
    decrypt_backup,
    last_good,
    read_backup,
    write_encrypted,
)
from camfleet.jobs.base import Credentials, JobError
from camfleet.sim.httpserve import truncate
from tests.conftest import TOWN

ROUTEROS = (Path(__file__).parent.parent / "drivers" / "replies" / "routeros" / "hap-ac2-7.18.rsc").read_bytes()
VAULT = BackupVault(b"backup-test-vault-password", "demo")
SECRET = "Pull-s3cret-Xy9"  # a camera's pull-account password, as a recorder's export carries it


def isapi_blob(channels: int = 8) -> bytes:
    """A configurationData file shaped as the simulator's: one header line, then a zlib stream."""
    rng = random.Random(channels)  # noqa: S311 - reproducible test data; each channel's serial number: the stream grows with the channels
    data = {
        "channels": [
            {"id": n, "serial": rng.randbytes(24).hex(), "user": "nvrpull", "password": SECRET}
            for n in range(1, channels + 1)
        ]
    }
    return b"VENDOR-CONFIG 1\n" + zlib.compress(json.dumps(data).encode())


def dahua_text() -> bytes:
    rows = [("General", "MachineName", "cam-05"), ("General", "LocalNo", "8"), ("NTP", "Address", "10.77.0.1")]
    rows += [("Network", f"eth0.Opt{n}", str(n)) for n in range(20)]
    return "".join(f"table.{t}.{k}={v}\r\n" for t, k, v in rows).encode()


def reason(kind: str, data: bytes, previous: bytes | None = None) -> str:
    with pytest.raises(BadBackup) as caught:
        check_export(kind, data, previous)
    assert caught.value.vi and caught.value.en and str(caught.value) == f"{caught.value.vi} / {caught.value.en}"
    return caught.value.en


# --------------------------------------------------------------------------- Hikvision configurationData


def test_a_whole_isapi_export_passes_and_every_truncation_of_it_fails() -> None:
    blob = isapi_blob()
    check_export("hikvision", blob)
    check_export("hikvision", blob + b"\0" * 7)  # padding after the stream is fine
    assert "cut short" in reason("hikvision", truncate(blob))  # exactly what the malformed fault sends
    for cut in range(len(b"VENDOR-CONFIG 1\n") + 2, len(blob)):
        with pytest.raises(BadBackup):
            check_export("hikvision", blob[:cut])
    assert "stray bytes" in reason("hikvision", blob + b"more")
    assert "damaged" in reason("hikvision", blob[:40] + bytes(b ^ 0x5A for b in blob[40:]))


def test_a_bare_zlib_stream_is_checked_too_and_opaque_files_only_for_size() -> None:
    stream = zlib.compress(b"<config>" + b"x" * 4000 + b"</config>")
    check_export("hikvision", stream)
    assert "cut short" in reason("hikvision", stream[: len(stream) - 3])
    # An AES-encrypted file (what taken-apart builds export) is opaque: random bytes pass the format
    # check, even those that happen to open like a zlib header.
    rng = random.Random(15)  # noqa: S311 - reproducible test data
    check_export("hikvision", rng.randbytes(4096))
    check_export("hikvision", b"\x78\x9c" + rng.randbytes(4094))


def test_an_isapi_status_document_or_web_page_is_no_export() -> None:
    status = b'<?xml version="1.0"?>\n<ResponseStatus><statusCode>4</statusCode></ResponseStatus>'
    assert "XML/HTML" in reason("hikvision", status)
    assert "XML/HTML" in reason("hikvision", b"  <html><body>Document Error</body></html>")
    assert "empty" in reason("hikvision", b"")
    assert "empty" in reason("hikvision", b"\0\0\r\n")
    assert "only" in reason("hikvision", b"\x01\x02\x03")


def test_the_size_must_stay_near_the_last_good_one_unless_accepted() -> None:
    good, small, big = isapi_blob(8), isapi_blob(2), isapi_blob(120)
    assert len(small) < len(good) / 2 and len(big) > 8 * len(good)
    check_export("hikvision", isapi_blob(9), good)
    check_export("hikvision", isapi_blob(6), good)
    assert "against" in reason("hikvision", small, good) and "last good backup" in reason("hikvision", small, good)
    assert "outside 0.5-8x" in reason("hikvision", big, good)
    check_export("hikvision", small, good, accept_size_change=True)
    check_export("hikvision", big, good, accept_size_change=True)


# --------------------------------------------------------------------------- Dahua config text


def test_dahua_config_text_must_be_whole_lines() -> None:
    text = dahua_text()
    check_export("dahua", text)
    assert "not table.<name>=value" in reason("dahua", truncate(text) + b"\r\n")  # the fault's cut key
    assert "last line is cut" in reason("dahua", truncate(text))
    assert "last line is cut" in reason("dahua", text[:-2] + b"5")
    assert "not UTF-8" in reason("dahua", text + b"\xff\xfe\r\n")
    assert "not table.<name>=value" in reason("dahua", b"<html><body>401 Unauthorized</body></html>\r\n" * 2)


# --------------------------------------------------------------------------- RouterOS /export


def test_a_routeros_export_passes_whole_and_fails_cut() -> None:
    check_export("routeros", ROUTEROS)
    check_export("routeros", ROUTEROS.rstrip(b"\n"))  # the driver strips the console's last newline
    text = ROUTEROS.decode()
    quoted = text.index('comment="') + len('comment="') + 3
    assert "open" in reason("routeros", text[:quoted].encode())
    wrapped = text.index("\\\n") + 1
    assert "continuation" in reason("routeros", text[:wrapped].encode())
    assert "first line" in reason("routeros", b"/ip address\nadd address=10.0.0.1/24 interface=ether1\n")
    assert "parse" in reason("routeros", b"# 2025-01-01 by RouterOS 7.18\n/ip address\nprint detail\n")
    assert "no /menu" in reason("routeros", b"# 2025-01-01 by RouterOS 7.18\n# software id = X\n" + b"#\n" * 20)
    for cut in range(60, len(ROUTEROS) // 2):  # cut anywhere in its first half: refused against the whole one
        with pytest.raises(BadBackup):
            check_export("routeros", ROUTEROS[:cut], ROUTEROS)


# --------------------------------------------------------------------------- at rest


def test_a_backup_at_rest_is_ansible_vault_that_ansible_opens(tmp_path: Path) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret

    blob = isapi_blob()
    path = tmp_path / "nvr-01.bin.vault"
    write_encrypted(path, blob, VAULT)
    raw = path.read_bytes()
    assert raw.startswith(b"$ANSIBLE_VAULT;1.2;AES256;demo\n")
    assert SECRET.encode() not in raw and SECRET.encode() in zlib.decompress(blob[16:])
    assert VaultLib([("demo", VaultSecret(VAULT.password))]).decrypt(raw) == blob
    assert read_backup(path, VAULT) == blob
    pw = tmp_path / "pw"
    pw.write_bytes(VAULT.password + b"\n")
    assert decrypt_backup(path, pw) == blob
    with pytest.raises(VaultFormatError):
        read_backup(path, BackupVault(b"another password"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nvr-01.bin.vault", "pw"]  # no temporary file left
    # and what Ansible encrypts, the job reads (a backup encrypted by hand with ansible-vault)
    by_ansible = VaultLib([("demo", VaultSecret(VAULT.password))]).encrypt(blob, VaultSecret(VAULT.password), "demo")
    (tmp_path / "by-hand.bin.vault").write_bytes(by_ansible)
    assert read_backup(tmp_path / "by-hand.bin.vault", VAULT) == blob


def test_the_last_good_backup_is_looked_for_today_then_in_earlier_days(tmp_path: Path) -> None:
    older, old, today = tmp_path / "2026-12-01", tmp_path / "2026-12-03", tmp_path / "2026-12-05"
    old.mkdir()
    older.mkdir()
    write_encrypted(older / "nvr-01.bin.vault", isapi_blob(3), VAULT)
    (old / "nvr-01.bin").write_bytes(truncate(isapi_blob(4)))  # a corrupt plaintext one of the old job
    found = last_good(today, "nvr-01", "bin", "hikvision", VAULT)
    assert found is not None and found.path == older / "nvr-01.bin.vault" and found.content == isapi_blob(3)
    (old / "nvr-01.bin").write_bytes(isapi_blob(4))  # a good plaintext one of the old job
    found = last_good(today, "nvr-01", "bin", "hikvision", VAULT)
    assert found is not None and found.path == old / "nvr-01.bin"
    write_encrypted(today / "nvr-01.bin.vault", isapi_blob(5), VAULT)
    found = last_good(today, "nvr-01", "bin", "hikvision", VAULT)
    assert found is not None and found.path == today / "nvr-01.bin.vault"
    assert last_good(today, "nvr-02", "bin", "hikvision", VAULT) is None
    write_encrypted(tmp_path / "2026-12-09" / "nvr-02.bin.vault", isapi_blob(5), VAULT)  # a later day: never
    assert last_good(today, "nvr-02", "bin", "hikvision", VAULT) is None


# --------------------------------------------------------------------------- the job, with a stand-in device


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load(TOWN, overlay=False).fleet


class Device:
    """Stands in for a recorder's driver: ``export`` is what its next configuration export is."""

    vendor = "hikvision"
    export: bytes = b""

    def config_export(self) -> bytes:
        return self.export


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch) -> Device:
    stand_in = Device()

    @contextmanager
    def connect(fleet: Fleet, device_id: str, login: Credentials, *, timeout: float) -> Iterator[Device]:
        yield stand_in

    monkeypatch.setattr(devices, "connect", connect)
    return stand_in


def run(fleet: Fleet, dest: Path, **kw: Any) -> devices.Saved:
    return devices.backup(fleet, "nvr-01", Credentials("admin", "x"), dest, VAULT, check=False, timeout=1, **kw)


def test_a_corrupt_export_never_replaces_the_last_good_backup(fleet: Fleet, device: Device, tmp_path: Path) -> None:
    dest = tmp_path / "2026-12-05"
    device.export = isapi_blob(8)
    first = run(fleet, dest)
    assert first.changed and first.path == dest / "nvr-01.bin.vault" and first.size == len(isapi_blob(8))
    good_bytes = first.path.read_bytes()
    assert not run(fleet, dest).changed and first.path.read_bytes() == good_bytes  # same export: untouched

    device.export = truncate(isapi_blob(8))  # the malformed fault
    with pytest.raises(JobError) as failed:
        run(fleet, dest)
    assert failed.value.message.startswith("nvr-01: sao lưu hỏng, không thay bản cũ / backup failed, nothing replaced:")
    assert "the zlib stream is cut short" in failed.value.message and "\n" not in failed.value.message
    assert failed.value.facts["kept"] == str(first.path)
    assert first.path.read_bytes() == good_bytes and sorted(p.name for p in dest.iterdir()) == ["nvr-01.bin.vault"]
    with pytest.raises(JobError):  # nor in check mode
        devices.backup(fleet, "nvr-01", Credentials("admin", "x"), dest, VAULT, check=True, timeout=1)

    device.export = isapi_blob(2)  # whole, but a quarter of the size: refused unless accepted
    with pytest.raises(JobError, match=r"outside 0\.5-8x"):
        run(fleet, dest)
    assert first.path.read_bytes() == good_bytes
    assert run(fleet, dest, accept_size_change=True).changed
    assert read_backup(first.path, VAULT) == isapi_blob(2)

    device.export = isapi_blob(3)  # a good new one replaces the old
    assert run(fleet, dest).changed and read_backup(first.path, VAULT) == isapi_blob(3)


def test_the_first_run_of_a_day_is_measured_against_an_earlier_day(
    fleet: Fleet, device: Device, tmp_path: Path
) -> None:
    device.export = isapi_blob(8)
    run(fleet, tmp_path / "2026-12-04")
    device.export = truncate(isapi_blob(8))
    with pytest.raises(JobError, match=r"kept the last good one: .*2026-12-04/nvr-01\.bin\.vault"):
        run(fleet, tmp_path / "2026-12-05")
    assert not (tmp_path / "2026-12-05" / "nvr-01.bin.vault").exists()


def test_a_plaintext_backup_is_replaced_by_its_encrypted_successor(
    fleet: Fleet, device: Device, tmp_path: Path
) -> None:
    dest = tmp_path / "2026-12-05"
    dest.mkdir()
    (dest / "nvr-01.bin").write_bytes(isapi_blob(8))  # written by the job before encryption
    device.export = truncate(isapi_blob(8))
    with pytest.raises(JobError):
        run(fleet, dest)
    assert (dest / "nvr-01.bin").read_bytes() == isapi_blob(8)  # a failure deletes nothing
    device.export = isapi_blob(8)
    saved = run(fleet, dest)
    assert saved.changed and sorted(p.name for p in dest.iterdir()) == ["nvr-01.bin.vault"]
    assert read_backup(saved.path, VAULT) == isapi_blob(8)


def test_a_backup_this_password_cannot_open_is_never_overwritten(fleet: Fleet, device: Device, tmp_path: Path) -> None:
    dest = tmp_path / "2026-12-05"
    write_encrypted(dest / "nvr-01.bin.vault", isapi_blob(8), BackupVault(b"the vault password before"))
    before = (dest / "nvr-01.bin.vault").read_bytes()
    device.export = isapi_blob(8)
    with pytest.raises(JobError, match="does not open with this vault password"):
        run(fleet, dest)
    assert (dest / "nvr-01.bin.vault").read_bytes() == before
