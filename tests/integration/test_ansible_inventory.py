"""The inventory plugin through Ansible's own CLI: golden output, Constructable options, errors, privacy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REFERENCE_ANSIBLE_ENV, ROOT, TOWN
from tests.golden.regenerate import GOLDEN, inventory_list


def ansible_inventory(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "CAMFLEET_OVERLAY"}
    full_env.update(REFERENCE_ANSIBLE_ENV)
    full_env.update(env or {})
    return subprocess.run(
        [str(BIN / "ansible-inventory"), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def listing() -> dict:
    return inventory_list()


def test_list_matches_the_golden_file(listing: dict) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert listing == golden, "inventory output changed; if deliberate run `make golden` and review the diff"


def test_seventy_cameras_and_the_groups(listing: dict) -> None:
    assert len(listing["cameras"]["hosts"]) == 70
    assert set(listing["recorders"]["hosts"]) == {"nvr-01", "nvr-02"}
    assert len(listing["town_cameras"]["hosts"]) + len(listing["community_cameras"]["hosts"]) == 70
    assert "core-01" in listing["link_routers"]["hosts"]
    for group in ("site_kp_01", "vendor_hikvision", "recorder_nvr_01", "status_commissioned", "status_installed"):
        assert listing[group]["hosts"], group


def test_no_personal_data_or_secret_reaches_ansible(listing: dict) -> None:
    """Decrypt the demo vault and prove none of its names, phones or passwords is in the inventory output."""
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret((TOWN / "vault-password.DEMO-ONLY").read_bytes().strip()))])
    contacts = yaml.safe_load(vault.decrypt((TOWN / "vault" / "contacts.yml").read_bytes()))["vault_contacts"]
    secrets = yaml.safe_load(vault.decrypt((TOWN / "vault" / "secrets.yml").read_bytes()))
    text = json.dumps(listing, ensure_ascii=False)
    leaked = [
        value for person in contacts.values() for value in (str(person["name"]), str(person["phone"])) if value in text
    ]
    leaked += [c["password"] for c in secrets["vault_device_credentials"].values() if c["password"] in text]
    leaked += [k["private_key"] for k in secrets["vault_wireguard_keys"].values() if k["private_key"] in text]
    assert len(contacts) > 60 and leaked == []


def test_constructable_options(tmp_path: Path) -> None:
    config = tmp_path / "custom.camfleet.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "plugin": "camfleet.fleet.town",
                "town": os.path.relpath(TOWN, tmp_path),
                "keyed_groups": [{"key": "camfleet_model", "prefix": "model", "default_value": "unknown"}],
                "compose": {"camfleet_label": "camfleet_site ~ '/' ~ inventory_hostname"},
                "groups": {"awaiting_commissioning": "camfleet_status == 'installed'"},
            }
        ),
        encoding="utf-8",
    )
    out = ansible_inventory("-i", str(config), "--list")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    awaiting = data["awaiting_commissioning"]["hosts"]
    assert awaiting and all(re.fullmatch(r"cam-\d\d-t\d\d", h) for h in awaiting)
    assert "cam-01-t01" in data["model_DS_2CD1023G2_LIU"]["hosts"]
    label = data["_meta"]["hostvars"]["cam-01-t01"]["camfleet_label"]
    assert (label.get("__ansible_unsafe") if isinstance(label, dict) else label) == "kp-01/cam-01-t01"


def test_overlay_env_is_honoured(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yml"
    overlay.write_text(
        "town: ngoc-lac\ndevices:\n  cam-01-t01: {address: 127.10.1.2, rtsp_port: 8554}\n", encoding="utf-8"
    )
    out = ansible_inventory("--host", "cam-01-t01", env={"CAMFLEET_OVERLAY": str(overlay)})
    assert out.returncode == 0, out.stderr
    host = json.loads(out.stdout)
    assert host["ansible_host"] == "127.10.1.2" and host["camfleet_rtsp_port"] == 8554


def test_invalid_town_fails_with_the_loader_message(tmp_path: Path) -> None:
    town = tmp_path / "ngoc-lac"
    shutil.copytree(TOWN, town)
    kp = town / "sites" / "kp-04.yml"
    kp.write_text(
        kp.read_text(encoding="utf-8").replace("household: hh-04-01", "household: hh-04-99", 1), encoding="utf-8"
    )
    out = ansible_inventory(
        "-i", str(town / "town.camfleet.yml"), "--list", env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    )
    assert out.returncode != 0
    assert re.search(
        r"kp-04\.yml:\d+: link-04-01\.household: không có hộ gia đình 'hh-04-99' / no household 'hh-04-99'", out.stderr
    ), out.stderr


def test_alias_bomb_fails_fast_with_its_line(tmp_path: Path) -> None:
    """Issue 15: a 300-byte 'billion laughs' in a site file once grew ansible-inventory by 80 MiB/s."""
    town = tmp_path / "ngoc-lac"
    shutil.copytree(TOWN, town)
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    (town / "sites" / "kp-99.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = ansible_inventory(
        "-i", str(town / "town.camfleet.yml"), "--list", env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    )
    assert out.returncode != 0
    assert re.search(r"kp-99\.yml:5: \(yaml\): .*YAML aliases expand too much", out.stderr), out.stderr


def test_ansible_doc_documents_the_plugin() -> None:
    out = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "inventory", "camfleet.fleet.town"],
        cwd=ROOT,
        env={**os.environ, **REFERENCE_ANSIBLE_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "keyed_groups" in out.stdout and "CAMFLEET_OVERLAY" in out.stdout


def test_every_module_documents_itself() -> None:
    """ansible-doc parses every module's DOCUMENTATION/EXAMPLES/RETURN (a colon in the wrong place breaks it)."""
    modules = sorted(
        p.stem for p in (ROOT / "collections/ansible_collections/camfleet/fleet/plugins/modules").glob("*.py")
    )
    out = subprocess.run(
        [str(BIN / "ansible-doc"), "--json", *(f"camfleet.fleet.{m}" for m in modules)],
        cwd=ROOT,
        env={**os.environ, **REFERENCE_ANSIBLE_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    docs = json.loads(out.stdout)
    assert sorted(docs) == [f"camfleet.fleet.{m}" for m in modules] and len(modules) >= 10
    for name, doc in docs.items():
        assert doc["doc"]["options"] and doc["examples"] and doc["return"], name
        # every module acts on a town's devices, but for the one on a router and the one on the pager
        assert "town" in doc["doc"]["options"] or name.endswith(("link_router", "alert_silence")), name
