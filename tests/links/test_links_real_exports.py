"""Planning against routers whose exports carry what real RouterOS 7 exports carry: bare flags
(``/ip route add blackhole ...``), unset properties (``!keepalive``) and menus camfleet does not
manage. Without sockets: the real-shaped exports of tests/drivers/replies/routeros, and the
simulated console, whose ``/export`` prints the flag as RouterOS does.
tests/links/test_links_driver.py drives the same through netmiko.

.venv/bin/pytest tests/links/test_links_real_exports.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camfleet.config.routeros import LinkOptions, demo_keys, render_router
from camfleet.drivers.routeros.config import (
    SECTION_RULES,
    Plan,
    RouterConfig,
    differing_keys,
    parse_export,
    plan_changes,
)
from camfleet.drivers.routeros.text import mask
from camfleet.inventory import load
from camfleet.sim.routeros import RouterOsCli, RouterOsState

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini-town"
REPLIES = ROOT / "tests" / "drivers" / "replies" / "routeros"
NOW = 1_790_000_000.0
SINK = '/ip route add blackhole comment="old camera net, keep dark" distance=250 dst-address=10.99.0.0/16'


@pytest.fixture(scope="module")
def desired() -> str:
    fleet = load(MINI).fleet
    return render_router(fleet, "lr-01", demo_keys(fleet), LinkOptions(station_endpoint="203.0.113.10"))


class Console:
    """A defconf router's console, planned against and changed by the plan's lines."""

    def __init__(self) -> None:
        self.cli = RouterOsCli(RouterOsState.factory("pw", now=NOW - 60), "admin", clock=lambda: NOW)

    def run(self, line: str) -> str:
        return self.cli.execute(line).output

    def running(self) -> RouterConfig:
        return parse_export(self.run("/export"))

    def plan(self, desired: str) -> Plan:
        keys = {i["name"]: i["public-key"] for i in self.cli.state.table("interface wireguard")}
        return plan_changes(parse_export(desired), self.running(), keys)

    def apply(self, plan: Plan) -> None:
        for line in plan.commands:
            out = self.run(line)
            assert line.endswith(" print") or out == "", f"{mask(line)}: {out}"

    def converge(self, desired: str) -> Plan:
        first = self.plan(desired)
        self.apply(first)
        assert self.plan(desired).commands == []
        return first


@pytest.mark.parametrize("name", ["hap-ac2-7.18.rsc", "hap-ax2-7.13.rsc", "rb5009-7.20-terse.rsc"])
def test_a_plan_against_a_real_shaped_export_with_a_blackhole_route_does_not_abort(desired: str, name: str) -> None:
    running = parse_export((REPLIES / name).read_text(encoding="utf-8"))
    assert any(e.flags == ("blackhole",) for e in running.entries("ip route"))
    plan = plan_changes(parse_export(desired), running)
    assert plan.changed
    # The technician's blackhole route is not camfleet's: never removed, never rewritten.
    assert not [c for c in plan.commands if "10.99.0.0/16" in c or "192.168.97.0/29" in c]
    assert "blackhole" not in "\n".join(plan.commands)


def test_the_simulated_export_prints_the_flag_and_the_plan_keeps_a_foreign_blackhole(desired: str) -> None:
    console = Console()
    assert console.run(SINK) == ""
    export = console.run("/ip route export")
    assert '\nadd blackhole comment="old camera net, keep dark" disabled=no distance=250 \\\n' in export
    console.converge(desired)
    routes = console.running().entries("ip route")
    assert [r.flags for r in routes if r.args["dst-address"] == "10.99.0.0/16"] == [("blackhole",)]


def test_a_managed_blackhole_route_is_added_kept_and_repaired(desired: str) -> None:
    """A camfleet blackhole (say, a retired camera subnet kept dark): the flag is sent, compared and
    put back when a technician clears it."""
    wanted = desired.replace(
        "/ip route\n",
        '/ip route\nadd blackhole comment="camfleet: retired camera net" dst-address=10.78.9.0/29\n',
    )
    console = Console()
    first = console.converge(wanted)
    assert '/ip route add blackhole comment="camfleet: retired camera net" dst-address=10.78.9.0/29' in first.commands
    assert '+ add blackhole comment="camfleet: retired camera net" dst-address=10.78.9.0/29' in first.diff_lines

    console.run("/ip route set [find where dst-address=10.78.9.0/29] !blackhole gateway=ether1")
    drift = console.plan(wanted)
    assert drift.commands[:2] == [
        '/ip route remove [find where dst-address="10.78.9.0/29"]',
        '/ip route add blackhole comment="camfleet: retired camera net" dst-address=10.78.9.0/29',
    ]
    assert any(line.startswith('- add comment="camfleet: retired camera net"') for line in drift.diff_lines)
    console.apply(drift)
    assert console.plan(wanted).commands == []

    # A managed route that must stop being a blackhole: the router's extra flag goes.
    console.run("/ip route set [find where dst-address=192.168.10.0/24] blackhole")
    again = console.plan(wanted)
    assert again.commands[0] == '/ip route remove [find where dst-address="192.168.10.0/24"]'
    console.apply(again)
    assert console.plan(wanted).commands == []


def test_a_flag_and_its_yes_no_spelling_are_the_same_value() -> None:
    """``disabled`` typed bare is ``disabled=yes`` (``!disabled`` is ``=no``); ``blackhole=yes`` is the flag."""
    rule = SECTION_RULES["ip route"]
    bare = parse_export("/ip route\nadd blackhole disabled dst-address=10.9.0.0/16").entries("ip route")[0]
    spelt = parse_export("/ip route\nadd blackhole=yes disabled=yes dst-address=10.9.0.0/16").entries("ip route")[0]
    assert differing_keys(rule, bare, spelt) == ([], []) == differing_keys(rule, spelt, bare)
    on = parse_export("/ip route\nadd !disabled dst-address=10.9.0.0/16").entries("ip route")[0]
    off = parse_export("/ip route\nadd dst-address=10.9.0.0/16").entries("ip route")[0]
    assert differing_keys(rule, off, on) == ([], [])
    assert differing_keys(rule, off, bare) == ([], ["blackhole", "disabled"])
