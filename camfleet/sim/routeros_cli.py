"""A MikroTik RouterOS 7 router in miniature: its configuration state and its console language.

The simulated link routers (hAP ac lite at each camera site, RB5009 at the station) keep their
configuration here and interpret the console lines netmiko sends, answering as RouterOS 7.15.3
does: the same menu paths, ``add``/``set``/``remove``/``print``/``export`` commands, ``[find ...]``
item selection, ``/export`` text (hidden secrets, sorted arguments, lines wrapped at 79 columns
with ``\\``) and the same error lines. No sockets here; :mod:`camfleet.sim.routeros` puts this
behind SSH. Try it by hand without a network::

    .venv/bin/python -c "from camfleet.sim.routeros_cli import *; s = RouterOsState.factory('pw'); \\
        c = RouterOsCli(s, 'admin'); print(c.execute('/ip firewall filter add chain=forward action=drop').output); \\
        print(c.execute('/export').output)"

Facts checked against public captures (tags as in reference/device-apis.md):
[V] error texts ``bad command name X (line 1 column N)`` and ``expected end of command (line 1
column N)``; ISO date in the export header from 7.10 on; v7 prompt ``[user@id] /ip/address>``;
export layout (sections in a fixed order, ``add`` lines with sorted arguments, 79-column wrap,
breaks after ``key=``); ``/system ntp client set servers=`` becoming ``/system ntp client servers``;
peers named ``peerN`` by default and queues ``queueN``. [M] ``no such item``, ``input does not
match any value of X``, ``invalid value for argument X``, ``failure: ...`` wording; table layouts of
``print``. [?] exact ``failure:`` texts for missing values and duplicates (a real console prompts
interactively for a missing required value; we answer with one error line instead).
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROUTEROS_VERSION = "7.15.3"
BUILD_TIME = "2024-07-24 10:39:00"  # [?] build time of 7.15.3
EXPORT_WIDTH = 79  # no export line is longer, the trailing "\" included
REKEY_S = 120  # WireGuard re-handshakes every 2 minutes while traffic or keepalives flow

BANNER = f"""

  MMM      MMM       KKK                          TTTTTTTTTTT      KKK
  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK
  MMM MMMM MMM  III  KKK  KKK  RRRRRR     OOOOOO      TTT     III  KKK  KKK
  MMM  MM  MMM  III  KKKKK     RRR  RRR  OOO  OOO     TTT     III  KKKKK
  MMM      MMM  III  KKK KKK   RRRRRR    OOO  OOO     TTT     III  KKK KKK
  MMM      MMM  III  KKK  KKK  RRR  RRR   OOOOOO      TTT     III  KKK  KKK

  MikroTik RouterOS {ROUTEROS_VERSION} (c) 1999-2024       https://www.mikrotik.com/

Press F1 for help

"""


class CliError(Exception):
    """A console error: its text is exactly what RouterOS prints."""


def _pos(column: int) -> str:
    return f"(line 1 column {column})"


# ---------------------------------------------------------------------------------------------
# Values: every argument is checked and stored in the form RouterOS prints it back.


def _duration_s(text: str) -> int | None:
    if re.fullmatch(r"\d+", text):
        return int(text)
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d)", text):
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    parts = re.findall(r"(\d+)(w|d|h|ms|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    unit = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0}
    return sum(int(n) * unit[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """RouterOS style: 1w2d3h4m5s, leaving out zero units; 0s for nothing."""
    s = int(seconds)
    out = ""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out += f"{s // size}{unit}"
            s %= size
    return out or "0s"


def _rate_bps(text: str) -> int | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKMG]?)", text)
    if not m:
        return None
    mult = {"": 1, "k": 1000, "K": 1000, "M": 1_000_000, "G": 1_000_000_000}[m[2]]
    return int(float(m[1]) * mult)


def _format_rate(bps: int) -> str:
    for unit, size in (("G", 1_000_000_000), ("M", 1_000_000), ("k", 1000)):
        if bps and bps % size == 0:
            return f"{bps // size}{unit}"
    return str(bps)


def _is_host(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", text))


Normaliser = Callable[["Field", str, "RouterOsState"], str]


def _n_str(f: Field, v: str, s: RouterOsState) -> str:
    if f.choices and v not in f.choices:
        raise CliError(f"input does not match any value of {f.name}")
    return v


def _n_bool(f: Field, v: str, s: RouterOsState) -> str:
    table = {"yes": "yes", "no": "no", "true": "yes", "false": "no"}
    if v not in table:
        raise CliError(f"input does not match any value of {f.name}")
    return table[v]


def _n_int(f: Field, v: str, s: RouterOsState) -> str:
    if not re.fullmatch(r"\d+", v):
        raise CliError(f"invalid value for argument {f.name}")
    lo, hi = f.bounds
    if not lo <= int(v) <= hi:
        raise CliError(f"value of {f.name} out of range ({lo}..{hi})")
    return str(int(v))


def _n_duration(f: Field, v: str, s: RouterOsState) -> str:
    secs = _duration_s(v)
    if secs is None:
        raise CliError(f"invalid value for argument {f.name}")
    return format_duration(secs) if secs else "0s"


def _n_ip(f: Field, v: str, s: RouterOsState) -> str:
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        raise CliError(f"invalid value for argument {f.name}") from None


def _n_ip_or_host(f: Field, v: str, s: RouterOsState) -> str:
    try:
        return str(ipaddress.ip_address(v))
    except ValueError:
        if v == "" or _is_host(v):
            return v
        raise CliError(f"invalid value for argument {f.name}") from None


def _n_cidr(f: Field, v: str, s: RouterOsState) -> str:
    """An interface address: 10.77.0.2/24 stays; a bare address stays bare (a /32)."""
    try:
        return str(ipaddress.ip_interface(v)) if "/" in v else str(ipaddress.ip_address(v))
    except ValueError:
        raise CliError(f"invalid value for argument {f.name}") from None


def _n_match_addr(f: Field, v: str, s: RouterOsState) -> str:
    """Firewall address matcher: optional "!", an address, network or range."""
    body = v[1:] if v.startswith("!") else v
    try:
        if "-" in body:
            a, b = body.split("-", 1)
            ipaddress.ip_address(a)
            ipaddress.ip_address(b)
        elif "/" in body:
            net = ipaddress.ip_network(body, strict=False)
            body = str(net) if net.prefixlen != net.max_prefixlen else str(net.network_address)
        else:
            body = str(ipaddress.ip_address(body))
    except ValueError:
        raise CliError(f"invalid value for argument {f.name}") from None
    return ("!" if v.startswith("!") else "") + body


def _n_prefix_list(f: Field, v: str, s: RouterOsState) -> str:
    """Comma-separated networks; a bare address becomes a /32 (or /128), as RouterOS shows it."""
    out = []
    for part in v.split(","):
        try:
            net = ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise CliError(f"invalid value for argument {f.name}") from None
        out.append(str(net) if "/" in part else f"{net.network_address}/{net.max_prefixlen}")
    return ",".join(out)


def _n_mac(f: Field, v: str, s: RouterOsState) -> str:
    if not re.fullmatch(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}", v):
        raise CliError(f"invalid value for argument {f.name}")
    return v.upper().replace("-", ":")


def _n_rate(f: Field, v: str, s: RouterOsState) -> str:
    parts = v.split("/")
    rates = [_rate_bps(p) for p in parts]
    if len(parts) != 2 or None in rates:
        raise CliError(f"invalid value for argument {f.name}")
    return "/".join(_format_rate(r or 0) for r in rates)


def _n_ports(f: Field, v: str, s: RouterOsState) -> str:
    for part in v.split(","):
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b.isdigit() and int(b) <= 65535 for b in bounds):
            raise CliError(f"invalid value for argument {f.name}")
    return v


def _n_list_of_choices(f: Field, v: str, s: RouterOsState) -> str:
    words = v.split(",")
    if not all(w.lstrip("!") in f.choices for w in words):
        raise CliError(f"input does not match any value of {f.name}")
    return v


def _n_wg_key(f: Field, v: str, s: RouterOsState) -> str:
    try:
        ok = len(base64.b64decode(v, validate=True)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise CliError(f"invalid value for argument {f.name}")  # [?] real text differs
    return v


def _n_interface(f: Field, v: str, s: RouterOsState) -> str:
    neg = "!" if v.startswith("!") and f.name != "interface" else ""
    if v[len(neg) :] not in s.interface_names():
        raise CliError(f"input does not match any value of {f.name}")
    return v


def _n_wg_interface(f: Field, v: str, s: RouterOsState) -> str:
    if v not in [i["name"] for i in s.table("interface wireguard")]:
        raise CliError(f"input does not match any value of {f.name}")
    return v


def _n_interface_list(f: Field, v: str, s: RouterOsState) -> str:
    if v.lstrip("!") not in ("all", "none", "dynamic", "static", "WAN", "LAN"):
        raise CliError(f"input does not match any value of {f.name}")
    return v


def _n_dhcp_server(f: Field, v: str, s: RouterOsState) -> str:
    if v not in ("all", *s.dhcp_servers):
        raise CliError(f"input does not match any value of {f.name}")
    return v


def _n_timezone(f: Field, v: str, s: RouterOsState) -> str:
    if v != "manual":
        try:
            ZoneInfo(v)
        except (ValueError, KeyError, OSError):
            raise CliError(f"input does not match any value of {f.name}") from None
    return v


def _n_hosts(f: Field, v: str, s: RouterOsState) -> str:
    for part in v.split(","):
        _n_ip_or_host(f, part, s)
    return v


@dataclass(frozen=True)
class Field:
    """One argument of a menu item."""

    name: str
    norm: Normaliser = _n_str
    default: str | None = None  # value of an item that never set it; export leaves it out
    always: bool = False  # exported even at its default (RouterOS does so for mtu, listen-port...)
    sensitive: bool = False  # hidden by export and print unless show-sensitive
    settable: bool = True  # False: computed (public-key of an interface, network of an address)
    exported: bool = True
    quoted: bool = False  # print detail shows it as name="..."
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] = (0, 65535)


def _f(name: str, norm: Normaliser = _n_str, **kw: Any) -> Field:
    return Field(name, norm, **kw)


COMMENT = _f("comment", quoted=True)
DISABLED = _f("disabled", _n_bool, default="no")

ACTIONS = (
    "accept",
    "add-dst-to-address-list",
    "add-src-to-address-list",
    "drop",
    "fasttrack-connection",
    "jump",
    "log",
    "passthrough",
    "reject",
    "return",
    "tarpit",
)
NAT_ACTIONS = ("accept", "dst-nat", "masquerade", "netmap", "redirect", "return", "src-nat", "passthrough")
PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6", "gre", "ipsec-esp", "ipsec-ah", "ospf", "igmp", "sctp")
CONN_STATES = ("established", "related", "new", "invalid", "untracked")


@dataclass(frozen=True)
class Menu:
    """A console menu: its path, kind and the arguments its items take.

    kind: ``list`` (add/set/remove), ``single`` (one settings record: ``set key=value``),
    ``fixed`` (named items that exist from birth: ``/ip service set telnet disabled=yes``).
    """

    path: str
    kind: str
    fields: tuple[Field, ...]
    columns: tuple[str, ...] = ()  # table print columns; empty: print in detail form
    required: tuple[str, ...] = ()
    unique: str | None = None  # "name": items are also addressed by name
    auto_name: str | None = None  # prefix for a name given by RouterOS ("peer" -> peer1)
    exported: bool = True
    flags: str = "X - disabled"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


FILTER_FIELDS = (
    _f("chain"),
    _f("action", default="accept", always=True, choices=ACTIONS),
    _f("src-address", _n_match_addr),
    _f("dst-address", _n_match_addr),
    _f("src-address-list"),
    _f("dst-address-list"),
    _f("in-interface", _n_interface),
    _f("out-interface", _n_interface),
    _f("in-interface-list", _n_interface_list),
    _f("out-interface-list", _n_interface_list),
    _f("protocol", lambda f, v, s: v if v.isdigit() else _n_str(f, v, s), choices=PROTOCOLS),
    _f("src-port", _n_ports),
    _f("dst-port", _n_ports),
    _f("connection-state", _n_list_of_choices, choices=CONN_STATES),
    _f("connection-nat-state", _n_list_of_choices, choices=("srcnat", "dstnat")),
    _f("ipsec-policy"),
    _f("jump-target"),
    _f("reject-with"),
    _f("hw-offload", _n_bool),
    _f("log", _n_bool, default="no"),
    _f("log-prefix", quoted=True),
    _f("to-addresses", _n_match_addr),
    _f("to-ports", _n_ports),
    COMMENT,
    DISABLED,
)

MENUS: tuple[Menu, ...] = (
    Menu(
        "interface wireguard",
        "list",
        (
            _f("name", quoted=True),
            _f("listen-port", _n_int, default="13231", always=True),
            _f("mtu", _n_int, default="1420", always=True, bounds=(1280, 65536)),
            _f("private-key", _n_wg_key, sensitive=True, quoted=True),
            _f("public-key", settable=False, exported=False, quoted=True),
            COMMENT,
            DISABLED,
        ),
        unique="name",
        auto_name="wireguard",
        flags="X - disabled; R - running",
    ),
    Menu(
        "queue simple",
        "list",
        (
            _f("name", quoted=True),
            _f("target", _n_prefix_list),
            _f("max-limit", _n_rate, default="0/0"),
            _f("limit-at", _n_rate, default="0/0"),
            _f("parent", default="none"),
            _f("priority", default="8/8"),
            COMMENT,
            DISABLED,
        ),
        columns=("NAME", "TARGET", "MAX-LIMIT"),
        required=("target",),
        unique="name",
        auto_name="queue",
        flags="X - disabled, I - invalid; D - dynamic",
    ),
    Menu(
        "interface wireguard peers",
        "list",
        (
            _f("interface", _n_wg_interface),
            _f("name", quoted=True),
            _f("public-key", _n_wg_key, quoted=True),
            _f("preshared-key", _n_wg_key, sensitive=True, quoted=True),
            _f("endpoint-address", _n_ip_or_host),
            _f("endpoint-port", _n_int, default="0"),
            _f("allowed-address", _n_prefix_list),
            _f("persistent-keepalive", _n_duration, default="0s"),
            COMMENT,
            DISABLED,
        ),
        columns=("INTERFACE", "NAME", "PUBLIC-KEY", "ENDPOINT-ADDRESS", "ENDPOINT-PORT", "ALLOWED-ADDRESS"),
        required=("interface", "public-key"),
        unique="name",
        auto_name="peer",
        flags="X - disabled; D - dynamic",
    ),
    Menu(
        "ip address",
        "list",
        (
            _f("address", _n_cidr),
            _f("interface", _n_interface),
            _f("network", _n_ip, always=True),
            COMMENT,
            DISABLED,
        ),
        columns=("ADDRESS", "NETWORK", "INTERFACE"),
        required=("address", "interface"),
        flags="X - disabled, I - invalid; D - dynamic",
    ),
    Menu(
        "ip dhcp-server lease",
        "list",
        (
            _f("address", _n_ip),
            _f("mac-address", _n_mac),
            _f("server", _n_dhcp_server, default="all"),
            _f("client-id"),
            COMMENT,
            DISABLED,
        ),
        columns=("ADDRESS", "MAC-ADDRESS", "SERVER"),
        required=("address", "mac-address"),
        flags="X - disabled, R - radius, D - dynamic, B - blocked",
    ),
    Menu(
        "ip firewall filter", "list", FILTER_FIELDS, required=("chain",), flags="X - disabled, I - invalid; D - dynamic"
    ),
    Menu(
        "ip firewall nat",
        "list",
        tuple(
            _f("action", default="accept", always=True, choices=NAT_ACTIONS) if f.name == "action" else f
            for f in FILTER_FIELDS
        ),
        required=("chain",),
        flags="X - disabled, I - invalid; D - dynamic",
    ),
    Menu(
        "ip route",
        "list",
        (
            _f("dst-address", _n_prefix_list, default="0.0.0.0/0", always=True),
            _f("gateway", _n_hosts),
            _f("distance", _n_int, default="1", bounds=(1, 255)),
            _f("routing-table", default="main", always=True),
            _f("suppress-hw-offload", _n_bool, default="no", always=True),
            COMMENT,
            _f("disabled", _n_bool, default="no", always=True),
        ),
        columns=("DST-ADDRESS", "GATEWAY", "DISTANCE"),
        required=("gateway",),
        flags="D - dynamic; X - disabled, I - inactive, A - active; c - connect, s - static",
    ),
    Menu(
        "ip service",
        "fixed",
        (
            _f("name", settable=False),
            _f("port", _n_int),
            _f("address"),
            _f("disabled", _n_bool, default="no"),
        ),
        columns=("NAME", "PORT", "ADDRESS"),
        unique="name",
        flags="X - disabled, I - invalid",
    ),
    Menu(
        "user",
        "list",
        (
            _f("name", quoted=True),
            _f("group", default="read", choices=("full", "read", "write")),
            _f("password", sensitive=True, exported=False),
            _f("address"),
            COMMENT,
            DISABLED,
        ),
        columns=("NAME", "GROUP", "ADDRESS", "LAST-LOGGED-IN"),
        required=("name",),
        unique="name",
        exported=False,
        flags="X - disabled",
    ),
    Menu(
        "system clock",
        "single",
        (_f("time-zone-name", _n_timezone, default="manual"), _f("time-zone-autodetect", _n_bool, default="yes")),
    ),
    Menu("system identity", "single", (_f("name", default="MikroTik"),)),
    Menu(
        "system ntp client",
        "single",
        (
            _f("enabled", _n_bool, default="no"),
            _f("mode", default="unicast", choices=("unicast", "broadcast", "multicast", "manycast")),
            _f("servers", _n_hosts, exported=False),
        ),
    ),
    Menu(
        "system ntp client servers",
        "list",
        (_f("address", _n_ip_or_host), COMMENT, DISABLED),
        columns=("ADDRESS",),
        required=("address",),
    ),
)
MENU_BY_PATH = {m.path: m for m in MENUS}

# The order sections appear in a RouterOS 7 /export (those we model), taken from real exports.
EXPORT_ORDER = (
    "interface wireguard",
    "queue simple",
    "interface wireguard peers",
    "ip address",
    "ip dhcp-server lease",
    "ip firewall filter",
    "ip firewall nat",
    "ip route",
    "ip service",
    "system clock",
    "system identity",
    "system ntp client",
    "system ntp client servers",
)

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

# Read-only menus and commands (no state of their own) that the console still knows.
EXTRA_PATHS = ("interface", "system resource", "system routerboard", "ip dhcp-server", "ip firewall", "system")


# ---------------------------------------------------------------------------------------------
# The device


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


# ---------------------------------------------------------------------------------------------
# Text out: quoting and the export layout


_PLAIN = re.compile(r"[A-Za-z0-9_.:/,!*@%-]+")


def quote(value: str, force: bool = False) -> str:
    """A value as the console writes it: bare when safe, else in quotes with RouterOS escapes.

    Non-ASCII text (Vietnamese comments) is written byte by byte as ``\\XX``, as RouterOS does.
    """
    if not force and _PLAIN.fullmatch(value):
        return value
    out = []
    for ch in value:
        if ch in '"\\$?':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) > 126:
            out.extend(f"\\{b:02X}" for b in ch.encode())
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def wrap_export(words: list[str], first: str) -> list[str]:
    """Lay ``add a=1 b=2`` out the way /export does: lines of at most 79 columns ending in ``\\``,
    continuation lines indented by 4, and a break allowed right after ``key=``."""
    lines: list[str] = []
    line = first
    for n, word in enumerate(words):
        last = n == len(words) - 1
        sep = "" if line.endswith(" ") or line == "    " else " "
        room = EXPORT_WIDTH - (0 if last else 2)
        if len(line) + len(sep) + len(word) <= room:
            line += sep + word
            continue
        key, eq, value = word.partition("=")
        # A break after "key=" needs one column more than a break between words (seen in exports).
        if eq and value and len(line) + len(sep) + len(key) + 2 <= EXPORT_WIDTH - 1:
            lines.append(line + sep + key + "=\\")
            line = "    " + value
            continue
        lines.append(line.rstrip() + " \\")
        line = "    " + word
    lines.append(line)
    return lines


# ---------------------------------------------------------------------------------------------
# Text in: tokens


@dataclass(frozen=True)
class Token:
    text: str  # with quotes resolved (for key="a b": key=a b)
    column: int  # 1-based, where the token starts
    raw: str


def _unescape(body: str) -> str:
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", body[i + 1 : i + 3]):
                out.append(int(body[i + 1 : i + 3], 16))
                i += 3
                continue
            out.extend({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt).encode())
            i += 2
            continue
        out.extend(ch.encode())
        i += 1
    return out.decode(errors="replace")


def tokenize(line: str) -> list[Token]:
    """Split a console line into words; quotes and ``[ ... ]`` stay inside one word."""
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t":
            i += 1
            continue
        if line[i] == ";":
            raise CliError(f"expected end of command {_pos(i + 1)}")
        start = i
        text = ""
        depth = 0
        while i < n and (depth or line[i] not in " \t"):
            ch = line[i]
            if ch == '"':
                j = i + 1
                while j < n and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                if j >= n:
                    raise CliError(f"expected closing quote {_pos(n + 1)}")  # [?]
                text += line[i : j + 1] if depth else _unescape(line[i + 1 : j])
                i = j + 1
                continue
            if ch == "[":
                depth += 1
            elif ch == "]":
                if not depth:
                    raise CliError(f"syntax error {_pos(i + 1)}")
                depth -= 1
            text += ch
            i += 1
        if depth:
            raise CliError(f"expected closing bracket {_pos(n + 1)}")  # [?]
        tokens.append(Token(text, start + 1, line[start:i]))
    return tokens


# ---------------------------------------------------------------------------------------------
# The console


@dataclass
class CliResult:
    """What one console line printed, whether it ended the session, whether it changed state."""

    output: str = ""
    quit: bool = False
    changed: bool = False


MUTATING = frozenset(("add", "set", "remove", "enable", "disable"))


Condition = tuple[str, str, str]  # (field, op, value) with op in "=", "!=", "~"

MENU_COMMANDS = {
    "list": ("add", "set", "remove", "print", "export", "find", "enable", "disable", "get"),
    "fixed": ("set", "print", "export", "find", "enable", "disable", "get"),
    "single": ("set", "print", "export", "get"),
}


def _known_paths() -> set[str]:
    paths = set(MENU_BY_PATH) | set(EXTRA_PATHS)
    for p in list(paths):
        words = p.split()
        paths.update(" ".join(words[:k]) for k in range(1, len(words)))
    return paths


KNOWN_PATHS = _known_paths()


class RouterOsCli:
    """One console session: the current menu, and the commands typed into it."""

    def __init__(
        self, state: RouterOsState, user: str, *, clock: Callable[[], float] = time.time, width: int = 80
    ) -> None:
        self.state = state
        self.user = user
        self.clock = clock
        self.width = width
        self.path: tuple[str, ...] = ()

    def prompt(self) -> str:
        where = " /" + "/".join(self.path) if self.path else " "
        return f"[{self.user}@{self.state.identity}]{where}> "

    def execute(self, line: str) -> CliResult:
        """Run one console line; errors come back as RouterOS prints them, never as exceptions."""
        try:
            return self._execute(line)
        except CliError as err:
            return CliResult(str(err))

    def run_script(self, text: str) -> list[str]:
        """Run an .rsc script (an /export, say): joins ``\\`` continuations, skips comments; returns errors."""
        errors = []
        for line in re.sub(r"\\\r?\n\s*", "", text).splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                out = self.execute(line.strip()).output
                if out:
                    errors.append(f"{line.strip()}: {out}")
        return errors

    # -- parsing -----------------------------------------------------------------------------

    def _execute(self, line: str) -> CliResult:
        tokens = tokenize(line)
        if not tokens:
            return CliResult()
        path = () if line.lstrip().startswith("/") else self.path
        # Walk "/ip firewall filter add" or "/ip/firewall/filter/add" word by word to the command.
        command: Token | None = None
        rest: list[Token] = []
        for k, tok in enumerate(tokens):
            if "=" in tok.text or tok.text.startswith("["):
                rest = tokens[k:]
                break
            col = tok.column
            parts = tok.raw.split("/")
            for p, part in enumerate(parts):
                if command is not None:
                    break
                if part == "..":
                    path = path[:-1]
                elif part and " ".join((*path, part)) in KNOWN_PATHS:
                    path = (*path, part)
                elif part:
                    command = Token(part, col, part)
                    tail = "/".join(parts[p + 1 :])
                    rest = ([Token(tail, col + len(part) + 1, tail)] if tail else []) + tokens[k + 1 :]
                col += len(part) + 1
            if command is not None:
                break
        if command is None:
            if rest:
                raise CliError(f"expected end of command {_pos(rest[0].column)}")
            self.path = path
            return CliResult()
        return self._command(" ".join(path), command, rest)

    def _command(self, path: str, cmd: Token, args: list[Token]) -> CliResult:
        name = cmd.text
        if name in ("quit", "exit") and not path:
            return CliResult("interrupted", quit=True)
        if name == "export":
            return CliResult(self._export(path, args))
        special = {
            ("system resource", "print"): self._print_resource,
            ("system routerboard", "print"): self._print_routerboard,
            ("interface", "print"): self._print_interfaces,
        }
        if (path, name) in special:
            self._no_args(args)
            return CliResult(special[(path, name)]())
        menu = MENU_BY_PATH.get(path)
        if menu is None or name not in MENU_COMMANDS[menu.kind]:
            raise CliError(f"bad command name {name} {_pos(cmd.column)}")
        handler: dict[str, Callable[[Menu, list[Token]], str]] = {
            "add": self._add,
            "set": self._set,
            "remove": self._remove,
            "print": self._print,
            "find": lambda m, a: "",
            "enable": lambda m, a: self._toggle(m, a, "no"),
            "disable": lambda m, a: self._toggle(m, a, "yes"),
            "get": self._get,
        }
        return CliResult(handler[name](menu, args), changed=name in MUTATING)

    @staticmethod
    def _no_args(args: list[Token]) -> None:
        extra = [a for a in args if a.text not in ("without-paging",)]
        if extra:
            raise CliError(f"expected end of command {_pos(extra[0].column)}")

    def _assignments(self, menu: Menu, args: list[Token], allowed: Iterable[str] = ()) -> dict[str, str]:
        values: dict[str, str] = {}
        for tok in args:
            key, eq, value = tok.text.partition("=")
            f = menu.field(key)
            if not eq or key in values or ((f is None or not f.settable) and key not in allowed):
                raise CliError(f"expected end of command {_pos(tok.column)}")
            if key in allowed:
                values[key] = value
                continue
            assert f is not None
            values[key] = f.norm(f, value, self.state) if value != "" or f.choices else value
        return values

    def _apply(self, menu: Menu, item: Item, values: dict[str, str], path: str) -> None:
        """Store new values, clearing ones set back to empty, and keep derived ones current."""
        if menu.unique and values.get(menu.unique):
            clash = [i for i in self.state.table(path) if i.get(menu.unique) == values[menu.unique] and i is not item]
            if clash:
                raise CliError(f"failure: {path.split()[-1]} with the same {menu.unique} already exists")  # [?]
        for key, value in values.items():
            if value == "":
                item.pop(key, None)
            else:
                item[key] = value
        if path == "interface wireguard":
            if "private-key" not in item:
                item["private-key"] = wg_private_key()
            item["public-key"] = wg_public_key(item["private-key"])
        if path == "ip address" and "address" in values:
            item["network"] = str(ipaddress.ip_interface(item["address"]).network.network_address)

    # -- commands ----------------------------------------------------------------------------

    def _add(self, menu: Menu, args: list[Token]) -> str:
        path = menu.path
        values = self._assignments(menu, args, allowed=("place-before",) if "firewall" in path else ())
        before_ref = values.pop("place-before", None)
        missing = [r for r in menu.required if not values.get(r)]
        if missing:
            raise CliError(f"failure: {missing[0]} not specified")  # [?] a real console would prompt for it
        before = None
        if before_ref is not None:
            rows = self._select(menu, [Token(before_ref, 0, before_ref)])
            before = self.state.table(path).index(rows[0])
        item: Item = {}
        if menu.auto_name and not values.get("name"):
            taken = {i.get("name") for i in self.state.table(path)}
            values["name"] = next(
                f"{menu.auto_name}{k}" for k in range(1, 10_000) if f"{menu.auto_name}{k}" not in taken
            )
        self._apply(menu, item, values, path)
        self.state.insert(path, item, before)
        return ""

    def _set(self, menu: Menu, args: list[Token]) -> str:
        if menu.kind == "single":
            values = self._assignments(menu, args)
            if menu.path == "system ntp client" and "servers" in values:
                servers = values.pop("servers")
                self.state.tables["system ntp client servers"] = []
                for host in filter(None, servers.split(",")):
                    self.state.insert("system ntp client servers", {"address": host})
            settings = self.state.setting(menu.path)
            for key, value in values.items():
                if value == "":
                    settings.pop(key, None)
                else:
                    settings[key] = value
            return ""
        refs = [a for a in args if "=" not in a.text or a.text.startswith("[")]
        assigns = [a for a in args if a not in refs]
        if not refs:
            raise CliError("no such item")  # [?] a real console prompts for "numbers:"
        items = self._select(menu, refs)
        values = self._assignments(menu, assigns)
        for item in items:
            self._apply(menu, item, values, menu.path)
        return ""

    def _remove(self, menu: Menu, args: list[Token]) -> str:
        items = self._select(menu, args)
        ids = {i[".id"] for i in items}
        if menu.path == "user" and any(i.get("name") == self.user for i in items):
            raise CliError("failure: can not remove yourself")  # [?]
        self.state.tables[menu.path] = [i for i in self.state.table(menu.path) if i[".id"] not in ids]
        return ""

    def _toggle(self, menu: Menu, args: list[Token], disabled: str) -> str:
        for item in self._select(menu, args):
            item["disabled"] = disabled
        return ""

    def _get(self, menu: Menu, args: list[Token]) -> str:
        if menu.kind == "single":
            if len(args) != 1:
                raise CliError(f"expected end of command {_pos(args[1].column if args else 1)}")
            return self._value(menu, self.state.setting(menu.path), args[0].text)
        if len(args) != 2:
            raise CliError(f"expected end of command {_pos(args[-1].column if args else 1)}")
        return self._value(menu, self._select(menu, args[:1])[0], args[1].text)

    def _select(self, menu: Menu, refs: list[Token]) -> list[Item]:
        """Items named by numbers (``0,2``, ``1-3``), names, ``*1A`` ids or ``[find ...]``."""
        rows = self.state.table(menu.path)
        chosen: list[Item] = []
        if not refs:
            raise CliError("no such item")
        for tok in refs:
            text = tok.text.strip()
            if text.startswith("["):
                chosen.extend(self._find(menu, text, tok.column))
                continue
            for part in text.split(","):
                if m := re.fullmatch(r"(\d+)(?:-(\d+))?", part):
                    lo, hi = int(m[1]), int(m[2] or m[1])
                    if hi >= len(rows) or lo > hi:
                        raise CliError("no such item")
                    chosen.extend(rows[lo : hi + 1])
                    continue
                hit = [r for r in rows if r[".id"] == part or (menu.unique and r.get(menu.unique) == part)]
                if not hit:
                    raise CliError("no such item")
                chosen.extend(hit)
        unique: dict[str, Item] = {}
        for item in chosen:
            unique.setdefault(item[".id"], item)
        return list(unique.values())

    def _find(self, menu: Menu, expr: str, column: int) -> list[Item]:
        inner = tokenize(expr[1:-1])
        if inner and inner[0].text.startswith("/"):
            inner = inner[1:]  # [/ip firewall filter find ...]: same menu in our use
            while inner and inner[0].text != "find" and "=" not in inner[0].text:
                inner = inner[1:]
        if not inner or inner[0].text != "find":
            raise CliError(f"bad command name {inner[0].text if inner else ''} {_pos(column + 1)}")
        conds = self._conditions(inner[1:], column)
        return [i for i in self.state.table(menu.path) if self._matches(menu, i, conds)]

    def _conditions(self, toks: list[Token], column: int) -> list[Condition]:
        conds: list[Condition] = []
        for tok in toks:
            if tok.text in ("where", "and"):
                continue
            m = re.fullmatch(r"(!?)([a-z][a-z0-9.-]*)(?:(!=|=|~)(.*))?", tok.text, flags=re.S)
            if not m:
                raise CliError(f"expected end of command {_pos(column + tok.column)}")
            if m[3] is None:  # a bare flag: disabled, !disabled, dynamic
                conds.append((m[2], "!=" if m[1] else "=", "yes"))
            else:
                conds.append((m[2], m[3], m[4]))
        return conds

    def _matches(self, menu: Menu, item: Item, conds: list[Condition]) -> bool:
        for key, op, want in conds:
            have = self._value(menu, item, key)
            if key in ("mac-address",):
                have, want = have.upper(), want.upper()
            if key == "dynamic":
                have = "no"
            ok = bool(re.search(want, have)) if op == "~" else have == want
            if ok == (op == "!="):
                return False
        return True

    def _value(self, menu: Menu, item: Item, key: str) -> str:
        if key == "last-handshake" and menu.path == "interface wireguard peers":
            age = self.state.last_handshake_age(item, self.clock())
            return "" if age is None else format_duration(age)
        if key in item:
            return item[key]
        f = menu.field(key)
        return f.default if f and f.default is not None else ""

    # -- print -------------------------------------------------------------------------------

    def _print(self, menu: Menu, args: list[Token]) -> str:
        mode = "table" if menu.columns else "detail"
        conds: list[Condition] = []
        count_only = False
        for k, tok in enumerate(args):
            if tok.text in ("detail", "terse"):
                mode = tok.text
            elif tok.text == "count-only":
                count_only = True
            elif tok.text in ("without-paging", "brief"):
                continue
            elif tok.text == "where":
                conds = self._conditions(args[k + 1 :], 0)
                break
            else:
                raise CliError(f"expected end of command {_pos(tok.column)}")
        if menu.kind == "single":
            return self._print_single(menu)
        rows = [(n, i) for n, i in enumerate(self.state.table(menu.path)) if self._matches(menu, i, conds)]
        if count_only:
            return str(len(rows))
        props = [(n, i, self._shown(menu, i)) for n, i in rows]
        if mode == "terse":
            return "\n".join(
                f"{n:>2} {self._flags(menu, i)}{' ' if self._flags(menu, i) else ''}"
                + " ".join(f"{k}={v}" for k, v in p)
                for n, i, p in props
            )
        if mode == "detail":
            return self._print_detail(menu, props)
        return self._print_table(menu, props)

    def _shown(self, menu: Menu, item: Item) -> list[tuple[str, str]]:
        """Arguments as print shows them: schema order, secrets blanked, status values added."""
        out = []
        for f in menu.fields:
            if f.name in ("disabled", "comment") or f.name == "password":
                continue
            value = self._value(menu, item, f.name)
            if f.sensitive:
                value = ""
            if value == "" and not f.quoted and not f.sensitive:
                continue
            out.append((f.name, value))
        if menu.path == "interface wireguard peers":
            age = self.state.last_handshake_age(item, self.clock())
            up = age is not None
            out += [
                ("current-endpoint-address", item.get("endpoint-address", "") if up else ""),
                ("current-endpoint-port", item.get("endpoint-port", "0") if up else "0"),
                ("rx", f"{(self.state.uptime_s(self.clock()) // 10) * 148 if up else 0:.0f}"),
                ("tx", f"{(self.state.uptime_s(self.clock()) // 10) * 180 if up else 0:.0f}"),
            ]
            if up and age is not None:
                out.append(("last-handshake", format_duration(age)))
        return out

    def _flags(self, menu: Menu, item: Item) -> str:
        flags = "X" if item.get("disabled") == "yes" else ""
        if menu.path == "interface wireguard" and not flags:
            flags = "R"
        return flags

    def _print_detail(self, menu: Menu, props: list[tuple[int, Item, list[tuple[str, str]]]]) -> str:
        lines = [f"Flags: {menu.flags} "]
        for n, item, pairs in props:
            head = f"{n:>2} {self._flags(menu, item):>2} "
            words = [f'{k}="{v}"' if (menu.field(k) or Field(k)).quoted else f"{k}={v}" for k, v in pairs]
            cur = head + (f";;; {item['comment']}" if item.get("comment") else "")
            if item.get("comment"):
                lines.append(cur)
                cur = " " * 6
            for w in words:
                if len(cur) + len(w) + 1 > self.width and cur.strip():
                    lines.append(cur)
                    cur = " " * 6
                cur += w + " "
            lines.append(cur)
            lines.append("")
        return "\n".join(lines).rstrip("\n")

    def _print_table(self, menu: Menu, props: list[tuple[int, Item, list[tuple[str, str]]]]) -> str:
        cols = menu.columns
        cells = [[str(n), *(dict(p).get(c.lower(), "") for c in cols)] for n, _, p in props]
        head = ["#", *cols]
        widths = [max(len(r[k]) for r in [head, *cells]) for k in range(len(head))]

        def row(r: list[str], flags: str = "") -> str:
            first = f"{r[0]:<{widths[0]}} {flags:<1}"
            return (first + " " + "  ".join(c.ljust(w) for c, w in zip(r[1:], widths[1:], strict=True))).rstrip()

        lines = [f"Flags: {menu.flags}", "Columns: " + ", ".join(cols), row(head)]
        for (_, item, _), r in zip(props, cells, strict=True):
            if item.get("comment"):
                lines.append(f";;; {item['comment']}")
            lines.append(row(r, self._flags(menu, item)))
        return "\n".join(lines)

    def _print_single(self, menu: Menu) -> str:
        settings = self.state.setting(menu.path)
        pairs = [(f.name, settings.get(f.name, f.default or "")) for f in menu.fields if f.name != "servers"]
        if menu.path == "system ntp client":
            servers = [s["address"] for s in self.state.table("system ntp client servers")]
            pairs += [("servers", ",".join(servers)), ("vrf", "main")]
            enabled = settings.get("enabled") == "yes" and servers and self.state.tunnel_up
            pairs.append(
                ("status", "synchronized" if enabled else "stopped" if settings.get("enabled") != "yes" else "waiting")
            )
        if menu.path == "system clock":
            now = self._now()
            pairs = [
                ("time", now.strftime("%H:%M:%S")),
                ("date", now.strftime("%Y-%m-%d")),
                ("time-zone-autodetect", settings.get("time-zone-autodetect", "yes")),
                ("time-zone-name", settings.get("time-zone-name", "manual")),
                ("gmt-offset", now.strftime("%z")[:3] + ":" + now.strftime("%z")[3:]),
                ("dst-active", "no"),
            ]
        return self._kv(pairs)

    @staticmethod
    def _kv(pairs: list[tuple[str, str]]) -> str:
        width = max(len(k) for k, _ in pairs)
        return "\n".join(f"  {k:>{width}}: {v}" for k, v in pairs)

    def _now(self) -> datetime:
        tz = self.state.setting("system clock").get("time-zone-name", "manual")
        zone = UTC if tz == "manual" else ZoneInfo(tz)
        return datetime.fromtimestamp(self.clock(), tz=zone)

    def _print_resource(self) -> str:
        b = self.state.board
        used = 0.47
        return self._kv(
            [
                ("uptime", format_duration(self.state.uptime_s(self.clock()))),
                ("version", f"{ROUTEROS_VERSION} (stable)"),
                ("build-time", BUILD_TIME),
                ("factory-software", "6.44.6"),
                ("free-memory", f"{b.total_memory_mib * (1 - used):.1f}MiB"),
                ("total-memory", f"{b.total_memory_mib:.1f}MiB"),
                ("cpu", b.cpu),
                ("cpu-count", str(b.cpu_count)),
                ("cpu-frequency", f"{b.cpu_frequency_mhz}MHz"),
                ("cpu-load", f"{self.state.cpu_load}%"),
                ("free-hdd-space", f"{b.total_hdd_mib * 0.25:.1f}MiB"),
                ("total-hdd-space", f"{b.total_hdd_mib:.1f}MiB"),
                ("architecture-name", b.architecture),
                ("board-name", b.board_name),
                ("platform", "MikroTik"),
            ]
        )

    def _print_routerboard(self) -> str:
        b = self.state.board
        return self._kv(
            [
                ("routerboard", "yes"),
                ("board-name", b.board_name),
                ("model", b.model),
                ("serial-number", b.serial_number),
                ("firmware-type", "qca9531L" if b.architecture == "mipsbe" else "arm64"),
                ("factory-firmware", "6.44.6"),
                ("current-firmware", b.firmware),
                ("upgrade-firmware", ROUTEROS_VERSION),
            ]
        )

    def _print_interfaces(self) -> str:
        rows = [
            (n, "bridge" if n == "bridge" else "wlan" if n.startswith("wlan") else "ether")
            for n in self.state.interface_names()
        ]
        wg = {i["name"]: i for i in self.state.table("interface wireguard")}
        lines = [
            "Flags: R - RUNNING",
            "Columns: NAME, TYPE, ACTUAL-MTU",
            f"{'#':<3}  {'NAME':<16}{'TYPE':<8}ACTUAL-MTU",
        ]
        for k, (name, kind) in enumerate(rows):
            mtu = wg[name].get("mtu", "1420") if name in wg else "1500"
            lines.append(f"{k:<3}R {name:<16}{'wg' if name in wg else kind:<8}{mtu:>10}")
        return "\n".join(lines)

    # -- export ------------------------------------------------------------------------------

    def _export(self, path: str, args: list[Token]) -> str:
        opts = {"show-sensitive": False, "terse": False, "verbose": False}
        file_name = None
        for tok in args:
            if tok.text in ("show-sensitive", "hide-sensitive", "terse", "verbose", "compact"):
                opts[tok.text] = True
            elif tok.text.startswith("file="):
                file_name = tok.text.split("=", 1)[1]
            else:
                raise CliError(f"expected end of command {_pos(tok.column)}")
        text = self.export(path, show_sensitive=opts["show-sensitive"], terse=opts["terse"], verbose=opts["verbose"])
        if file_name:
            self.state.files[file_name if file_name.endswith(".rsc") else file_name + ".rsc"] = text
            return ""
        return text

    def export(
        self, path: str = "", *, show_sensitive: bool = False, terse: bool = False, verbose: bool = False
    ) -> str:
        """The text of ``/export`` (or ``/<path> export``): header, then each modelled section."""
        b = self.state.board
        now = self._now().strftime("%Y-%m-%d %H:%M:%S")
        lines = [
            f"# {now} by RouterOS {ROUTEROS_VERSION}",
            f"# software id = {b.software_id}",
            "#",
            f"# model = {b.model}",
            f"# serial number = {b.serial_number}",
        ]
        for section in EXPORT_ORDER:
            if path and section != path and not section.startswith(path + " "):
                continue
            menu = MENU_BY_PATH[section]
            body = self._export_section(menu, show_sensitive, verbose)
            if not body:
                continue
            if terse:
                lines += [f"/{section} {' '.join(words)}" for words in body]
            else:
                lines.append(f"/{section}")
                for words in body:
                    lines += wrap_export(words[1:], words[0] + " ")
        return "\n".join(lines)

    def _export_section(self, menu: Menu, show_sensitive: bool, verbose: bool) -> list[list[str]]:
        def words_of(values: dict[str, str], skip: tuple[str, ...] = ()) -> list[str]:
            out = []
            for f in sorted(menu.fields, key=lambda f: f.name):
                if not f.exported or f.name in skip:
                    continue
                value = values.get(f.name)
                if value is None and (f.always or verbose) and f.default is not None:
                    value = f.default
                if value is None or (value == f.default and not f.always and not verbose):
                    continue
                if f.sensitive and not show_sensitive:
                    continue
                out.append(f"{f.name}={quote(value, force=f.name in ('public-key', 'private-key', 'preshared-key'))}")
            return out

        if not menu.exported:
            return []
        if menu.kind == "single":
            words = words_of(self.state.setting(menu.path))
            return [["set", *words]] if words else []
        if menu.kind == "fixed":
            defaults = {name: {"port": port, "disabled": dis} for name, port, dis in SERVICES}
            body = []
            for item in self.state.table(menu.path):
                base = defaults.get(item["name"], {})
                changed = sorted(
                    k for k in ("address", "disabled", "port") if item.get(k, base.get(k, "")) != base.get(k, "")
                )
                if changed or verbose:
                    body.append(["set", item["name"], *(f"{k}={quote(item.get(k, ''))}" for k in changed)])
            return body
        return [["add", *words_of(item)] for item in self.state.table(menu.path)]
