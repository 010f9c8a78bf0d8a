"""camfleet.jobs.passwords without devices: the password rules, the rotation bookkeeping, the vault rewrite."""

from __future__ import annotations

import random
import shutil
import threading
from pathlib import Path

import pytest

from camfleet.jobs.passwords import (
    ROTATION,
    VaultError,
    VaultFile,
    begin,
    cancel,
    complete,
    finish,
    generate_password,
    login_candidates,
    mark_done,
    needs_rotation,
    password_problems,
)
from tests.conftest import TOWN


def test_generated_passwords_pass_every_vendor_rule() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test draws; production uses secrets
    seen = {generate_password("admin", rng=rng) for _ in range(200)}
    assert len(seen) == 200
    for pw in seen:
        assert len(pw) == 16 and "admin" not in pw.lower()
        assert password_problems(pw, "hikvision", "admin") == [] and password_problems(pw, "dahua", "admin") == []


@pytest.mark.parametrize(
    ("password", "vendor", "problem"),
    [
        ("short1A", "hikvision", "8 to 16"),
        ("a" * 10 + "B1cdefgh", "hikvision", "8 to 16"),
        ("abcdefghijk", "dahua", "two of"),
        ("xxadminxx12", "hikvision", "user name"),
        ("Abc:defg123", "dahua", "must not contain any of"),
        ("Abbb12345", "hikvision", "three times"),
    ],
)
def test_each_rule_is_reported(password: str, vendor: str, problem: str) -> None:
    assert any(problem in p for p in password_problems(password, vendor, "admin"))
    assert password_problems("Abcdefg-2345", vendor, "admin") == []


def vault_data() -> dict:  # type: ignore[type-arg]
    return {
        "vault_device_credentials": {
            "cam-1": {"username": "admin", "password": "Old-pass-11"},
            "nvr-1-channel-user": {"username": "nvrpull", "password": "Pull-old-22"},
        }
    }


def test_a_pending_rotation_says_which_password_each_device_holds() -> None:
    data = vault_data()
    assert [c.source for c in login_candidates(data, "cam-1", "cam-1")] == ["current"]
    assert begin(data, "nvr-1-channel-user", "New-pass-33") == "New-pass-33"
    assert begin(data, "nvr-1-channel-user", "Other-44xx") == "New-pass-33"  # a re-run continues, never re-generates
    mark_done(data, "nvr-1-channel-user", "cam-a")
    assert [c.password for c in login_candidates(data, "nvr-1-channel-user", "cam-a")] == ["New-pass-33", "Pull-old-22"]
    assert [c.password for c in login_candidates(data, "nvr-1-channel-user", "cam-b")] == ["Pull-old-22", "New-pass-33"]
    assert not finish(data, "nvr-1-channel-user", {"cam-a", "cam-b"})
    assert data["vault_device_credentials"]["nvr-1-channel-user"]["password"] == "Pull-old-22"
    assert complete(data, "nvr-1-channel-user", "cam-b", {"cam-a", "cam-b"})
    assert data["vault_device_credentials"]["nvr-1-channel-user"]["password"] == "New-pass-33"
    assert set(data[ROTATION]["nvr-1-channel-user"]) == {"rotated"}
    assert not needs_rotation(data, "nvr-1-channel-user", 90) and needs_rotation(data, "nvr-1-channel-user", 0)
    assert needs_rotation(data, "cam-1", 90)  # never rotated by camfleet


def test_cancel_forgets_a_pending_password_only_while_no_device_holds_it() -> None:
    data = vault_data()
    begin(data, "cam-1", "New-pass-33")
    cancel(data, "cam-1")
    assert "cam-1" not in data[ROTATION]
    begin(data, "cam-1", "New-pass-33")
    mark_done(data, "cam-1", "cam-1")
    cancel(data, "cam-1")
    assert data[ROTATION]["cam-1"]["pending_password"] == "New-pass-33"


@pytest.fixture
def vault(tmp_path: Path) -> VaultFile:
    shutil.copytree(TOWN / "vault", tmp_path / "vault")
    return VaultFile(tmp_path / "vault" / "secrets.yml", TOWN / "vault-password.DEMO-ONLY")


def test_vault_rewrite_keeps_the_vault_id_and_the_other_secrets(vault: VaultFile) -> None:
    before = vault.read()
    vault.update(lambda d: begin(d, "cam-01-t01", "New-pass-33"))
    assert vault.path.read_bytes().startswith(b"$ANSIBLE_VAULT;1.2;AES256;demo\n")
    after = vault.read()
    assert after["vault_wireguard_keys"] == before["vault_wireguard_keys"]
    assert after[ROTATION]["cam-01-t01"]["pending_password"] == "New-pass-33"
    assert {p.name for p in vault.path.parent.iterdir()} == {"contacts.yml", "secrets.yml"}  # no stray files


def test_an_unchanged_vault_keeps_its_bytes(vault: VaultFile) -> None:
    raw = vault.path.read_bytes()
    vault.update(lambda d: finish(d, "cam-01-t01", {"cam-01-t01"}))  # nothing pending: no change
    assert vault.path.read_bytes() == raw


def test_parallel_updates_are_not_lost(vault: VaultFile) -> None:
    cams = [f"cam-0{i}-t01" for i in range(1, 9)]
    threads = [threading.Thread(target=vault.update, args=(lambda d, c=c: begin(d, c, f"New-{c}-9"),)) for c in cams]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(vault.read()[ROTATION]) == cams


def test_a_wrong_vault_password_is_a_clear_error(vault: VaultFile, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("not-it\n")
    with pytest.raises(VaultError, match=r"cannot decrypt .*secrets\.yml.*right vault password"):
        VaultFile(vault.path, tmp_path / "pw").read()
    with pytest.raises(VaultError, match="no username and password"):
        vault.update(lambda d: begin(d, "cam-99-t99", "New-pass-33"))
