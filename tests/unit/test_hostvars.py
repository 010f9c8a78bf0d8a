"""What Ansible is told about each host, with and without the simulator's address overlay."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from camfleet.inventory import InventoryError
from camfleet.inventory.hostvars import fleet_hosts, group_name
from tests.conftest import TOWN

PHONE = re.compile(r"(?:\+84|0)\d{9,10}")


def by_name(hosts: list[dict]) -> dict[str, dict]:
    return {h["name"]: h for h in hosts}


def test_hosts_roles_and_groups() -> None:
    hosts = by_name(fleet_hosts(TOWN))
    cams = [h for h in hosts.values() if "cameras" in h["groups"]]
    assert len(cams) == 70
    assert {"nvr-01", "nvr-02"} <= {n for n, h in hosts.items() if "recorders" in h["groups"]}
    town_cam = next(
        h for h in cams if h["vars"]["camfleet_kind"] == "town" and h["vars"]["camfleet_status"] == "commissioned"
    )
    v = town_cam["vars"]
    assert v["ansible_connection"] == "local"
    assert v["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"
    assert v["camfleet_driver"] in {"hikvision_isapi", "dahua_cgi"}
    assert v["camfleet_recorder"] in {"nvr-01", "nvr-02"} and isinstance(v["camfleet_channel"], int)
    assert group_name("recorder", v["camfleet_recorder"]) in town_cam["groups"]
    assert group_name("site", v["camfleet_site"]) in town_cam["groups"]
    assert group_name("via", v["camfleet_link"]) in town_cam["groups"]
    router = hosts[v["camfleet_link_router"]]
    assert town_cam["name"] in router["vars"]["camfleet_cameras_behind"]
    assert router["vars"]["camfleet_netmiko_device_type"] == "mikrotik_routeros"


def test_unmanaged_community_cameras_have_no_driver() -> None:
    hosts = fleet_hosts(TOWN)
    community = [h for h in hosts if "community_cameras" in h["groups"] and not h["vars"]["camfleet_managed"]]
    assert community and all(h["vars"]["camfleet_driver"] is None for h in community)
    # A shared one (managed: true, ONVIF) is watched, never configured: not among the managed_cameras.
    shared = [h for h in hosts if "shared_cameras" in h["groups"]]
    assert [h["name"] for h in shared] == ["cam-05-c01"] and shared[0]["vars"]["camfleet_driver"] == "onvif"
    assert "managed_cameras" not in shared[0]["groups"]


def test_no_household_data_in_hostvars() -> None:
    text = json.dumps(fleet_hosts(TOWN), ensure_ascii=False)
    assert "household" not in text and "hh-" not in text
    assert not PHONE.search(text.replace(" ", ""))


def test_overlay_swaps_addresses(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "town": "ngoc-lac",
                "devices": {
                    "cam-01-t01": {"address": "127.10.1.2", "http_port": 8080, "rtsp_port": 8554},
                    "nvr-01": {"address": "127.10.0.11"},
                    "lr-01-01": {"address": "127.10.2.1", "ssh_port": 2222},
                },
            }
        ),
        encoding="utf-8",
    )
    hosts = by_name(fleet_hosts(TOWN, overlay=overlay))
    assert hosts["cam-01-t01"]["vars"]["ansible_host"] == "127.10.1.2"
    assert hosts["cam-01-t01"]["vars"]["camfleet_http_port"] == 8080
    assert hosts["cam-01-t01"]["vars"]["camfleet_rtsp_port"] == 8554
    assert hosts["nvr-01"]["vars"]["ansible_host"] == "127.10.0.11"
    assert hosts["nvr-01"]["vars"]["camfleet_http_port"] == 80
    assert hosts["lr-01-01"]["vars"]["camfleet_ssh_port"] == 2222
    # A device the overlay does not know is never pointed at its real address (a simulated run stays on loopback).
    assert "ansible_host" not in hosts["cam-01-t02"]["vars"]


def test_overlay_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = tmp_path / "overlay.yml"
    overlay.write_text("town: ngoc-lac\ndevices:\n  nvr-02: {address: 127.10.0.12}\n", encoding="utf-8")
    monkeypatch.setenv("CAMFLEET_OVERLAY", str(overlay))
    assert by_name(fleet_hosts(TOWN))["nvr-02"]["vars"]["ansible_host"] == "127.10.0.12"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("town: other\ndevices: {}\n", "overlay is for town 'other'"),
        ("town: ngoc-lac\ndevices:\n  cam-99: {address: 127.1.1.1}\n", "the inventory has no such device"),
        ("town: ngoc-lac\ndevices:\n  nvr-01: {address: not-an-ip}\n", "write an IPv4 address"),
        ("town: ngoc-lac\ndevices: [\n", "YAML syntax"),
    ],
)
def test_bad_overlay_is_one_clear_error(tmp_path: Path, content: str, needle: str) -> None:
    overlay = tmp_path / "overlay.yml"
    overlay.write_text(content, encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        fleet_hosts(TOWN, overlay=overlay)
    assert needle in str(caught.value.problems[0])


def test_missing_overlay_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        fleet_hosts(TOWN, overlay=tmp_path / "missing.yml")
    assert "camfleet sim up" in caught.value.problems[0].message


def test_overlay_never_points_off_this_machine(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yml"
    overlay.write_text("town: ngoc-lac\ndevices:\n  nvr-01: {address: 192.168.10.11}\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        fleet_hosts(TOWN, overlay=overlay)
    assert "not a loopback address" in str(caught.value.problems[0])
