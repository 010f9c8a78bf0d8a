"""Rendering the link routers' desired RouterOS config from a fixed inventory and the demo vault.

.venv/bin/pytest tests/links/test_links_render.py -q
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from camfleet.config.routeros import (
    LinkConfigError,
    LinkOptions,
    WireguardKeys,
    demo_keys,
    render_router,
    wireguard_keys,
)
from camfleet.drivers.routeros.config import parse_export
from camfleet.drivers.routeros.text import wireguard_public_key
from camfleet.inventory import load
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.vault import read_vault

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-town"
TOWN = ROOT / "inventory" / "ngoc-lac"
OPTS = LinkOptions(station_endpoint="203.0.113.10")


@pytest.fixture(scope="module")
def mini() -> Fleet:
    return load(MINI).fleet


@pytest.fixture(scope="module")
def town() -> tuple[Fleet, dict[str, WireguardKeys]]:
    vault = read_vault(TOWN, "secrets")
    return load(TOWN).fleet, wireguard_keys(vault)


def lines(text: str, section: str) -> list[str]:
    """The rendered lines of one section, as parsed (arguments sorted, secrets masked)."""
    return [e.line() for e in parse_export(text).entries(section)]


def test_mini_site_router_gets_tunnel_isolation_queue_lease_identity_and_time(mini: Fleet) -> None:
    keys = demo_keys(mini)
    text = render_router(mini, "lr-01", keys, OPTS)
    assert text.startswith("# camfleet: desired configuration of lr-01 (link-01, site kp-01).")
    assert lines(text, "system identity") == ["set name=lr-01"]
    assert lines(text, "system clock") == ["set time-zone-autodetect=no time-zone-name=Asia/Ho_Chi_Minh"]
    assert lines(text, "system ntp client servers") == ['add address=192.168.10.1 comment="camfleet: town NTP"']
    assert lines(text, "interface wireguard") == [
        'add comment="camfleet: tunnel to the station" listen-port=13231 mtu=1420 name=wg-station private-key=<secret>'
    ]
    wg = parse_export(text).entries("interface wireguard")[0]
    assert wg.args["private-key"] == keys["lr-01"].private_key  # the router's own key from the vault
    assert lines(text, "interface wireguard peers") == [
        'add allowed-address=10.77.0.1/32,192.168.10.0/24 comment="camfleet: station" endpoint-address=203.0.113.10 '
        f'endpoint-port=13231 interface=wg-station name=station persistent-keepalive=25s public-key="{keys["core-01"].public_key}"'
    ]
    assert lines(text, "ip address") == [
        'add address=10.77.0.11/24 comment="camfleet: tunnel address" interface=wg-station',
        'add address=10.78.1.1/29 comment="camfleet: camera subnet gateway" interface=ether5',
    ]
    assert lines(text, "ip dhcp-server lease") == [
        'add address=10.78.1.2 comment="camfleet: cam-t01" mac-address=44:19:B6:00:01:01'
    ]
    assert lines(text, "queue simple") == [
        'add comment="camfleet: camera upstream share" max-limit=5M/5M name=link-01 target=10.78.1.0/29'
    ]
    rules = parse_export(text).entries("ip firewall filter")
    assert len(rules) == 10 and all(r.managed for r in rules)
    assert len({r.comment for r in rules}) == 10


def test_core_router_has_every_site_as_peer_with_a_route_to_its_cameras(
    town: tuple[Fleet, dict[str, WireguardKeys]],
) -> None:
    fleet, keys = town
    text = render_router(fleet, "core-01", keys, OPTS)
    config = parse_export(text)
    peers = config.entries("interface wireguard peers")
    sites = sorted(r.id for r in fleet.link_routers.values() if r.role == "site")
    assert sorted(p.args["name"] for p in peers) == sites and len(sites) == 32
    lr = next(p for p in peers if p.args["name"] == "lr-01-01")
    assert lr.args["allowed-address"] == "10.77.0.11/32,10.78.1.0/29"
    assert lr.args["public-key"] == keys["lr-01-01"].public_key == "28sDakmaRpLKI5DAjG1ICKAl4DCz7pWybpdL8gCqJR8="
    assert "endpoint-address" not in lr.args  # sites dial in from behind household NAT
    routes = {r.args["dst-address"]: r.args["gateway"] for r in config.entries("ip route")}
    assert routes["10.78.1.0/29"] == "wg-sites" and len(routes) == 32
    assert lines(text, "ip address") == [
        'add address=10.77.0.1/24 comment="camfleet: tunnel address" interface=wg-sites'
    ]
    # The core is itself the town's first NTP server: it asks only the others.
    assert lines(text, "system ntp client servers") == ['add address=vn.pool.ntp.org comment="camfleet: town NTP"']
    assert config.entries("interface wireguard")[0].args["private-key"] == keys["core-01"].private_key


def test_reference_town_site_router_from_the_vault(town: tuple[Fleet, dict[str, WireguardKeys]]) -> None:
    fleet, keys = town
    text = render_router(fleet, "lr-01-01", keys, OPTS)
    config = parse_export(text)
    assert lines(text, "system identity") == ["set name=lr-01-01"]
    assert config.entries("queue simple")[0].args == {
        "comment": "camfleet: camera upstream share",
        "max-limit": "3M/3M",
        "name": "link-01-01",
        "target": "10.78.1.0/29",
    }
    assert lines(text, "ip dhcp-server lease") == [
        'add address=10.78.1.2 comment="camfleet: cam-01-t01" mac-address=BC:AD:28:71:B4:5F'
    ]
    peer = config.entries("interface wireguard peers")[0]
    assert peer.args["public-key"] == "aFir5wdx0lqXC/w+/h8tzyH4miypM6eGH8fJn2j0qU0="  # core-01's, from the vault
    wg = config.entries("interface wireguard")[0]
    assert wireguard_public_key(wg.args["private-key"]) == keys["lr-01-01"].public_key
    assert [s.args["address"] for s in config.entries("system ntp client servers")] == [
        "192.168.10.1",
        "vn.pool.ntp.org",
    ]


def test_every_reference_router_renders_and_parses(town: tuple[Fleet, dict[str, WireguardKeys]]) -> None:
    fleet, keys = town
    for rid in fleet.link_routers:
        config = parse_export(render_router(fleet, rid, keys, OPTS))
        assert config.entries("system identity")[0].args["name"] == rid


def test_fractional_share_is_written_as_routeros_prints_it(mini: Fleet) -> None:
    link = mini.links["link-01"]
    fleet = dataclasses.replace(mini, links={"link-01": link.model_copy(update={"camera_share_mbps": 2.5})})
    text = render_router(fleet, "lr-01", demo_keys(mini), OPTS)
    assert parse_export(text).entries("queue simple")[0].args["max-limit"] == "2500k/2500k"


def test_missing_facts_are_clear_errors(mini: Fleet) -> None:
    keys = demo_keys(mini)
    with pytest.raises(LinkConfigError, match="lr-01: the station's public address is not in the inventory"):
        render_router(mini, "lr-01", keys)
    with pytest.raises(LinkConfigError, match="lr-01: no WireGuard keys in vault_wireguard_keys"):
        render_router(mini, "lr-01", {"core-01": keys["core-01"]}, OPTS)
    with pytest.raises(LinkConfigError, match="nope: no such link router"):
        render_router(mini, "nope", keys, OPTS)
    cam = mini.cameras["cam-t01"]
    moved = cam.model_copy(update={"network": cam.network.model_copy(update={"address": "10.78.1.1"})})
    fleet = dataclasses.replace(mini, cameras={**mini.cameras, "cam-t01": moved})
    with pytest.raises(LinkConfigError, match=r"cam-t01: network.address 10.78.1.1 must be a host of link-01"):
        render_router(fleet, "lr-01", keys, OPTS)


def test_vault_keys_must_belong_together() -> None:
    a, b = demo_keys(load(MINI).fleet).values()
    with pytest.raises(LinkConfigError, match="public_key does not belong to private_key"):
        wireguard_keys({"vault_wireguard_keys": {"lr-01": {"private_key": a.private_key, "public_key": b.public_key}}})
    assert "private_key" not in repr(a) and a.private_key not in repr(a)
