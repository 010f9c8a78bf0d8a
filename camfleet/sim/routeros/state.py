"""What one simulated RouterOS router remembers: its hardware, its configuration items by menu,
its WireGuard tunnels' handshakes, files, and the defaults it leaves the box with.

Why apart from the console: the orchestrator persists this state (``to_dict``/``from_dict``,
plain JSON), flips ``tunnel_up`` when the path to the station dies, and builds routers with it;
the console (:mod:`~camfleet.sim.routeros.interpreter`) only reads and changes it. Values are kept
in the form RouterOS prints them (``*1A`` ids, ``yes``/``no``, ``1m35s``). [V] defconf rules and
the service table of RouterOS 7; [?] the board serials.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.routeros.state import *; \
        s = RouterOsState.factory('pw', BoardInfo.rb5009()); print(s.identity, s.interface_names())"
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROUTEROS_VERSION = "7.15.3"
BUILD_TIME = "2024-07-24 10:39:00"  # [?] build time of 7.15.3
REKEY_S = 120  # WireGuard re-handshakes every 2 minutes while traffic or keepalives flow

#: The fixed ``/ip service`` items as RouterOS 7 ships them: name, port, disabled.
SERVICES = (
    ("telnet", "23", "no"),
    ("ftp", "21", "no"),
    ("www", "80", "no"),
    ("ssh", "22", "no"),
    ("www-ssl", "443", "yes"),
    ("api", "8728", "no"),
    ("winbox", "8291", "no"),
    ("api-ssl", "8729", "no"),
)


@dataclass(frozen=True)
class BoardInfo:
    """What the hardware says about itself (``/system routerboard print``, ``/system resource print``)."""

    model: str = "RB952Ui-5ac2nD"
    board_name: str = "hAP ac lite"
    serial_number: str = "HE50A1B2C3D4"
    firmware: str = "7.15.3"
    architecture: str = "mipsbe"
    cpu: str = "MIPS 24Kc V7.4"
    cpu_count: int = 1
    cpu_frequency_mhz: int = 650
    total_memory_mib: float = 64.0
    total_hdd_mib: float = 16.0
    software_id: str = "ABCD-1234"
    ethernet: tuple[str, ...] = ("ether1", "ether2", "ether3", "ether4", "ether5", "wlan1", "wlan2")

    @classmethod
    def hap_ac_lite(cls, serial: str = "HE50A1B2C3D4") -> BoardInfo:
        return cls(serial_number=serial)

    @classmethod
    def rb5009(cls, serial: str = "HF20B1C2D3E4") -> BoardInfo:
        return cls(
            model="RB5009UG+S+",
            board_name="RB5009UG+S+",
            serial_number=serial,
            architecture="arm64",
            cpu="ARM64",
            cpu_count=4,
            cpu_frequency_mhz=1400,
            total_memory_mib=1024.0,
            total_hdd_mib=1024.0,
            ethernet=(*(f"ether{i}" for i in range(1, 9)), "sfp-sfpplus1"),
        )


def wg_public_key(private_key: str) -> str:
    """The WireGuard public key of a base64 private key (X25519), as RouterOS derives it."""
    raw = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    return base64.b64encode(raw.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def wg_private_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


Item = dict[str, str]  # argument -> value as printed, plus ".id" ("*1A")


@dataclass
class RouterOsState:
    """Everything one router remembers; JSON-ready through :meth:`to_dict` / :meth:`from_dict`.

    ``tables`` holds list and fixed menus (items in order), ``settings`` the single-record menus.
    ``tunnel_up`` says whether WireGuard peers complete handshakes (the orchestrator clears it
    when the station or the path is down); ``handshakes`` pins a peer's last handshake (epoch
    seconds, or None for never) by public key, overriding the 2-minute rekey rhythm.
    """

    board: BoardInfo = field(default_factory=BoardInfo)
    tables: dict[str, list[Item]] = field(default_factory=dict)
    settings: dict[str, dict[str, str]] = field(default_factory=dict)
    dhcp_servers: tuple[str, ...] = ("defconf",)
    boot_time: float = field(default_factory=time.time)
    next_id: int = 1
    tunnel_up: bool = True
    handshakes: dict[str, float | None] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    cpu_load: int = 2

    @classmethod
    def factory(
        cls, admin_password: str, board: BoardInfo | None = None, *, defconf: bool = True, now: float | None = None
    ) -> RouterOsState:
        """A router as it leaves the box: identity MikroTik, user admin, and (hAP style) defconf."""
        state = cls(board=board or BoardInfo())
        if now is not None:
            state.boot_time = now
        state.insert("user", {"name": "admin", "group": "full", "password": admin_password})
        for name, port, disabled in SERVICES:
            state.insert("ip service", {"name": name, "port": port, "disabled": disabled})
        if defconf:
            state.insert(
                "ip address",
                {"address": "192.168.88.1/24", "interface": "bridge", "network": "192.168.88.0", "comment": "defconf"},
            )
            for rule in DEFCONF_FILTER:
                state.insert("ip firewall filter", dict(rule))
            state.insert(
                "ip firewall nat",
                {
                    "chain": "srcnat",
                    "action": "masquerade",
                    "out-interface-list": "WAN",
                    "ipsec-policy": "out,none",
                    "comment": "defconf: masquerade",
                },
            )
        return state

    # -- items -----------------------------------------------------------------------------

    def table(self, path: str) -> list[Item]:
        return self.tables.setdefault(path, [])

    def setting(self, path: str) -> dict[str, str]:
        return self.settings.setdefault(path, {})

    def insert(self, path: str, item: Item, before: int | None = None) -> Item:
        item = {".id": f"*{self.next_id:X}", **item}
        self.next_id += 1
        rows = self.table(path)
        rows.insert(len(rows) if before is None else before, item)
        return item

    def interface_names(self) -> list[str]:
        return ["bridge", *self.board.ethernet, *(i["name"] for i in self.table("interface wireguard"))]

    def users(self) -> dict[str, Item]:
        return {u["name"]: u for u in self.table("user")}

    def check_password(self, user: str, password: str) -> bool:
        """Login check; the SSH layer strips netmiko's ``+ct511w4098h`` before asking."""
        u = self.users().get(user)
        return u is not None and u.get("disabled") != "yes" and secrets.compare_digest(u.get("password", ""), password)

    @property
    def identity(self) -> str:
        return self.setting("system identity").get("name", "MikroTik")

    def uptime_s(self, now: float) -> float:
        return max(0.0, now - self.boot_time)

    def last_handshake_age(self, peer: Item, now: float) -> float | None:
        """Seconds since the peer's last handshake, None if it never shook hands."""
        key = peer.get("public-key", "")
        if key in self.handshakes:
            at = self.handshakes[key]
            return None if at is None else max(0.0, now - at)
        if not self.tunnel_up or peer.get("disabled") == "yes" or not peer.get("endpoint-address"):
            return None
        return self.uptime_s(now) % REKEY_S

    # -- persistence -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "board": {**self.board.__dict__, "ethernet": list(self.board.ethernet)},
            "tables": {k: [dict(i) for i in v] for k, v in self.tables.items()},
            "settings": {k: dict(v) for k, v in self.settings.items()},
            "dhcp_servers": list(self.dhcp_servers),
            "boot_time": self.boot_time,
            "next_id": self.next_id,
            "tunnel_up": self.tunnel_up,
            "handshakes": dict(self.handshakes),
            "files": dict(self.files),
            "cpu_load": self.cpu_load,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RouterOsState:
        board = dict(data.get("board", {}))
        board["ethernet"] = tuple(board.get("ethernet", BoardInfo.ethernet))
        return cls(
            board=BoardInfo(**board),
            tables={k: [dict(i) for i in v] for k, v in data.get("tables", {}).items()},
            settings={k: dict(v) for k, v in data.get("settings", {}).items()},
            dhcp_servers=tuple(data.get("dhcp_servers", ("defconf",))),
            boot_time=float(data.get("boot_time", time.time())),
            next_id=int(data.get("next_id", 1)),
            tunnel_up=bool(data.get("tunnel_up", True)),
            handshakes=dict(data.get("handshakes", {})),
            files=dict(data.get("files", {})),
            cpu_load=int(data.get("cpu_load", 2)),
        )


DEFCONF_FILTER: tuple[dict[str, str], ...] = (
    {
        "chain": "input",
        "action": "accept",
        "connection-state": "established,related,untracked",
        "comment": "defconf: accept established,related,untracked",
    },
    {"chain": "input", "action": "drop", "connection-state": "invalid", "comment": "defconf: drop invalid"},
    {"chain": "input", "action": "accept", "protocol": "icmp", "comment": "defconf: accept ICMP"},
    {
        "chain": "input",
        "action": "drop",
        "in-interface-list": "!LAN",
        "comment": "defconf: drop all not coming from LAN",
    },
    {
        "chain": "forward",
        "action": "fasttrack-connection",
        "connection-state": "established,related",
        "hw-offload": "yes",
        "comment": "defconf: fasttrack",
    },
    {
        "chain": "forward",
        "action": "accept",
        "connection-state": "established,related,untracked",
        "comment": "defconf: accept established,related, untracked",
    },
    {"chain": "forward", "action": "drop", "connection-state": "invalid", "comment": "defconf: drop invalid"},
    {
        "chain": "forward",
        "action": "drop",
        "connection-state": "new",
        "connection-nat-state": "!dstnat",
        "in-interface-list": "WAN",
        "comment": "defconf: drop all from WAN not DSTNATed",
    },
)
