"""Parsing /export and planning only the lines that differ, without sockets.

The console of the simulated router (camfleet.sim.routeros) stands in for RouterOS here;
tests/links/test_links_driver.py does the same through real netmiko over SSH.

.venv/bin/pytest tests/links/test_links_config.py -q
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from camfleet.config.routeros import LinkOptions, demo_keys, render_router
from camfleet.drivers.routeros.config import ConfigTextError, Plan, RouterConfig, parse_export, plan_changes
from camfleet.drivers.routeros.text import mask, quote, unescape, words
from camfleet.inventory import load
from camfleet.sim.routeros import RouterOsCli, RouterOsState

MINI = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mini-town"
NOW = 1_790_000_000.0

# Shaped after real RouterOS 7 exports (device-apis.md §5.2): wrapped lines, [ find ] selectors,
# named `set` lines, quoted values with escapes, terse lines carrying their own menu.
RECORDED = r"""# 2025-05-31 13:46:45 by RouterOS 7.19.1
# software id = 1PZI-L5PH
#
# model = RB952Ui-5ac2nD
# serial number = HE02F95847
/interface bridge
add admin-mac=04:F4:1C:E3:71:28 auto-mac=no comment=defconf name=bridge
/interface ethernet
set [ find default-name=ether1 ] comment="to the household modem"
/interface wireguard
add listen-port=13231 mtu=1420 name=wg-station
/queue simple
add comment="camfleet: camera upstream share" max-limit=3M/3M name=link-01-01 \
    target=10.78.1.0/29
/ip firewall filter
add action=accept chain=input comment=\
    "defconf: accept established,related,untracked" connection-state=\
    established,related,untracked
add action=drop chain=forward comment="Camera Ph\E1\BB\91 M\E1\BB\9Bi \"x\"" in-interface=ether5
/ip service
set telnet disabled=yes
/system identity
set name=lr-01-01
/ip dhcp-server lease add address=10.78.1.2 mac-address=BC:AD:28:71:B4:5F
"""


def test_parse_recorded_export() -> None:
    config = parse_export(RECORDED)
    assert list(config.sections) == [
        "interface bridge",
        "interface ethernet",
        "interface wireguard",
        "queue simple",
        "ip firewall filter",
        "ip service",
        "system identity",
        "ip dhcp-server lease",
    ]
    eth = config.entries("interface ethernet")[0]
    assert (eth.command, eth.target, eth.args) == (
        "set",
        "[ find default-name=ether1 ]",
        {"comment": "to the household modem"},
    )
    assert config.entries("queue simple")[0].args["target"] == "10.78.1.0/29"
    rules = config.entries("ip firewall filter")
    assert rules[0].args["connection-state"] == "established,related,untracked"
    assert rules[0].comment == "defconf: accept established,related,untracked" and not rules[0].managed
    assert rules[1].comment == 'Camera Phố Mới "x"'
    assert config.entries("ip service")[0].target == "telnet"
    assert config.entries("ip dhcp-server lease")[0].args["mac-address"] == "BC:AD:28:71:B4:5F"


def test_quote_and_words_round_trip() -> None:
    for value in ("plain", "two words", 'q"uote', "back\\slash", "$var?", "Phố Mới", "a=b+/="):
        assert words(f"comment={quote(value)}") == [f"comment={value}"]
    assert words('set [ find where name="a b" ] x=1') == ["set", '[ find where name="a b" ]', "x=1"]


def test_escapes_are_read_and_written_as_real_routeros_does() -> None:
    # Real exports: bytes outside printable ASCII as upper-case \XX, CR LF as \r\n (RouterOS manual,
    # "Constant Escape Sequences": hex in capitals; lower-case after a backslash is a letter escape).
    assert quote("Phố\r\n") == '"Ph\\E1\\BB\\91\\r\\n"'
    assert words('add comment="Tr\\C6\\B0\\E1\\BB\\9Dng h\\E1\\BB\\8Dc"') == ["add", "comment=Trường học"]
    assert unescape("\\ab\\_\\v") == "\x07b \x0b"  # \a then "b", not the byte 0xAB
    assert unescape("\\c3\\a1") != "á"


def test_bad_text_says_where() -> None:
    with pytest.raises(ConfigTextError, match="line 1: 'add x=1' comes before any /menu header"):
        parse_export("add x=1")
    with pytest.raises(ConfigTextError, match="line 2: expected add or set, got 'remove'"):
        parse_export("/queue simple\nremove 0")


def test_mask_hides_every_secret_form() -> None:
    line = '/interface wireguard set [find where name="wg"] private-key="ab+/c=" preshared-key=xyz password="a b"'
    assert (
        mask(line)
        == '/interface wireguard set [find where name="wg"] private-key=<secret> preshared-key=<secret> password=<secret>'
    )


# --- planning against the simulated console ----------------------------------------------------


class Console:
    """A defconf router's console with a helper to apply a plan and read its keys."""

    def __init__(self) -> None:
        self.cli = RouterOsCli(RouterOsState.factory("pw", now=NOW - 60), "admin", clock=lambda: NOW)

    def running(self) -> RouterConfig:
        return parse_export(self.cli.execute("/export").output)

    def keys(self) -> dict[str, str]:
        return {i["name"]: i["public-key"] for i in self.cli.state.table("interface wireguard")}

    def plan(self, desired: str) -> Plan:
        return plan_changes(parse_export(desired), self.running(), self.keys())

    def run(self, plan: Plan) -> None:
        for line in plan.commands:
            out = self.cli.execute(line).output
            assert line.endswith(" print") or out == "", f"{mask(line)}: {out}"

    def converge(self, desired: str) -> Plan:
        first = self.plan(desired)
        self.run(first)
        assert self.plan(desired).commands == []
        return first


@pytest.fixture
def desired() -> str:
    fleet = load(MINI).fleet
    return render_router(fleet, "lr-01", demo_keys(fleet), LinkOptions(station_endpoint="203.0.113.10"))


def test_first_plan_builds_everything_and_the_second_is_empty(desired: str) -> None:
    console = Console()
    first = console.converge(desired)
    assert (
        first.changed
        and '+ add address=10.78.1.2 comment="camfleet: cam-t01" mac-address=44:19:B6:00:01:01' in first.diff_lines
    )
    table = console.cli.state.table("ip firewall filter")
    assert [r.get("comment", "") for r in table[:10]] == [
        e.comment for e in parse_export(desired).entries("ip firewall filter")
    ]
    assert table[10]["comment"].startswith("defconf:")  # the defconf rules stay, below camfleet's
    assert len(table) == 18


def test_only_the_drifted_item_is_sent(desired: str) -> None:
    console = Console()
    console.converge(desired)
    console.cli.execute("/queue simple set [find name=link-01] max-limit=20M/20M")
    console.cli.execute(
        '/ip dhcp-server lease add address=10.78.1.3 mac-address=02:00:00:00:00:09 comment="camfleet: gone"'
    )
    console.cli.execute("/ip dhcp-server lease add address=192.168.88.50 mac-address=02:00:00:00:00:0A comment=tv")
    plan = console.plan(desired)
    assert plan.commands == [
        '/ip dhcp-server lease remove [find where mac-address="02:00:00:00:00:09"]',
        '/queue simple set [find where name="link-01"] max-limit=5M/5M',
    ]
    assert plan.diff_lines == [
        "/ip dhcp-server lease",
        '- add address=10.78.1.3 comment="camfleet: gone" mac-address=02:00:00:00:00:09',
        "/queue simple",
        '- add comment="camfleet: camera upstream share" max-limit=20M/20M name=link-01 target=10.78.1.0/29',
        '+ add comment="camfleet: camera upstream share" max-limit=5M/5M name=link-01 target=10.78.1.0/29',
    ]
    console.run(plan)
    assert console.plan(desired).commands == []
    assert any(i.get("comment") == "tv" for i in console.cli.state.table("ip dhcp-server lease"))  # not ours: kept


def test_an_extra_argument_on_an_item_is_reset(desired: str) -> None:
    console = Console()
    console.converge(desired)
    console.cli.execute("/queue simple set [find name=link-01] limit-at=1M/1M")
    plan = console.plan(desired)
    assert plan.commands[0] == '/queue simple remove [find where name="link-01"]'
    console.run(plan)
    assert console.plan(desired).commands == []


def test_firewall_is_rebuilt_on_top_when_a_rule_is_missing_moved_or_shadowed(desired: str) -> None:
    console = Console()
    console.converge(desired)
    wanted = [e.comment for e in parse_export(desired).entries("ip firewall filter")]
    # A technician removes one rule, and puts an accept-all above the camfleet rules.
    console.cli.execute('/ip firewall filter remove [find comment="camfleet: anything else to camera"]')
    console.cli.execute("/ip firewall filter add chain=forward action=accept comment=debug place-before=0")
    plan = console.plan(desired)
    assert (
        '+ add action=drop chain=forward comment="camfleet: anything else to camera" out-interface=ether5'
        in plan.diff_lines
    )
    assert plan.commands[0] == '/ip firewall filter set [find where comment~"^camfleet:"] comment="camfleet: stale"'
    assert plan.commands[-1] == '/ip firewall filter remove [find where comment="camfleet: stale"]'
    console.run(plan)
    table = console.cli.state.table("ip firewall filter")
    assert [r.get("comment") for r in table[:10]] == wanted
    assert table[10]["comment"] == "debug"  # not camfleet's: kept, but below
    assert console.plan(desired).commands == []
    # Only the order wrong: the same rules, moved back.
    console.cli.execute("/ip firewall filter add chain=input action=accept comment=debug2 place-before=0")
    plan = console.plan(desired)
    assert plan.diff_lines[-1].startswith(
        "~ move the camfleet rules back to the top (above: add action=accept chain=input comment=debug2"
    )
    console.run(plan)
    assert [r.get("comment") for r in console.cli.state.table("ip firewall filter")[:10]] == wanted


def test_settings_and_services_compare_as_key_values(desired: str) -> None:
    console = Console()
    console.converge(desired)
    console.cli.execute("/system identity set name=MikroTik")
    console.cli.execute("/ip service set telnet disabled=no")
    console.cli.execute("/system ntp client set mode=broadcast")  # not a value camfleet sets: left alone
    plan = console.plan(desired)
    assert plan.commands == ["/system identity set name=lr-01", "/ip service set telnet disabled=yes"]
    assert plan.diff_lines == [
        "/system identity",
        "- set name=MikroTik",
        "+ set name=lr-01",
        "/ip service",
        "- set telnet disabled=no",
        "+ set telnet disabled=yes",
    ]


def test_wireguard_key_drift_is_found_by_public_key_and_never_shown(desired: str) -> None:
    console = Console()
    console.converge(desired)
    private = parse_export(desired).entries("interface wireguard")[0].args["private-key"]
    wrong = "qNa4Zr1vB2Yy8s1QG0Q8e3r1y0Hn3j5c2b8u5m6t7Dk="
    console.cli.execute(f'/interface wireguard set [find name=wg-station] private-key="{wrong}"')
    plan = console.plan(desired)
    assert len(plan.commands) == 1 and plan.commands[0].startswith(
        '/interface wireguard set [find where name="wg-station"] private-key='
    )
    assert plan.masked_commands() == ['/interface wireguard set [find where name="wg-station"] private-key=<secret>']
    text = "\n".join(plan.diff_lines)
    assert re.search(r"~ wg-station: private-key=<secret> differs \(router's public key \S+, vault's \S+\)", text)
    assert private not in text and wrong not in text
    console.run(plan)
    assert console.cli.state.table("interface wireguard")[0]["private-key"] == private
    assert console.plan(desired).commands == []


def test_items_no_longer_wanted_are_removed_even_from_empty_sections(desired: str) -> None:
    console = Console()
    console.converge(desired)
    bare = "\n".join(line for line in desired.splitlines() if "dhcp-server lease" not in line and "cam-t01" not in line)
    plan = console.plan(bare)
    assert plan.commands == ['/ip dhcp-server lease remove [find where mac-address="44:19:B6:00:01:01"]']


def test_desired_firewall_rules_must_be_marked_and_unique() -> None:
    bad = parse_export("/ip firewall filter\nadd chain=forward action=drop comment=mine")
    with pytest.raises(ConfigTextError, match="needs a comment starting 'camfleet:'"):
        plan_changes(bad, RouterConfig())
    dup = parse_export(
        '/ip firewall filter\nadd chain=forward comment="camfleet: a"\nadd chain=input comment="camfleet: a"'
    )
    with pytest.raises(ConfigTextError, match="must be unique"):
        plan_changes(dup, RouterConfig())
