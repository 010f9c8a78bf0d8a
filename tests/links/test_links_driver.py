"""The RouterOS driver with real netmiko against simulated routers on loopback.

First apply changes, the second sends nothing, check mode changes nothing, a change made by hand
through netmiko is found and repaired, secrets never show, a down router or a wrong password fails
fast with the right error.

.venv/bin/pytest tests/links/test_links_driver.py -q
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from netmiko import ConnectHandler

from camfleet.config.routeros import LinkOptions, WireguardKeys, demo_keys, render_router
from camfleet.drivers.errors import AuthError, DeviceError, Unreachable
from camfleet.drivers.routeros.driver import RouterOsDriver
from camfleet.drivers.routeros.hostkeys import KnownHosts, Mode, Pin
from camfleet.inventory import load
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.routeros import BoardInfo, RouterOsServer, RouterOsState, load_or_create_host_key

MINI = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mini-town"
OPTS = LinkOptions(station_endpoint="203.0.113.10")


class LoopThread:
    """An asyncio loop in a thread, so blocking netmiko calls can drive the async servers."""

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


class SimRouter:
    """One simulated router on its own 127.77.x.y address."""

    #: Where the drivers pin the routers' host key (set per module by the ``_pins`` fixture).
    pins: KnownHosts

    def __init__(self, loop: LoopThread, key: asyncssh.SSHKey, board: BoardInfo | None = None) -> None:
        self.host = f"127.77.{random.randint(1, 254)}.{random.randint(1, 254)}"  # noqa: S311
        self.state = RouterOsState.factory("pw", board)
        self.faults = Faults()
        self.server = RouterOsServer(self.host, 0, self.state, self.faults, key)
        loop.run(self.server.start())

    def driver(self, device_id: str = "lr-01", password: str = "pw", timeout: float = 3) -> RouterOsDriver:  # noqa: S107
        return RouterOsDriver(
            device_id,
            self.host,
            port=self.server.port,
            username="admin",
            password=password,
            host_key=Pin(self.pins, device_id, Mode.RECORD),
            conn_timeout=timeout,
        )

    def snapshot(self) -> dict[str, Any]:
        """The router's configuration (reading a menu creates it empty in the simulator: ignored)."""
        tables = {k: v for k, v in self.state.tables.items() if v}
        settings = {k: v for k, v in self.state.settings.items() if v}
        return copy.deepcopy({"tables": tables, "settings": settings})


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture(scope="module", autouse=True)
def _pins(tmp_path_factory: pytest.TempPathFactory) -> None:
    SimRouter.pins = KnownHosts(tmp_path_factory.mktemp("pins") / "known_hosts")


@pytest.fixture(scope="module")
def host_key(tmp_path_factory: pytest.TempPathFactory) -> asyncssh.SSHKey:
    return load_or_create_host_key(tmp_path_factory.mktemp("sim"))


@pytest.fixture
def routers(loop: LoopThread, host_key: asyncssh.SSHKey) -> Iterator[list[SimRouter]]:
    made: list[SimRouter] = []
    yield made
    for r in made:
        loop.run(r.server.stop())


@pytest.fixture(scope="module")
def fleet_keys() -> tuple[Any, dict[str, WireguardKeys]]:
    fleet = load(MINI).fleet
    return fleet, demo_keys(fleet)


def test_apply_converges_and_check_mode_changes_nothing(
    loop: LoopThread, host_key: asyncssh.SSHKey, routers: list[SimRouter], fleet_keys: tuple[Any, Any]
) -> None:
    fleet, keys = fleet_keys
    desired = render_router(fleet, "lr-01", keys, OPTS)
    router = SimRouter(loop, host_key)
    routers.append(router)
    private = keys["lr-01"].private_key
    with router.driver() as drv:
        facts = drv.facts()
        assert (facts.identity, facts.model, facts.board_name, facts.version) == (
            "MikroTik",
            "RB952Ui-5ac2nD",
            "hAP ac lite",
            "7.15.3",
        )
        before = router.snapshot()
        check = drv.apply(desired, check=True)
        assert check.changed and check.commands_sent == [] and router.snapshot() == before
        assert "+ set name=lr-01" in check.diff_lines

        first = drv.apply(desired)
        assert first.changed and first.diff_lines == check.diff_lines
        assert len(first.commands_sent) == 25  # 24 lines, one per item, and the firewall print
        assert router.state.identity == "lr-01" and drv.facts().identity == "lr-01"  # prompt changed mid-session
        assert router.state.table("interface wireguard")[0]["private-key"] == private
        assert router.state.table("queue simple")[0]["max-limit"] == "5M/5M"
        everything = json.dumps([first.diff_lines, first.commands_sent])
        assert private not in everything and "private-key=<secret>" in everything

        settled = router.snapshot()
        second = drv.apply(desired)
        assert (second.changed, second.diff_lines, second.commands_sent) == (False, [], [])
        assert drv.apply(desired, check=True).changed is False
        assert router.snapshot() == settled
        backup = drv.backup()
        assert backup.startswith("# ") and "/interface wireguard" in backup and private not in backup


def test_hand_made_changes_are_drift_and_are_repaired(
    loop: LoopThread, host_key: asyncssh.SSHKey, routers: list[SimRouter], fleet_keys: tuple[Any, Any]
) -> None:
    fleet, keys = fleet_keys
    desired = render_router(fleet, "lr-01", keys, OPTS)
    router = SimRouter(loop, host_key)
    routers.append(router)
    with router.driver() as drv:
        drv.apply(desired)
        # A technician logs in with netmiko and "fixes" things.
        tech = ConnectHandler(
            device_type="mikrotik_routeros", host=router.host, port=router.server.port, username="admin", password="pw"
        )
        try:
            tech.send_command('/ip firewall filter remove [find comment="camfleet: anything else to camera"]')
            tech.send_command("/queue simple set [find name=link-01] max-limit=50M/50M")
            tech.send_command(
                '/interface wireguard set [find name=wg-station] private-key="oPNbW4SQEUjPXl3CQxrJTd7pwfLNlHzPE6c6a8zLzVs="'
            )
        finally:
            tech.disconnect()
        audit = drv.apply(desired, check=True)
        text = "\n".join(audit.diff_lines)
        assert audit.changed
        assert (
            '+ add action=drop chain=forward comment="camfleet: anything else to camera" out-interface=ether5' in text
        )
        assert '- add comment="camfleet: camera upstream share" max-limit=50M/50M' in text
        assert "~ wg-station: private-key=<secret> differs" in text
        assert keys["lr-01"].private_key not in text and "oPNbW4SQ" not in text
        repaired = drv.apply(desired)
        assert repaired.changed and repaired.diff_lines == audit.diff_lines
        assert router.state.table("queue simple")[0]["max-limit"] == "5M/5M"
        assert router.state.table("interface wireguard")[0]["private-key"] == keys["lr-01"].private_key
        comments = [r.get("comment", "") for r in router.state.table("ip firewall filter")]
        assert "camfleet: anything else to camera" in comments[:10] and "camfleet: stale" not in comments
        assert drv.apply(desired).changed is False


def test_core_router_gets_every_site_peer(
    loop: LoopThread, host_key: asyncssh.SSHKey, routers: list[SimRouter], fleet_keys: tuple[Any, Any]
) -> None:
    fleet, keys = fleet_keys
    router = SimRouter(loop, host_key, BoardInfo.rb5009())
    routers.append(router)
    desired = render_router(fleet, "core-01", keys, OPTS)
    with router.driver("core-01") as drv:
        assert drv.apply(desired).changed
        peers = router.state.table("interface wireguard peers")
        assert [(p["name"], p["public-key"], p["allowed-address"]) for p in peers] == [
            ("lr-01", keys["lr-01"].public_key, "10.77.0.11/32,10.78.1.0/29")
        ]
        assert drv.facts().model == "RB5009UG+S+"
        assert drv.apply(desired).changed is False


def test_a_refused_line_is_a_device_error_in_the_routers_words(
    loop: LoopThread, host_key: asyncssh.SSHKey, routers: list[SimRouter], fleet_keys: tuple[Any, Any]
) -> None:
    fleet, keys = fleet_keys
    router = SimRouter(loop, host_key)
    routers.append(router)
    # A camera port the hardware does not have.
    desired = render_router(fleet, "lr-01", keys, LinkOptions(station_endpoint="203.0.113.10", camera_port="ether9"))
    with router.driver() as drv, pytest.raises(DeviceError) as err:
        drv.apply(desired)
    assert err.value.device_said == "input does not match any value of interface"
    assert str(err.value).startswith("lr-01: thiết bị từ chối / router refused '/ip address add address=10.78.1.1/29")
    assert keys["lr-01"].private_key not in str(err.value)


def test_down_router_is_unreachable_fast_and_wrong_password_is_auth_error(
    loop: LoopThread, host_key: asyncssh.SSHKey, routers: list[SimRouter]
) -> None:
    router = SimRouter(loop, host_key)
    routers.append(router)
    with pytest.raises(AuthError) as auth:
        router.driver(password="wrong").facts()
    assert auth.value.device_id == "lr-01" and "wrong" not in str(auth.value)
    router.faults.set(Fault.offline)
    router.server.refresh()
    start = time.monotonic()
    with pytest.raises(Unreachable) as down:
        router.driver(timeout=2).facts()
    assert time.monotonic() - start < 3
    assert str(down.value).startswith(
        f"lr-01: không kết nối được / no SSH session with {router.host}:{router.server.port}"
    )


def test_a_router_with_a_blackhole_route_is_planned_and_applied_through_netmiko(
    loop: LoopThread, host_key: asyncssh.SSHKey, routers: list[SimRouter], fleet_keys: tuple[Any, Any]
) -> None:
    """RouterOS 7 exports carry bare flags (``add blackhole ...``): reading, planning, applying and
    backing up such a router works, the technician's blackhole stays, camfleet's own is kept."""
    fleet, keys = fleet_keys
    desired = render_router(fleet, "lr-01", keys, OPTS).replace(
        "/ip route\n", '/ip route\nadd blackhole comment="camfleet: retired camera net" dst-address=10.78.9.0/29\n'
    )
    router = SimRouter(loop, host_key)
    routers.append(router)
    with router.driver() as drv:
        drv.command('/ip route add blackhole comment="old camera net, keep dark" distance=250 dst-address=10.99.0.0/16')
        drv.command("/interface 6to4 add !keepalive name=6to4-he remote-address=203.0.113.77")
        running = drv.running_config()
        assert "\nadd blackhole comment=" in running and "\nadd !keepalive name=6to4-he " in running
        first = drv.apply(desired)
        assert '/ip route add blackhole comment="camfleet: retired camera net" dst-address=10.78.9.0/29' in (
            first.commands_sent
        )
        assert drv.apply(desired).changed is False
        sinks = sorted(r["dst-address"] for r in router.state.table("ip route") if r.get("blackhole") == "yes")
        assert sinks == ["10.78.9.0/29", "10.99.0.0/16"]
        backup = drv.backup()
        assert backup.count("add blackhole ") == 2 and keys["lr-01"].private_key not in backup
        assert "add !keepalive name=6to4-he remote-address=203.0.113.77" in backup
