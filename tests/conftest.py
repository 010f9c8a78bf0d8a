"""Shared test settings: each test session gets its own parse cache, so no test reads a stale one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOWN = ROOT / "inventory" / "ngoc-lac"
BIN = ROOT / ".venv" / "bin"
#: What ansible.cfg does not say (it names no town): the reference town's inventory and its demo vault identity.
#: A command's own -i still wins over ANSIBLE_INVENTORY.
REFERENCE_ANSIBLE_ENV = {
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "ANSIBLE_INVENTORY": str(TOWN / "town.camfleet.yml"),
    "ANSIBLE_VAULT_IDENTITY_LIST": f"demo@{TOWN / 'vault-password.DEMO-ONLY'}",
}

os.environ.setdefault("CAMFLEET_CACHE_DIR", tempfile.mkdtemp(prefix="camfleet-test-cache-"))
os.environ.pop("CAMFLEET_OVERLAY", None)


def require_program(path: str, package: str) -> None:
    """Fail (never skip) when a program the test needs is missing: ``make setup`` installs it, so in CI
    a missing one is a broken setup, and a test that quietly skips would let it pass."""
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: install Debian's {package} (make setup does)", pytrace=False)


@pytest.fixture
def town_copy(tmp_path: Path) -> Path:
    """A writable copy of the reference town."""
    import shutil

    dest = tmp_path / "ngoc-lac"
    shutil.copytree(TOWN, dest)
    return dest
