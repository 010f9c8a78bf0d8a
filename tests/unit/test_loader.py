"""Loading the reference town: what it holds, how it caches, how it reports every problem at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from camfleet.inventory import InventoryError, load, yamlfiles
from camfleet.model import CameraKind, CameraStatus
from tests.conftest import TOWN


def test_reference_town_holds_the_plan() -> None:
    result = load(TOWN)
    fleet = result.fleet
    assert result.warnings == []
    assert len(fleet.cameras) == 70
    kinds = {k: sum(1 for c in fleet.cameras.values() if c.kind is k) for k in CameraKind}
    assert kinds[CameraKind.town] > 0 and kinds[CameraKind.community] > 0
    statuses = {c.status for c in fleet.cameras.values()}
    assert {CameraStatus.commissioned, CameraStatus.installed, CameraStatus.planned} <= statuses
    commissioned = sum(1 for c in fleet.cameras.values() if c.status is CameraStatus.commissioned)
    assert commissioned > 35
    awaiting = [c for c in fleet.town_cameras() if c.status is CameraStatus.installed]
    assert 3 <= len(awaiting) <= 8
    assert fleet.town.storage.retention_days == 30
    assert len(fleet.sites) >= 8


def test_parsed_files_are_cached_and_changed_files_reread(town_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load(town_copy)
    parsed: list[Path] = []
    real = yamlfiles.parse_text
    monkeypatch.setattr(yamlfiles, "parse_text", lambda text, path: parsed.append(path) or real(text, path))
    load(town_copy)
    assert parsed == []  # warm: nothing re-parsed

    yamlfiles._memory.clear()  # a new process: only the disk cache is left
    load(town_copy)
    assert parsed == []

    site = town_copy / "sites" / "kp-03.yml"
    site.write_text(
        site.read_text(encoding="utf-8").replace("Khu phố Trần Phú", "Khu phố Trần Phú Mới"), encoding="utf-8"
    )
    fleet = load(town_copy).fleet
    assert [p.name for p in parsed] == ["kp-03.yml"]
    assert fleet.sites["kp-03"].name == "Khu phố Trần Phú Mới"


def test_cache_can_be_switched_off(town_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMFLEET_CACHE_DIR", "off")
    assert yamlfiles.cache_dir() is None
    assert len(load(town_copy).fleet.cameras) == 70


def test_every_problem_is_reported_at_once(town_copy: Path) -> None:
    kp1 = town_copy / "sites" / "kp-01.yml"
    kp1.write_text(kp1.read_text(encoding="utf-8").replace("channel: 1\n", "channel: 40\n", 1), encoding="utf-8")
    kp2 = town_copy / "sites" / "kp-02.yml"
    kp2.write_text(kp2.read_text(encoding="utf-8").replace("kind: town", "kind: towne", 1), encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load(town_copy)
    lines = [str(p) for p in caught.value.problems]
    assert any("kp-01.yml:" in line and "channel 40 is beyond nvr-01's 32 channels" in line for line in lines)
    assert any("kp-02.yml:" in line and "'towne' is not allowed" in line for line in lines)


def test_missing_folder_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load(tmp_path / "nowhere")
    assert [p.message for p in caught.value.problems] == ["không có thư mục dữ liệu này / no such inventory folder"]


def test_empty_folder_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load(tmp_path)
    assert "no inventory files" in caught.value.problems[0].message


def test_unreadable_bytes_are_reported(town_copy: Path) -> None:
    (town_copy / "broken.yml").write_bytes(b"cameras: [\xff\xfe]\n")
    with pytest.raises(InventoryError) as caught:
        load(town_copy)
    assert any(p.file.name == "broken.yml" for p in caught.value.problems)


def test_plugin_config_and_vault_are_not_inventory_data() -> None:
    from camfleet.inventory import inventory_files

    names = {p.relative_to(TOWN).as_posix() for p in inventory_files(TOWN)}
    assert "town.camfleet.yml" not in names
    assert not any(n.startswith("vault/") for n in names)
    assert {"town.yml", "station.yml", "profiles.yml", "firmware.yml", "sites/kp-01.yml"} <= names


def test_vault_files_of_the_reference_town_are_encrypted() -> None:
    files = sorted((TOWN / "vault").glob("*.yml"))
    assert [f.name for f in files] == ["contacts.yml", "secrets.yml"]
    for f in files:
        assert yamlfiles.is_vault_file(f)


def test_demo_vault_password_opens_the_vault() -> None:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret((TOWN / "vault-password.DEMO-ONLY").read_bytes().strip())
    vault = VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)])
    text = vault.decrypt((TOWN / "vault" / "secrets.yml").read_bytes()).decode()
    assert "vault_device_credentials" in text
    assert os.environ.get("CAMFLEET_OVERLAY") is None


def test_a_reused_town_is_shared_until_a_file_changes_and_the_overlay_never_touches_it(
    town_copy: Path, tmp_path: Path
) -> None:
    first = load(town_copy, overlay=False, reuse=True).fleet
    assert load(town_copy, overlay=False, reuse=True).fleet is first  # what Ansible's workers find
    real_address = first.cameras["cam-01-t01"].network.address

    overlay = tmp_path / "overlay.yml"
    overlay.write_text(
        "town: ngoc-lac\ndevices:\n  cam-01-t01: {address: 127.10.1.2, http_port: 8080}\n", encoding="utf-8"
    )
    simulated = load(town_copy, overlay=overlay, reuse=True).fleet
    assert simulated.endpoint("cam-01-t01").host == "127.10.1.2"  # where camfleet sends packets
    assert simulated.endpoint("cam-01-t01").http_port == 8080
    assert simulated.cameras["cam-01-t01"].network.address == real_address  # what configs are rendered from
    assert first.cameras["cam-01-t01"].network.address == real_address
    assert first.endpoint("cam-01-t01").host == real_address
    assert load(town_copy, overlay=False, reuse=True).fleet.cameras["cam-01-t01"].network.address == real_address

    site = town_copy / "sites" / "kp-03.yml"
    site.write_text(
        site.read_text(encoding="utf-8").replace("Khu phố Trần Phú", "Khu phố Trần Phú Mới"), encoding="utf-8"
    )
    changed = load(town_copy, overlay=False, reuse=True).fleet
    assert changed is not first and changed.sites["kp-03"].name == "Khu phố Trần Phú Mới"


def test_several_overlays_each_go_to_their_own_town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exporter shard over several simulated towns: $CAMFLEET_OVERLAY lists them, each town takes the one written
    for it; none written for it is refused (never reached at the real address)."""
    mine, other = tmp_path / "mine.yml", tmp_path / "other.yml"
    mine.write_text("town: ngoc-lac\ndevices:\n  cam-01-t01: {address: 127.10.1.2}\n", encoding="utf-8")
    other.write_text("town: minh-son\ndevices:\n  cam-01-t01: {address: 127.11.1.2}\n", encoding="utf-8")
    for order in ((other, mine), (mine, other)):
        monkeypatch.setenv("CAMFLEET_OVERLAY", os.pathsep.join(map(str, order)))
        assert load(TOWN).fleet.endpoint("cam-01-t01").host == "127.10.1.2"
    monkeypatch.setenv("CAMFLEET_OVERLAY", os.pathsep.join(map(str, (other, other))))
    with pytest.raises(InventoryError) as err:
        load(TOWN)
    assert "không overlay nào trong $CAMFLEET_OVERLAY dành cho 'ngoc-lac'" in str(err.value.problems[0])
