"""Link routers' SSH host keys pinned by router id: recorded at first contact by the links job, a
different machine answering at the same router's address refused by the netmiko driver and by the
exporter's asyncssh reader before any login, and accepted only when asked.

Real SSH servers (the simulator's RouterOS) on their own 127.77.x.y; an overlay points the reference
town's ``lr-01-01`` at them, so the pins go beside the overlay, never into the town folder.

.venv/bin/pytest tests/links/test_links_hostkeys.py -q
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import yaml

from camfleet.config.routeros import demo_keys
from camfleet.drivers.errors import AuthError
from camfleet.drivers.routeros.driver import RouterOsDriver
from camfleet.drivers.routeros.hostkeys import (
    HostKey,
    HostKeyChanged,
    HostKeyError,
    KnownHosts,
    Mode,
    Pin,
    fingerprint,
    store_path,
)
from camfleet.drivers.routeros.monitor import MonitorError, wireguard_handshakes
from camfleet.inventory import load
from camfleet.jobs.base import Credentials
from camfleet.jobs.links import cameras_behind, configure_router
from camfleet.sim.faults import Faults
from camfleet.sim.routeros import RouterOsServer, RouterOsState
from camfleet.sim.routeros import server as sim_server
from tests.conftest import TOWN
from tests.links.test_links_driver import LoopThread

LOGIN = Credentials("admin", "pw-for-lr-01-01")


class Answering:
    """A simulated router answering at ``host:port`` with ``key``; every login attempt it sees is logged."""

    def __init__(self, loop: LoopThread, host: str, port: int, key: asyncssh.SSHKey) -> None:
        self.loop = loop
        self.state = RouterOsState.factory(LOGIN.password)
        self.logins: list[str] = []
        checked = self.state.check_password

        def check_password(name: str, password: str) -> bool:
            self.logins.append(name)
            return checked(name, password)

        self.state.check_password = check_password  # type: ignore[method-assign]
        self.server = RouterOsServer(host, port, self.state, Faults(), key)
        loop.run(self.server.start())

    def stop(self) -> None:
        self.loop.run(self.server.stop())


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture
def auth_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SSH userauth request any simulated router receives (the server's ``begin_auth``)."""
    seen: list[str] = []
    begin = sim_server._Auth.begin_auth

    def recording(self: Any, username: str) -> bool:
        seen.append(username)
        return begin(self, username)

    monkeypatch.setattr(sim_server._Auth, "begin_auth", recording)
    return seen


def write_overlay(state: Path, host: str, port: int) -> Path:
    path = state / "overlay.yml"
    content = {"town": "ngoc-lac", "devices": {"lr-01-01": {"address": host, "ssh_port": port}}}
    path.write_text(yaml.safe_dump(content))
    return path


def test_first_contact_records_then_a_changed_key_is_refused_before_login_until_accepted(
    loop: LoopThread, tmp_path: Path, auth_requests: list[str]
) -> None:
    host = f"127.77.{random.randint(1, 254)}.{random.randint(1, 254)}"  # noqa: S311
    genuine, impostor = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(2))
    first = Answering(loop, host, 0, genuine)
    port = first.server.port
    fleet = load(TOWN, overlay=write_overlay(tmp_path, host, port)).fleet
    keys = {r: {"private_key": k.private_key, "public_key": k.public_key} for r, k in demo_keys(fleet).items()}
    pins = tmp_path / "known_hosts"
    old_fp, new_fp = fingerprint(genuine.public_data), fingerprint(impostor.public_data)

    # (1) First contact: the job pins the key beside the overlay and says so; the town folder is untouched.
    try:
        run = configure_router(fleet, "lr-01-01", LOGIN, keys, check=True, timeout=5)
        assert store_path(fleet) == pins
        assert run.host_key.startswith("đã ghi khóa máy chủ SSH ") and f"recorded SSH host key {old_fp}" in run.host_key
        openssh = " ".join(genuine.export_public_key("openssh").decode().split()[:2])
        assert pins.read_text().splitlines()[-1] == f"lr-01-01 {openssh}"
        assert not (TOWN / "known_hosts").exists()
        again = configure_router(fleet, "lr-01-01", LOGIN, keys, check=True, timeout=5)
        assert again.host_key == ""  # the pinned key matched: nothing written
        assert first.logins == ["admin", "admin"]
    finally:
        first.stop()

    # (2) Another machine at the router's address and port, with its own key.
    second = Answering(loop, host, port, impostor)
    try:
        auth_requests.clear()
        with pytest.raises(HostKeyChanged) as err:
            configure_router(fleet, "lr-01-01", LOGIN, keys, check=False, timeout=5)
        line = str(err.value)
        assert "\n" not in line and line.startswith("lr-01-01: khóa máy chủ SSH đã đổi (đã ghi ")
        assert f"{old_fp}, nay {new_fp}" in line and f"pinned {old_fp}, now {new_fp}" in line
        assert " / SSH host key changed" in line and "-e links_accept_host_key=lr-01-01" in line
        assert err.value.facts["cameras_behind"] == cameras_behind(fleet, "lr-01-01") != []
        assert "site kp-01" in line

        with pytest.raises(MonitorError) as refused:
            asyncio.run(
                wireguard_handshakes(
                    "lr-01-01", host, port, LOGIN.username, LOGIN.password, timeout=5, known_hosts=KnownHosts(pins)
                )
            )
        assert refused.value.reason == "host_key_changed" and new_fp in str(refused.value)
        assert auth_requests == [] and second.logins == []  # neither client ever asked to log in
        assert KnownHosts(pins).keys("lr-01-01") == [HostKey("ssh-ed25519", genuine.public_data)]  # kept

        # (3) The technician checked the router on site: its new key is accepted, then used.
        accepted = configure_router(fleet, "lr-01-01", LOGIN, keys, check=True, timeout=5, accept_host_key=True)
        assert f"replaced SSH host key {old_fp} with {new_fp}" in accepted.host_key
        assert second.logins == ["admin"]  # the same servers do see a login once the key is trusted
        ages = asyncio.run(
            wireguard_handshakes(
                "lr-01-01", host, port, LOGIN.username, LOGIN.password, timeout=5, known_hosts=KnownHosts(pins)
            )
        )
        assert ages == {} and second.logins == ["admin", "admin"]
        assert [ln.split()[0] for ln in pins.read_text().splitlines() if not ln.startswith("#")] == ["lr-01-01"]
    finally:
        second.stop()


def test_the_monitor_never_connects_to_a_router_with_no_pinned_key(tmp_path: Path) -> None:
    """No key recorded: refused before any packet (the address is a closed port anyway, so a
    connection attempt would say ``ssh_error`` instead)."""
    with pytest.raises(MonitorError) as err:
        asyncio.run(
            wireguard_handshakes(
                "core-01", "127.77.0.1", 9, "admin", "x", timeout=2, known_hosts=KnownHosts(tmp_path / "known_hosts")
            )
        )
    assert err.value.reason == "host_key_unknown"
    assert str(err.value).startswith("core-01: chưa có khóa máy chủ SSH") and "run playbooks/links.yml once" in str(
        err.value
    )


def test_real_routers_pin_in_the_town_folder_in_openssh_format(tmp_path: Path) -> None:
    """Without the overlay the pins are the town's ``known_hosts``, which OpenSSH reads by router id."""
    assert store_path(load(TOWN, overlay=False).fleet) == TOWN / "known_hosts"
    key = asyncssh.generate_private_key("ssh-ed25519")
    store = KnownHosts(tmp_path / "known_hosts")
    pin = Pin(store, "lr-01-01", Mode.RECORD)
    pin.verify(key.get_algorithm(), key.public_data)
    found = subprocess.run(
        ["/usr/bin/ssh-keygen", "-l", "-F", "lr-01-01", "-f", str(store.path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert fingerprint(key.public_data) in found


def test_a_broken_line_in_the_pins_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text("# pins\nlr-01 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==\nlr-02 ssh-ed25519 !!notbase64\n")
    with pytest.raises(HostKeyError) as err:
        KnownHosts(path).keys("lr-01")
    assert "\n" not in str(err.value) and f"{path}:3: not a known_hosts line" in str(err.value)
    assert str(err.value).startswith("lr-01: dòng 3 của ")


def test_a_router_with_two_host_keys_is_checked_against_the_kind_pinned(loop: LoopThread, tmp_path: Path) -> None:
    """A router offering Ed25519 and RSA, pinned by its RSA key: both clients ask for RSA first, so the
    pinned key passes and the login goes ahead (refused here: the server takes no password at all)."""
    host = f"127.77.{random.randint(1, 254)}.{random.randint(1, 254)}"  # noqa: S311
    ed25519 = asyncssh.generate_private_key("ssh-ed25519")
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048)

    async def listen() -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(host, 0, server_host_keys=[ed25519, rsa], password_auth=True, kbdint_auth=False)

    server = loop.run(listen())
    port = server.sockets[0].getsockname()[1]
    store = KnownHosts(tmp_path / "known_hosts")
    store.pin("lr-01-01", HostKey("ssh-rsa", rsa.public_data), replace=False)
    try:
        driver = RouterOsDriver(
            "lr-01-01", host, port=port, username="admin", password="x", host_key=Pin(store, "lr-01-01", Mode.CHECK)
        )
        with pytest.raises(AuthError):  # past the host key check
            driver.facts()
        with pytest.raises(MonitorError) as err:
            asyncio.run(wireguard_handshakes("lr-01-01", host, port, "admin", "x", timeout=5, known_hosts=store))
        assert err.value.reason == "auth"
        # Pinned by another Ed25519 key: the router's own Ed25519 key is asked for first, and refused.
        store.pin(
            "lr-01-01", HostKey("ssh-ed25519", asyncssh.generate_private_key("ssh-ed25519").public_data), replace=True
        )
        with pytest.raises(HostKeyChanged):
            RouterOsDriver(
                "lr-01-01", host, port=port, username="admin", password="x", host_key=Pin(store, "lr-01-01", Mode.CHECK)
            ).facts()
    finally:
        server.close()
