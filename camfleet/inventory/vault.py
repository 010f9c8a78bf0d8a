"""Reading a town's ansible-vault files (device secrets, contacts) from Python.

Ansible reads them itself in playbooks; the simulator, the exporter and the
tests need the same values outside Ansible. The password comes from a file,
as Ansible's ``--vault-password-file`` does; the demo town ships one marked
DEMO-ONLY.

    .venv/bin/python -c "from camfleet.inventory.vault import read_vault; \\
        print(sorted(read_vault('inventory/ngoc-lac', 'secrets')))"
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

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


def read_vault(town: Path | str, name: str, password: Path | str | None = None) -> dict[str, Any]:
    """Decrypt ``<town>/vault/<name>.yml`` and return its variables."""
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultLib, VaultSecret

    path = Path(town) / "vault" / f"{name}.yml"
    secret = VaultSecret(password_file(town, password).read_bytes().strip())
    try:
        text = VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)]).decrypt(path.read_bytes())
    except FileNotFoundError:
        raise InventoryError([Problem(path, None, "(vault)", "no such vault file")]) from None
    except AnsibleError as exc:
        reason = str(exc).splitlines()[0]
        raise InventoryError(
            [Problem(path, None, "(vault)", f"cannot decrypt: {reason}; is it the right vault password?")]
        ) from None
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise InventoryError([Problem(path, None, "(vault)", "the vault must hold a mapping of variables")])
    return data


def device_credentials(town: Path | str, password: Path | str | None = None) -> dict[str, dict[str, str]]:
    """``vault_device_credentials``: device id → {username, password}."""
    creds = read_vault(town, "secrets", password).get("vault_device_credentials") or {}
    return {str(k): {"username": str(v["username"]), "password": str(v["password"])} for k, v in creds.items()}
