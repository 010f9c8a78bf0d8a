"""A second town through Ansible (issue 12): ansible.cfg names no town, and the playbooks run against a town made
by `camfleet town new` with its own vault identity, the reference town nowhere involved. No simulator, no
sockets: the new town is empty."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT


def ansible(tool: str, *args: str, identity: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """An Ansible command with the repository's ansible.cfg and, if given, the vault identity as make passes it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CAMFLEET_"))}
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    if identity:
        env["ANSIBLE_VAULT_IDENTITY_LIST"] = identity
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("second-town")
    folder, pw = base / "minh-son", base / "minh-son.vault-password"
    out = subprocess.run(
        [str(BIN / "camfleet"), "town", "new", str(folder), "--name", "Xã Minh Sơn", "--kind", "xã",
         "--vault-password-file", str(pw)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return folder, f"minh-son@{pw}"


def test_ansible_cfg_names_no_town() -> None:
    """Without -i, Ansible sees no town at all (it once read the reference town from ansible.cfg)."""
    out = ansible("ansible-inventory", "--list")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["_meta"]["hostvars"] == {}
    config = ansible("ansible-config", "dump", "--only-changed")
    assert "ngoc-lac" not in config.stdout and "DEFAULT_VAULT_IDENTITY_LIST" not in config.stdout, config.stdout


def test_playbooks_run_against_the_new_town_with_its_own_vault(town: tuple[Path, str]) -> None:
    folder, identity = town
    inventory = str(folder / "town.camfleet.yml")
    out = ansible("ansible-inventory", "-i", inventory, "--list", identity=identity)
    assert out.returncode == 0, out.stderr
    assert "nvr-01" not in out.stdout and "ngoc-lac" not in out.stdout
    run = ansible("ansible-playbook", "-i", inventory, "playbooks/links.yml", "--check", identity=identity)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ngoc-lac" not in run.stdout + run.stderr
    # The vault identity a role's default reads (passwords, backup, provision: ANSIBLE_VAULT_IDENTITY_LIST, which
    # --vault-id does not set) is the new town's, and it opens the new vault as ansible-vault itself does.
    view = ansible("ansible-vault", "view", str(folder / "vault" / "secrets.yml"), identity=identity)
    assert view.returncode == 0, view.stderr
    assert "vault_wireguard_keys" in view.stdout and "vault_footage_signing_key" in view.stdout
    looked_up = ansible(
        "ansible", "localhost", "-i", inventory, "-m", "ansible.builtin.debug",
        "-a", "msg={{ (lookup('ansible.builtin.config', 'DEFAULT_VAULT_IDENTITY_LIST') | first).split('@', 1) | last }}",
        identity=identity,
    )  # fmt: skip
    assert looked_up.returncode == 0, looked_up.stderr
    assert identity.split("@", 1)[1] in looked_up.stdout
