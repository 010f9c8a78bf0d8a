"""A town's ansible-vault files (device secrets, contacts) from Python: read them, and rewrite one safely.

Ansible reads them itself in playbooks; the simulator, the exporter, the jobs that write
passwords (activation, rotation) and the tests need the same values outside Ansible. The password comes from a file,
as Ansible's ``--vault-password-file`` does; the demo town ships one marked
DEMO-ONLY.

    .venv/bin/python -c "from camfleet.inventory.vault import read_vault; \\
        print(sorted(read_vault('inventory/ngoc-lac', 'secrets')))"
"""

from __future__ import annotations

import binascii
import contextlib
import copy
import fcntl
import hmac
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

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


# --------------------------------------------------------------------------- one vault file, rewritten safely


class VaultError(Exception):
    """The vault cannot be read or written; the message names the file and what to do."""


class VaultFile:
    """One ansible-vault YAML file, read and rewritten under a lock, re-encrypted with its own vault id.

    ``update`` holds an exclusive ``flock`` on ``<file>.lock`` from reading to renaming, so the
    parallel forks of a playbook never lose each other's changes; the file is replaced by a rename,
    so a crash leaves the old or the new vault, never half of one. Comments in the decrypted YAML
    are not kept (the vault holds data only).
    """

    def __init__(self, path: Path | str, password_file: Path | str, vault_id: str | None = None) -> None:
        self.path = Path(path)
        self.password_file = Path(password_file)
        self._vault_id = vault_id

    def _secret(self) -> bytes:
        try:
            return self.password_file.read_bytes().strip()
        except OSError as exc:
            raise VaultError(f"cannot read the vault password file {self.password_file}: {exc.strerror}") from None

    def vault_id(self, raw: bytes) -> str:
        """The id to encrypt with: the one given, else the file's own (``$ANSIBLE_VAULT;1.2;AES256;<id>``)."""
        if self._vault_id:
            return self._vault_id
        header = raw.split(b"\n", 1)[0].decode("ascii", "replace").strip().split(";")
        return header[3] if len(header) > 3 and header[3] else "default"

    def _decrypt(self, raw: bytes) -> dict[str, Any]:
        try:
            text = decrypt_vault(raw, self._secret())
        except VaultFormatError as exc:
            raise VaultError(f"cannot decrypt {self.path}: {exc}; is it the right vault password?") from None
        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise VaultError(f"{self.path}: the vault must hold a mapping of variables")
        return data

    def read(self) -> dict[str, Any]:
        try:
            return self._decrypt(self.path.read_bytes())
        except FileNotFoundError:
            raise VaultError(f"{self.path}: no such vault file") from None

    def encrypt(self, data: dict[str, Any], vault_id: str) -> bytes:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
        return encrypt_vault(text.encode(), self._secret(), vault_id)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock on the vault's folder: the file itself is replaced by a rename, so a
        lock on it would not exclude a writer that opened the new one (and a lock file would be a
        stray, unencrypted file among the vault files the inventory checks).
        """
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def update(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Read, let ``change`` edit the data in place, write it back encrypted; returns what ``change`` did."""
        with self.locked():
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                raise VaultError(f"{self.path}: no such vault file") from None
            data = self._decrypt(raw)
            before = copy.deepcopy(data)
            result = change(data)
            if data != before:  # an unchanged vault keeps its bytes (no churn in git)
                self._replace(self.encrypt(data, self.vault_id(raw)))
            return result

    def _replace(self, content: bytes) -> None:
        mode = self.path.stat().st_mode & 0o777
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
