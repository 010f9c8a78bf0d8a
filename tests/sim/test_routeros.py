"""The simulated RouterOS router: its console language alone, then driven over SSH by real netmiko.

.venv/bin/pytest tests/sim/test_routeros.py -q
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import ConfigInvalidException, NetmikoAuthenticationException, NetmikoTimeoutException

from camfleet.sim.faults import Fault, Faults
from camfleet.sim.routeros import (
    RouterOsCli,
    RouterOsServer,
    RouterOsState,
    load_or_create_host_key,
    split_login,
    wg_private_key,
    wg_public_key,
    wrap_export,
)

NOW = 1_790_000_000.0  # a fixed clock keeps export headers and handshake ages stable
ERRORS = (
    r"(bad command name|expected end of command|syntax error|failure:|invalid value|no such item|input does not match)"
)


def cli(defconf: bool = False) -> RouterOsCli:
    return RouterOsCli(RouterOsState.factory("pw", defconf=defconf, now=NOW - 3600), "admin", clock=lambda: NOW)


def section(export: str, name: str) -> list[str]:
    """The lines of one /export section, continuation lines joined back."""
    text = export.replace("\\\n    ", "")
    lines = text.splitlines()
    start = lines.index(f"/{name}") + 1
    end = next((k for k in range(start, len(lines)) if lines[k].startswith("/")), len(lines))
    return lines[start:end]


# --- the console without sockets ------------------------------------------------------------


def test_defconf_export_wraps_exactly_like_a_real_routeros_7_export() -> None:
    export = cli(defconf=True).execute("/ip firewall export").output
    # Copied from a real RouterOS 7 /export of the same defconf rules.
    assert (
        "add action=accept chain=forward comment=\\\n"
        '    "defconf: accept established,related, untracked" connection-state=\\\n'
        "    established,related,untracked\n"
        'add action=drop chain=forward comment="defconf: drop invalid" \\\n'
        "    connection-state=invalid\n"
        "add action=drop chain=forward comment=\\\n"
        '    "defconf: drop all from WAN not DSTNATed" connection-nat-state=!dstnat \\\n'
        "    connection-state=new in-interface-list=WAN\n"
        "/ip firewall nat\n"
        'add action=masquerade chain=srcnat comment="defconf: masquerade" \\\n'
        "    ipsec-policy=out,none out-interface-list=WAN"
    ) in export
    assert export.startswith("# 2026-09-21 14:13:20 by RouterOS 7.15.3\n# software id = ")
    assert max(len(line) for line in export.splitlines()) <= 79


def test_wrap_breaks_after_key_when_the_value_does_not_fit() -> None:
    words = ["address=192.168.184.1/24", "comment=defconf", "interface=bridge", "network=192.168.184.0"]
    assert wrap_export(words, "add ") == [
        "add address=192.168.184.1/24 comment=defconf interface=bridge network=\\",
        "    192.168.184.0",
    ]


def test_menu_navigation_and_prompt_follow_routeros_7() -> None:
    c = cli()
    assert c.prompt() == "[admin@MikroTik] > "
    assert c.execute("/ip firewall filter").output == ""
    assert c.prompt() == "[admin@MikroTik] /ip/firewall/filter> "
    c.execute("..")
    assert c.prompt() == "[admin@MikroTik] /ip/firewall> "
    c.execute("/")
    c.execute("/system identity set name=cam-07-rt")
    assert c.prompt() == "[admin@cam-07-rt] > "
    assert c.execute("/system/identity/print").output == "  name: cam-07-rt"


def test_errors_are_the_consoles_own_lines() -> None:
    c = cli()
    assert c.execute("/foo bar").output == "bad command name foo (line 1 column 2)"
    assert c.execute("/ip firewall filter frob").output == "bad command name frob (line 1 column 21)"
    assert (
        c.execute("/ip firewall filter add chain=forward bogus=1").output
        == "expected end of command (line 1 column 39)"
    )
    assert (
        c.execute("/ip firewall filter add chain=forward action=dance").output
        == "input does not match any value of action"
    )
    assert c.execute("/ip firewall filter remove 5").output == "no such item"
    assert (
        c.execute("/ip address add address=10.1.1.1/24 interface=eth9").output
        == "input does not match any value of interface"
    )
    assert c.execute("/queue simple add target=10.0.0.300").output == "invalid value for argument target"
    assert c.state.table("ip firewall filter") == []  # nothing half-applied


def test_add_set_remove_by_number_find_and_place_before() -> None:
    c = cli()
    for rule in (
        "chain=forward action=accept comment=a",
        "chain=forward action=drop comment=b",
        "chain=input comment=c",
    ):
        assert c.execute(f"/ip firewall filter add {rule}").output == ""
    c.execute('/ip firewall filter add chain=forward action=drop comment="first" place-before=0')
    c.execute('/ip firewall filter set [find where comment="b"] disabled=yes')
    c.execute('/ip firewall filter set [find comment~"^[ac]$"] log=yes')
    rows = c.state.table("ip firewall filter")
    assert [r["comment"] for r in rows] == ["first", "a", "b", "c"]
    assert rows[2]["disabled"] == "yes" and rows[1]["log"] == "yes" and rows[3]["log"] == "yes"
    c.execute("/ip firewall filter remove 0,3")
    assert [r["comment"] for r in c.state.table("ip firewall filter")] == ["a", "b"]
    c.execute("/ip firewall filter remove [find]")
    assert c.state.table("ip firewall filter") == []
    assert c.execute("/ip firewall filter print count-only").output == "0"


def test_wireguard_key_is_derived_hidden_by_default_and_shown_on_request() -> None:
    c = cli()
    private = wg_private_key()
    c.execute(f'/interface wireguard add name=wg-station listen-port=13231 private-key="{private}"')
    wg = c.state.table("interface wireguard")[0]
    assert wg["public-key"] == wg_public_key(private)
    assert private not in c.execute("/export").output
    shown = c.execute("/interface wireguard export show-sensitive").output
    assert f'private-key=\\\n    "{private}"' in shown or f'private-key="{private}"' in shown
    assert wg["public-key"] in c.execute("/interface wireguard print").output


def test_peer_handshake_age_follows_the_tunnel() -> None:
    c = cli()
    c.execute("/interface wireguard add name=wg-station")
    key = wg_public_key(wg_private_key())
    c.execute(
        f'/interface wireguard peers add interface=wg-station public-key="{key}" endpoint-address=10.0.0.1 endpoint-port=13231 allowed-address=10.77.0.1 persistent-keepalive=25'
    )
    terse = c.execute("/interface wireguard peers print terse").output
    assert "name=peer1" in terse and "allowed-address=10.77.0.1/32" in terse and "persistent-keepalive=25s" in terse
    assert "last-handshake=" in terse  # 3600 s uptime % 120 s rekey = 0s since the last handshake
    c.state.handshakes[key] = NOW - 95
    assert "last-handshake=1m35s" in c.execute("/interface wireguard peers print detail").output
    c.state.handshakes.clear()
    c.state.tunnel_up = False
    assert "last-handshake" not in c.execute("/interface wireguard peers print detail").output


def test_export_round_trips_through_a_fresh_router_and_keeps_vietnamese_text() -> None:
    c = cli(defconf=True)
    c.execute("/interface wireguard add name=wg-station")
    c.execute(
        '/ip dhcp-server lease add address=192.168.88.20 mac-address=aa:bb:cc:00:11:22 server=defconf comment="Camera Phố Mới"'
    )
    c.execute("/queue simple add name=cam-01 target=192.168.88.20 max-limit=3000000/10M")
    c.execute("/system ntp client set enabled=yes servers=10.77.0.1")
    c.execute("/ip service set telnet,ftp disabled=yes")
    export = c.execute("/export").output
    assert r'comment="Camera Ph\E1\BB\91 M\E1\BB\9Bi"' in export
    assert section(export, "queue simple") == ["add max-limit=3M/10M name=cam-01 target=192.168.88.20/32"]
    assert section(export, "system ntp client servers") == ["add address=10.77.0.1"]
    assert section(export, "ip service") == ["set telnet disabled=yes", "set ftp disabled=yes"]
    fresh = RouterOsCli(RouterOsState.factory("pw", defconf=False, now=NOW), "admin", clock=lambda: NOW)
    assert fresh.run_script(export) == []
    again = fresh.execute("/export").output
    strip = [line for line in export.splitlines() if "wireguard" not in line and "listen-port" not in line]
    assert [line for line in again.splitlines() if "wireguard" not in line and "listen-port" not in line] == strip
    assert fresh.state.table("ip dhcp-server lease")[0]["comment"] == "Camera Phố Mới"


def test_a_blackhole_route_is_a_bare_flag_in_and_out() -> None:
    """RouterOS 7 writes flag arguments as bare words in their sorted place ("add blackhole
    comment=..."; real 7.x exports, docs/reference/routeros.md); "!blackhole" clears one."""
    c = cli()
    assert c.execute('/ip route add blackhole dst-address=10.99.0.0/16 comment="keep dark"').output == ""
    assert c.execute("/ip route add dst-address=10.98.0.0/16").output == "failure: gateway not specified"
    assert c.execute("/ip route add dst-address=10.97.0.0/16 gateway=ether1").output == ""
    export = c.execute("/ip route export").output
    assert section(export, "ip route") == [
        'add blackhole comment="keep dark" disabled=no dst-address=10.99.0.0/16 routing-table=main suppress-hw-offload=no',
        "add disabled=no dst-address=10.97.0.0/16 gateway=ether1 routing-table=main suppress-hw-offload=no",
    ]
    assert c.execute("/ip route print count-only where blackhole").output == "1"
    assert "0 blackhole dst-address=10.99.0.0/16" in c.execute("/ip route print terse").output
    fresh = cli()
    assert fresh.run_script(export) == []
    assert fresh.execute("/ip route export").output == export
    c.execute("/ip route set [find where blackhole] !blackhole gateway=ether2")
    assert "blackhole" not in c.execute("/ip route export").output


def test_a_keepalive_turned_off_is_exported_as_bang_keepalive() -> None:
    """``!keepalive`` (off) differs from leaving the keepalive at its default (a 7.7 export:
    ``/interface 6to4 add !keepalive name=... remote-address=...``)."""
    c = cli()
    assert c.execute("/interface 6to4 add !keepalive name=6to4-he remote-address=203.0.113.77").output == ""
    assert c.execute("/interface 6to4 add name=6to4-b remote-address=203.0.113.78").output == ""
    export = c.execute("/interface 6to4 export").output
    assert section(export, "interface 6to4") == [
        "add !keepalive name=6to4-he remote-address=203.0.113.77",
        "add name=6to4-b remote-address=203.0.113.78",
    ]
    c.execute("/interface 6to4 set 6to4-he keepalive=10s,10")
    c.execute("/interface 6to4 set 6to4-b !keepalive")
    assert section(c.execute("/interface 6to4 export").output, "interface 6to4") == [
        "add name=6to4-he remote-address=203.0.113.77",
        "add !keepalive name=6to4-b remote-address=203.0.113.78",
    ]
    fresh = cli()
    assert fresh.run_script(export) == []
    assert fresh.execute("/interface 6to4 export").output == export


def test_escapes_follow_real_routeros_upper_case_hex_only() -> None:
    """What real RouterOS does (MikroTik's Scripting manual, "\\xx ... Hex number should use capital
    letters"; real exports; see camfleet/sim/routeros/text.py): /export writes UTF-8 bytes as
    upper-case \\XX and CR LF as \\r\\n; the console reads upper-case hex and the manual's named
    escapes, and refuses lower-case hex."""
    c = cli()
    comment = "Trường THCS Phố Mới"
    assert c.execute(f'/ip firewall filter add chain=forward action=drop comment="{comment}"').output == ""
    c.execute('/ip firewall filter add chain=input action=accept comment="one\\r\\ntwo\\ttab"')
    export = c.execute("/ip firewall filter export").output
    rules = section(export, "ip firewall filter")
    assert 'comment="Tr\\C6\\B0\\E1\\BB\\9Dng THCS Ph\\E1\\BB\\91 M\\E1\\BB\\9Bi"' in rules[0]
    assert 'comment="one\\r\\ntwo\\ttab"' in rules[1]
    fresh = cli()
    assert fresh.run_script(export) == []
    assert [r["comment"] for r in fresh.state.table("ip firewall filter")] == [comment, "one\r\ntwo\ttab"]

    typed = cli()
    assert typed.execute(r'/ip firewall filter add chain=input comment="Ph\E1\BB\91"').output == ""
    assert typed.state.table("ip firewall filter")[0]["comment"] == "Phố"
    lower = typed.execute(r'/ip firewall filter add chain=input comment="Ph\e1\bb\91"').output
    assert lower.startswith("syntax error (line 1 column ")
    assert len(typed.state.table("ip firewall filter")) == 1  # nothing added
    typed.execute(r'/ip firewall filter add chain=input comment="a\_b\$c\?d\"e\\f\aZ"')
    assert typed.state.table("ip firewall filter")[1]["comment"] == 'a b$c?d"e\\f\x07Z'
    assert typed.execute(r'/ip firewall filter add chain=input comment="\q"').output.startswith("syntax error")


def test_state_round_trips_through_json() -> None:
    c = cli(defconf=True)
    c.execute("/interface wireguard add name=wg-station")
    c.execute("/user add name=tech group=write password=s3cret")
    data = json.loads(json.dumps(c.state.to_dict()))
    back = RouterOsState.from_dict(data)
    assert back.to_dict() == c.state.to_dict()
    assert back.check_password("tech", "s3cret") and not back.check_password("tech", "nope")
    assert "s3cret" not in c.execute("/export show-sensitive").output


def test_login_flags_are_stripped_from_the_user_name() -> None:
    assert split_login("admin+ct511w4098h") == ("admin", 511)
    assert split_login("admin+cetw511h4098") == ("admin", 511)
    assert split_login("admin") == ("admin", None)


# --- over SSH, with real netmiko ------------------------------------------------------------


class LoopThread:
    """An asyncio loop in a thread, so blocking netmiko calls can drive async servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=20)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture(scope="module")
def host_key(tmp_path_factory: pytest.TempPathFactory) -> asyncssh.SSHKey:
    folder = tmp_path_factory.mktemp("sim")
    key = load_or_create_host_key(folder)
    assert load_or_create_host_key(folder).public_data == key.public_data  # made once, then reused
    return key


class Router:
    def __init__(self, loop: LoopThread, host_key: asyncssh.SSHKey) -> None:
        self.host = f"127.77.{random.randint(1, 254)}.{random.randint(1, 254)}"  # noqa: S311
        self.state = RouterOsState.factory("pw")
        self.faults = Faults()
        self.changes = 0
        self.server = RouterOsServer(self.host, 0, self.state, self.faults, host_key, on_change=self._changed)
        self.loop = loop
        loop.run(self.server.start())

    def _changed(self, state: RouterOsState) -> None:
        self.changes += 1

    def connect(self, password: str = "pw", timeout: float = 3) -> Any:  # noqa: S107
        return ConnectHandler(
            device_type="mikrotik_routeros",
            host=self.host,
            port=self.server.port,
            username="admin",
            password=password,
            conn_timeout=timeout,
            auth_timeout=timeout,
            banner_timeout=timeout,
        )


@pytest.fixture
def router(loop: LoopThread, host_key: asyncssh.SSHKey) -> Iterator[Router]:
    r = Router(loop, host_key)
    yield r
    loop.run(r.server.stop())


def test_netmiko_reads_identity_and_applies_a_site_config(router: Router) -> None:
    conn = router.connect()
    try:
        assert conn.base_prompt == "[admin@MikroTik]"
        assert conn.send_command("/system identity print", read_timeout=5) == "name: MikroTik"
        assert "version: 7.15.3 (stable)" in conn.send_command("/system resource print", read_timeout=5)
        assert "model: RB952Ui-5ac2nD" in conn.send_command("/system routerboard print", read_timeout=5)
        station_key = wg_public_key(wg_private_key())
        private = wg_private_key()
        conn.send_config_set(
            [
                f'/interface wireguard add name=wg-station listen-port=13231 private-key="{private}"',
                f'/interface wireguard peers add interface=wg-station public-key="{station_key}" endpoint-address=10.0.0.1 endpoint-port=13231 allowed-address=10.77.0.1/32 persistent-keepalive=25s comment=station',
                "/ip address add address=10.77.0.12/24 interface=wg-station",
                "/ip firewall filter",
                'add chain=forward action=drop src-address=192.168.88.0/24 dst-address=192.168.88.20 comment="cam: no LAN to camera" place-before=0',
                'add chain=forward action=accept in-interface=wg-station dst-address=192.168.88.20 comment="cam: station to camera" place-before=0',
                "/queue simple add name=cam-01 target=192.168.88.20/32 max-limit=3M/10M comment=cam-01",
                "/ip dhcp-server lease add address=192.168.88.20 mac-address=AA:BB:CC:00:11:22 server=defconf comment=cam-01",
            ],
            error_pattern=ERRORS,
        )
        export = conn.send_command("/export", read_timeout=5)
        headers = [line for line in export.splitlines() if line.startswith("/")]
        assert headers[:5] == [
            "/interface wireguard",
            "/queue simple",
            "/interface wireguard peers",
            "/ip address",
            "/ip dhcp-server lease",
        ]
        assert section(export, "interface wireguard") == ["add listen-port=13231 mtu=1420 name=wg-station"]
        assert private not in export
        assert section(export, "ip firewall filter")[:2] == [
            'add action=accept chain=forward comment="cam: station to camera" dst-address=192.168.88.20 in-interface=wg-station',
            'add action=drop chain=forward comment="cam: no LAN to camera" dst-address=192.168.88.20 src-address=192.168.88.0/24',
        ]
        assert section(export, "ip dhcp-server lease") == [
            "add address=192.168.88.20 comment=cam-01 mac-address=AA:BB:CC:00:11:22 server=defconf"
        ]
        assert f'public-key="{station_key}"' in section(export, "interface wireguard peers")[0]

        conn.send_config_set(
            [
                "/queue simple set [find name=cam-01] max-limit=2M/8M",
                '/ip firewall filter remove [find where comment~"no LAN"]',
            ],
            error_pattern=ERRORS,
        )
        assert router.state.table("queue simple")[0]["max-limit"] == "2M/8M"
        assert not any("no LAN" in r.get("comment", "") for r in router.state.table("ip firewall filter"))
        assert router.changes == 7 + 2  # every line that changed state (not the menu change) was reported

        assert (
            conn.send_command("/ip firewall filter frob", read_timeout=5) == "bad command name frob (line 1 column 21)"
        )
        with pytest.raises(ConfigInvalidException, match="matched error: input does not match"):
            conn.send_config_set(["/ip firewall filter add chain=forward action=dance"], error_pattern=ERRORS)
        assert "last-handshake=" in conn.send_command("/interface wireguard peers print terse", read_timeout=5)
    finally:
        conn.disconnect()


def test_wrong_password_and_lockout_fail_authentication(router: Router) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        router.connect(password="wrong")
    router.faults.set(Fault.locked)
    with pytest.raises(NetmikoAuthenticationException):
        router.connect()


def wait_for(predicate: Callable[[], bool], timeout: float = 3) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_offline_router_refuses_drops_sessions_then_comes_back(router: Router) -> None:
    conn = router.connect()
    router.faults.set(Fault.offline)
    wait_for(lambda: not router.server.listening)
    with pytest.raises(NetmikoTimeoutException, match="TCP connection to device failed"):
        router.connect(timeout=2)
    wait_for(lambda: not conn.is_alive())  # the open session was dropped too
    router.faults.clear(Fault.offline)
    wait_for(lambda: router.server.listening)
    conn = router.connect()
    assert conn.send_command("/system identity print", read_timeout=5) == "name: MikroTik"
    conn.disconnect()


def test_hung_router_never_sends_a_banner(router: Router) -> None:
    router.faults.set(Fault.hang)
    start = time.monotonic()
    with pytest.raises(NetmikoTimeoutException):
        router.connect(timeout=1)
    assert time.monotonic() - start < 5


def test_slow_router_delays_each_answer(router: Router) -> None:
    conn = router.connect()
    try:
        router.faults.set(Fault.slow, delay_s=0.4)
        start = time.monotonic()
        assert conn.send_command("/system identity print", read_timeout=5) == "name: MikroTik"
        assert time.monotonic() - start >= 0.4
    finally:
        router.faults.clear()
        conn.disconnect()


def test_exec_channel_runs_one_command(router: Router, loop: LoopThread) -> None:
    async def run() -> str:
        async with asyncssh.connect(
            router.host, router.server.port, username="admin", password="pw", known_hosts=None
        ) as ssh:
            result = await ssh.run("/system identity print", check=True)
            return str(result.stdout)

    assert loop.run(run()) == "  name: MikroTik\n"


def test_host_key_file_is_private(tmp_path: Path) -> None:
    load_or_create_host_key(tmp_path)
    assert (tmp_path / "routeros_host_ed25519").stat().st_mode & 0o077 == 0
