"""Reading a town's ansible-vault files (device secrets, contacts) from Python.

Ansible reads them itself in playbooks; the simulator, the exporter and the
tests need the same values outside Ansible. The password comes from a file,
as Ansible's ``--vault-password-file`` does; the demo town ships one marked
DEMO-ONLY.

    .venv/bin/python -c "from camfleet.inventory.vault import read_vault; \\
        print(sorted(read_vault('inventory/ngoc-lac', 'secrets')))"
"""

from __future__ import annotations

import binascii
import hmac
import os
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from camfleet.inventory.problems import InventoryError, Problem

DEMO_PASSWORD_FILE = "vault-password.DEMO-ONLY"  # noqa: S105 - a file name, not a password
ENV = "CAMFLEET_VAULT_PASSWORD_FILE"


def password_file(town: Path | str, explicit: Path | str | None = None) -> Path:
    """The vault password file: the argument, ``$CAMFLEET_VAULT_PASSWORD_FILE``, or the town's demo file."""
    chosen = explicit or os.environ.get(ENV)
    path = Path(chosen) if chosen else Path(town) / DEMO_PASSWORD_FILE
    if not path.is_file():
        raise InventoryError(
            [Problem(path, None, "(vault)", f"no vault password file; pass --vault-password-file or set {ENV}")]
        )
    return path


class VaultFormatError(ValueError):
    """Not an ansible-vault file, or the password does not open it."""


_SALT_BYTES = 32
_ITERATIONS = 10000


def _keys(password: bytes, salt: bytes) -> tuple[bytes, bytes, bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    derived = PBKDF2HMAC(hashes.SHA256(), 80, salt, _ITERATIONS).derive(password)
    return derived[:32], derived[32:64], derived[64:]


def decrypt_vault(raw: bytes, password: bytes) -> bytes:
    """Plaintext of an ansible-vault 1.1/1.2 AES256 file.

    Implemented here, not imported from ansible: Ansible modules run inside an AnsiballZ payload
    that shadows the controller's ``ansible`` package, so ``ansible.parsing.vault`` cannot be
    imported there. The format is ansible-vault's (PBKDF2-SHA256, AES-256-CTR, HMAC-SHA256);
    tests check both directions against Ansible's own VaultLib.
    """
    lines = raw.strip().splitlines()
    header = lines[0].decode("ascii", "replace").split(";") if lines else []
    if len(header) < 3 or header[0] != "$ANSIBLE_VAULT" or header[2].strip() != "AES256":
        raise VaultFormatError("not an ansible-vault AES256 file")
    try:
        salt_hex, mac_hex, cipher_hex = binascii.unhexlify(b"".join(lines[1:])).split(b"\n", 2)
        salt, mac = binascii.unhexlify(salt_hex), binascii.unhexlify(mac_hex)
        ciphertext = binascii.unhexlify(cipher_hex)
    except (ValueError, binascii.Error):
        raise VaultFormatError("the vault body is damaged") from None
    key, mac_key, iv = _keys(password, salt)
    if not hmac.compare_digest(hmac.new(mac_key, ciphertext, "sha256").digest(), mac):
        raise VaultFormatError("wrong vault password (or a damaged file)")
    decryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def encrypt_vault(plaintext: bytes, password: bytes, vault_id: str | None = None) -> bytes:
    """An ansible-vault file (1.2 with a vault id, else 1.1) holding ``plaintext``."""
    salt = os.urandom(_SALT_BYTES)
    key, mac_key, iv = _keys(password, salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(mac_key, ciphertext, "sha256").hexdigest().encode()
    body = binascii.hexlify(b"\n".join([binascii.hexlify(salt), mac, binascii.hexlify(ciphertext)]))
    header = f"$ANSIBLE_VAULT;1.2;AES256;{vault_id}" if vault_id else "$ANSIBLE_VAULT;1.1;AES256"
    wrapped = [body[i : i + 80] for i in range(0, len(body), 80)]
    return header.encode() + b"\n" + b"\n".join(wrapped) + b"\n"


def read_vault(town: Path | str, name: str, password: Path | str | None = None) -> dict[str, Any]:
    """Decrypt ``<town>/vault/<name>.yml`` and return its variables."""
    path = Path(town) / "vault" / f"{name}.yml"
    secret = password_file(town, password).read_bytes().strip()
    try:
        text = decrypt_vault(path.read_bytes(), secret)
    except FileNotFoundError:
        raise InventoryError([Problem(path, None, "(vault)", "no such vault file")]) from None
    except VaultFormatError as exc:
        raise InventoryError([Problem(path, None, "(vault)", f"cannot decrypt: {exc}")]) from None
    try:
        data = yaml.load(text, Loader=SafeLoader) or {}  # the C build of the safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InventoryError([Problem(path, line, "(vault)", f"decrypted, but not YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise InventoryError([Problem(path, None, "(vault)", "the vault must hold a mapping of variables")])
    return data


def device_credentials(town: Path | str, password: Path | str | None = None) -> dict[str, dict[str, str]]:
    """``vault_device_credentials``: device id → {username, password}."""
    creds = read_vault(town, "secrets", password).get("vault_device_credentials") or {}
    return {str(k): {"username": str(v["username"]), "password": str(v["password"])} for k, v in creds.items()}
