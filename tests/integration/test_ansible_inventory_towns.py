"""The inventory plugin reading several towns (``towns: [...]``), as an AWX inventory source of a district does,
through Ansible's own ``ansible-inventory``; a device id in two towns is refused in one line naming both.

    .venv/bin/pytest -q -p no:cacheprovider tests/integration/test_ansible_inventory_towns.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from camfleet.inventory.synthetic import write_town
from tests.conftest import TOWN
from tests.integration.test_ansible_inventory import ansible_inventory

pytestmark = pytest.mark.slow


def plain(value: object) -> object:
    """A hostvar as ``ansible-inventory --list`` prints a string it does not trust as a template."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def test_two_towns_in_one_source_each_host_tagged_with_its_town(tmp_path: Path) -> None:
    write_town(tmp_path / "lam-son", 12, town_id="lam-son")
    source = tmp_path / "district.camfleet.yml"
    source.write_text(f"plugin: camfleet.fleet.town\ntowns: [{TOWN}, lam-son]\n", encoding="utf-8")
    out = ansible_inventory("-i", str(source), "--list")
    assert out.returncode == 0, out.stderr
    listing = json.loads(out.stdout)
    hostvars = listing["_meta"]["hostvars"]
    ngoc_lac, lam_son = set(listing["in_ngoc_lac"]["hosts"]), set(listing["in_lam_son"]["hosts"])
    assert "cam-01-t01" in ngoc_lac and "nvr-01" in ngoc_lac and "cam-00001" in lam_son
    assert not ngoc_lac & lam_son and set(hostvars) == ngoc_lac | lam_son
    assert plain(hostvars["cam-01-t01"]["camfleet_town"]) == "ngoc-lac"
    assert plain(hostvars["cam-00001"]["camfleet_town"]) == "lam-son"
    assert plain(hostvars["cam-00001"]["camfleet_town_dir"]) == str(tmp_path / "lam-son")
    # The usual groups still gather both towns' devices.
    assert {"nvr-01", "nvr-001"} <= set(listing["recorders"]["hosts"])


def test_a_device_id_in_two_towns_is_refused_naming_both(tmp_path: Path) -> None:
    write_town(tmp_path / "a", 5, town_id="town-a")
    write_town(tmp_path / "b", 5, town_id="town-b")
    source = tmp_path / "district.camfleet.yml"
    source.write_text("plugin: camfleet.fleet.town\ntowns: [a, b]\n", encoding="utf-8")
    out = ansible_inventory("-i", str(source), "--list")
    assert "Traceback" not in out.stderr
    assert (
        f"thiết bị nvr-001 có ở cả {tmp_path / 'a'} và {tmp_path / 'b'} / device nvr-001 is in both "
        f"{tmp_path / 'a'} and {tmp_path / 'b'}" in out.stderr
    )
    assert json.loads(out.stdout or "{}").get("_meta", {}).get("hostvars", {}) == {}
