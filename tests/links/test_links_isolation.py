"""The isolation property of a site router's firewall, checked by evaluating rules, not by reading text.

A tiny RouterOS filter evaluator (first matching rule wins; no match: the chain's policy, accept)
runs packets through the rules: as rendered alone, and as they end up on a defconf router after
camfleet applied them (defconf rules below camfleet's). The camera and the household LAN never
meet in either direction; the camera reaches only the station over the tunnel; management only
from the station; the household's own internet still works.

.venv/bin/pytest tests/links/test_links_isolation.py -q
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import pytest

from camfleet.config.routeros import LinkOptions, demo_keys, render_router
from camfleet.drivers.routeros.config import Entry, parse_export, plan_changes
from camfleet.inventory import load
from camfleet.sim.routeros import RouterOsCli, RouterOsState

MINI = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mini-town"
INTERFACE_LISTS = {"LAN": {"bridge"}, "WAN": {"ether1"}}  # as defconf on a hAP ac lite
IGNORED = {"comment", "log", "log-prefix", "hw-offload", "disabled", "action", "chain"}
PASS_ON = {"passthrough", "log", "add-src-to-address-list", "add-dst-to-address-list"}

CAMERA, CAMERA_NET = "10.78.1.2", "10.78.1.0/29"
HOUSE, HOUSE_UP = "192.168.88.10", "192.168.1.20"  # a phone on the router's LAN; the family PC on the modem's LAN
NVR, CORE_TUNNEL, SITE_TUNNEL = "192.168.10.11", "10.77.0.1", "10.77.0.11"
MANAGEMENT = (22, 8291, 8728)
UNCONFIGURED = "0.0.0.0"  # noqa: S104 - a DHCP client before it has an address


@dataclass(frozen=True)
class Packet:
    chain: str
    src: str
    dst: str
    in_if: str
    out_if: str = ""
    protocol: str = "tcp"
    dst_port: int = 80
    state: str = "new"
    nat_state: str = ""


def _addr(rule: str, value: str) -> bool:
    neg, body = rule.startswith("!"), rule.lstrip("!")
    hit = ipaddress.ip_address(value) in ipaddress.ip_network(body, strict=False)
    return hit != neg


def _neg(rule: str, test: bool) -> bool:
    return test != rule.startswith("!")


def _ports(rule: str, port: int) -> bool:
    for part in rule.split(","):
        lo, _, hi = part.partition("-")
        if int(lo) <= port <= int(hi or lo):
            return True
    return False


def matches(args: dict[str, str], p: Packet) -> bool:
    checks = {
        "src-address": lambda v: _addr(v, p.src),
        "dst-address": lambda v: _addr(v, p.dst),
        "in-interface": lambda v: _neg(v, p.in_if == v.lstrip("!")),
        "out-interface": lambda v: _neg(v, p.out_if == v.lstrip("!")),
        "in-interface-list": lambda v: _neg(v, p.in_if in INTERFACE_LISTS[v.lstrip("!")]),
        "out-interface-list": lambda v: _neg(v, p.out_if in INTERFACE_LISTS[v.lstrip("!")]),
        "protocol": lambda v: p.protocol == v,
        "dst-port": lambda v: _ports(v, p.dst_port),
        "connection-state": lambda v: _neg(v, p.state in v.lstrip("!").split(",")),
        "connection-nat-state": lambda v: _neg(v, p.nat_state in v.lstrip("!").split(",")),
        "ipsec-policy": lambda v: True,  # no IPsec here: "out,none" matches every packet
    }
    if args.get("chain") != p.chain or args.get("disabled") == "yes":
        return False
    for key, value in args.items():
        if key in IGNORED:
            continue
        if key not in checks:
            raise ValueError(f"the evaluator does not know the matcher {key}; teach it before trusting it")
        if not checks[key](value):
            return False
    return True


def verdict(rules: list[Entry], p: Packet) -> str:
    """accept or drop, and which rule decided (first match wins, jumps are not used here)."""
    for rule in rules:
        if matches(rule.args, p):
            action = rule.args.get("action", "accept")
            if action in PASS_ON:
                continue
            return "accept" if action in ("accept", "fasttrack-connection") else "drop"
    return "accept"  # RouterOS chains accept what no rule drops


def allowed(rules: list[Entry], p: Packet) -> bool:
    return verdict(rules, p) == "accept"


def fwd(src: str, dst: str, in_if: str, out_if: str, **kw: object) -> Packet:
    return Packet("forward", src, dst, in_if, out_if, **kw)  # type: ignore[arg-type]


def inp(src: str, dst: str, in_if: str, port: int, **kw: object) -> Packet:
    return Packet("input", src, dst, in_if, dst_port=port, **kw)  # type: ignore[arg-type]


def assert_isolated(rules: list[Entry]) -> None:
    for state in ("new", "established"):
        # camera <-> household LAN, on the router's bridge or up on the modem's LAN: never, either way
        assert not allowed(rules, fwd(CAMERA, HOUSE, "ether5", "bridge", state=state))
        assert not allowed(rules, fwd(HOUSE, CAMERA, "bridge", "ether5", state=state))
        assert not allowed(rules, fwd(CAMERA, HOUSE_UP, "ether5", "ether1", state=state))
        assert not allowed(rules, fwd(HOUSE_UP, CAMERA, "ether1", "ether5", state=state, nat_state="dstnat"))
        # the camera reaches the station over the tunnel, and nothing else
        assert allowed(rules, fwd(CAMERA, NVR, "ether5", "wg-station", state=state))
        assert allowed(rules, fwd(CAMERA, CORE_TUNNEL, "ether5", "wg-station", protocol="udp", dst_port=123))
        assert not allowed(rules, fwd(CAMERA, "8.8.8.8", "ether5", "ether1", state=state))
        assert not allowed(rules, fwd("10.99.0.5", NVR, "ether5", "wg-station"))  # spoofed source
        # the station reaches the camera
        assert allowed(rules, fwd(NVR, CAMERA, "wg-station", "ether5", dst_port=554, state=state))
        # the household cannot use the tunnel, the station cannot reach the household
        assert not allowed(rules, fwd(HOUSE, NVR, "bridge", "wg-station", state=state))
        assert not allowed(rules, fwd(NVR, HOUSE, "wg-station", "bridge", state=state))
    # management: from the station over the tunnel only
    for port in MANAGEMENT:
        assert allowed(rules, inp(CORE_TUNNEL, SITE_TUNNEL, "wg-station", port))
        assert allowed(rules, inp(NVR, SITE_TUNNEL, "wg-station", port))
        assert not allowed(rules, inp(HOUSE, "192.168.88.1", "bridge", port))
        assert not allowed(rules, inp(HOUSE_UP, "192.168.1.2", "ether1", port))
        assert not allowed(rules, inp(CAMERA, "10.78.1.1", "ether5", port))
    assert not allowed(rules, inp(CAMERA, "10.78.1.1", "ether5", 53, protocol="udp"))  # no DNS: only the station
    assert allowed(rules, inp(UNCONFIGURED, "255.255.255.255", "ether5", 67, protocol="udp"))  # but DHCP
    # and the family's internet still works
    assert allowed(rules, fwd(HOUSE, "8.8.8.8", "bridge", "ether1"))


@pytest.fixture(scope="module")
def desired() -> str:
    fleet = load(MINI).fleet
    return render_router(fleet, "lr-01", demo_keys(fleet), LinkOptions(station_endpoint="203.0.113.10"))


def test_rendered_rules_alone_isolate_the_camera(desired: str) -> None:
    assert_isolated(parse_export(desired).entries("ip firewall filter"))


def test_applied_on_a_defconf_router_the_property_holds(desired: str) -> None:
    cli = RouterOsCli(RouterOsState.factory("pw"), "admin")
    before = parse_export(cli.execute("/export").output).entries("ip firewall filter")
    assert allowed(before, fwd(HOUSE, CAMERA, "bridge", "ether5"))  # defconf alone does not isolate
    for line in plan_changes(parse_export(desired), parse_export(cli.execute("/export").output)).commands:
        cli.execute(line)
    after = parse_export(cli.execute("/export").output).entries("ip firewall filter")
    assert len(after) == 18 and sum(r.managed for r in after) == 10
    assert_isolated(after)


def test_a_shadowing_rule_breaks_the_property_and_a_replan_restores_it(desired: str) -> None:
    cli = RouterOsCli(RouterOsState.factory("pw"), "admin")
    for line in plan_changes(parse_export(desired), parse_export(cli.execute("/export").output)).commands:
        cli.execute(line)
    cli.execute("/ip firewall filter add chain=forward action=accept in-interface=bridge comment=debug place-before=0")
    broken = parse_export(cli.execute("/export").output).entries("ip firewall filter")
    with pytest.raises(AssertionError):
        assert_isolated(broken)  # the evaluator sees the hole
    for line in plan_changes(parse_export(desired), parse_export(cli.execute("/export").output)).commands:
        cli.execute(line)
    assert_isolated(parse_export(cli.execute("/export").output).entries("ip firewall filter"))


@pytest.mark.parametrize(
    "comment",
    [
        "camfleet: camera to anything else",
        "camfleet: anything else to camera",
        "camfleet: no management from elsewhere",
        "camfleet: only the camera uses the tunnel",
    ],
)
def test_each_drop_rule_is_needed(desired: str, comment: str) -> None:
    rules = [r for r in parse_export(desired).entries("ip firewall filter") if r.comment != comment]
    with pytest.raises(AssertionError):
        assert_isolated(rules)


def test_core_drops_traffic_between_sites() -> None:
    fleet = load(MINI).fleet
    core = render_router(fleet, "core-01", demo_keys(fleet), LinkOptions(station_endpoint="203.0.113.10"))
    rules = parse_export(core).entries("ip firewall filter")
    assert not allowed(rules, fwd(CAMERA, "10.78.2.2", "wg-sites", "wg-sites"))
    assert allowed(rules, fwd(CAMERA, NVR, "wg-sites", "ether2"))
    assert allowed(rules, inp("198.51.100.7", "203.0.113.10", "ether1", 13231, protocol="udp"))
