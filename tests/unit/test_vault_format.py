"""camfleet's ansible-vault reader/writer agrees with Ansible's own VaultLib, both ways."""

from __future__ import annotations

import pytest
from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.parsing.vault import VaultLib, VaultSecret

from camfleet.inventory.vault import VaultFormatError, decrypt_vault, encrypt_vault, read_vault
from tests.conftest import TOWN

PASSWORD = b"camfleet-demo-vault-NOT-A-REAL-SECRET"
TEXT = "vault_device_credentials:\n  cam-01: {username: admin, password: Ngọc-Lặc-2024}\n".encode()


def ansible_vault() -> VaultLib:
    return VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(PASSWORD))])


def test_ansible_opens_what_camfleet_writes() -> None:
    raw = encrypt_vault(TEXT, PASSWORD, "demo")
    assert raw.startswith(b"$ANSIBLE_VAULT;1.2;AES256;demo\n")
    assert ansible_vault().decrypt(raw) == TEXT


def test_camfleet_opens_what_ansible_writes() -> None:
    raw = ansible_vault().encrypt(TEXT.decode(), secret=VaultSecret(PASSWORD), vault_id="demo")
    assert decrypt_vault(raw, PASSWORD) == TEXT


def test_wrong_password_and_damage_are_clear_errors() -> None:
    raw = encrypt_vault(TEXT, PASSWORD)
    with pytest.raises(VaultFormatError, match="wrong vault password"):
        decrypt_vault(raw, b"wrong")
    with pytest.raises(VaultFormatError, match="not an ansible-vault"):
        decrypt_vault(b"plain: yaml\n", PASSWORD)
    with pytest.raises(VaultFormatError, match="damaged"):
        decrypt_vault(raw[:60] + b"zz\n", PASSWORD)


def test_the_demo_town_vault_reads() -> None:
    assert "cam-01-t01" in read_vault(TOWN, "secrets")["vault_device_credentials"]
