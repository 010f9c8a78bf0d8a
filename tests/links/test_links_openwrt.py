"""Parsing recorded OpenWrt ``uci show`` output (no OpenWrt simulator yet).

.venv/bin/pytest tests/links/test_links_openwrt.py -q
"""

from __future__ import annotations

import pytest

from camfleet.drivers.openwrt import UciTextError, mask_uci, parse_uci_show

# Shaped after `uci show network` / `uci show firewall` on OpenWrt 23.05 (device-apis.md §5.3).
RECORDED = """network.loopback=interface
network.loopback.device='lo'
network.loopback.proto='static'
network.lan=interface
network.lan.device='br-lan'
network.lan.ipaddr='192.168.1.1'
network.wg_station=interface
network.wg_station.proto='wireguard'
network.wg_station.private_key='kGHc8oAEZlMFvDUPeDeECIhFCJvzDs+GBcPqnRLKI4M='
network.wg_station.addresses='10.77.0.31/24'
network.@wireguard_wg_station[0]=wireguard_wg_station
network.@wireguard_wg_station[0].description='camfleet_station'
network.@wireguard_wg_station[0].public_key='aFir5wdx0lqXC/w+/h8tzyH4miypM6eGH8fJn2j0qU0='
network.@wireguard_wg_station[0].allowed_ips='10.77.0.1/32' '192.168.10.0/24'
network.@wireguard_wg_station[0].persistent_keepalive='25'
firewall.@rule[0]=rule
firewall.@rule[0].name='Allow-DHCP-Renew'
firewall.@rule[0].src='wan'
firewall.@rule[1]=rule
firewall.@rule[1].name='camfleet_no_household_to_camera'
firewall.@rule[1].target='DROP'
system.@system[0].description='it'\\''s the camera router'
"""


def test_sections_options_and_lists() -> None:
    uci = parse_uci_show(RECORDED)
    assert sorted(uci) == ["firewall", "network", "system"]
    assert uci["network"]["lan"].type == "interface" and uci["network"]["lan"].options["ipaddr"] == "192.168.1.1"
    peer = uci["network"]["@wireguard_wg_station[0]"]
    assert peer.type == "wireguard_wg_station"
    assert peer.options["allowed_ips"] == ["10.77.0.1/32", "192.168.10.0/24"]
    assert [s.options["name"] for s in uci["firewall"].values()] == [
        "Allow-DHCP-Renew",
        "camfleet_no_household_to_camera",
    ]
    assert uci["system"]["@system[0]"].options["description"] == "it's the camera router"


def test_secrets_are_masked_and_bad_lines_named() -> None:
    masked = mask_uci(RECORDED)
    assert "kGHc8oAE" not in masked and "network.wg_station.private_key=<secret>" in masked
    assert "public_key='aFir5" in masked
    with pytest.raises(UciTextError, match=r"line 2: 'nonsense' is not config\.section"):
        parse_uci_show("network.lan=interface\nnonsense")
