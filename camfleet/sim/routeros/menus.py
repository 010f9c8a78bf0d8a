"""The menus the simulated RouterOS console knows: each menu's kind and arguments, how every
argument value is checked and normalised to the form RouterOS prints back, and the order of
``/export`` sections.

Why a table: the console's commands (``add``/``set``/``print``/``export``...) are the same for
every menu; what differs is data. A value is stored as RouterOS shows it (``3000000/10M`` →
``3M/10M``, a bare address → ``/32`` in a prefix list, ``25`` → ``25s``), so an export read back
compares equal. [M] ``input does not match any value of X``, ``invalid value for argument X``;
[V] the export section order of RouterOS 7; [?] the text for an out-of-range value.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.routeros.menus import *; \
        print([f.name for f in MENU_BY_PATH['queue simple'].fields])"
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from camfleet.sim.routeros.state import RouterOsState
from camfleet.sim.routeros.text import CliError

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


Normaliser = Callable[["Field", str, RouterOsState], str]


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
    flag: bool = False  # a bare word: "add blackhole ..." sets it, "!blackhole" clears it, export prints "blackhole"
    unsettable: bool = False  # "!keepalive" turns it off (stored as UNSET), unlike leaving it at its default
    choices: tuple[str, ...] = ()
    bounds: tuple[int, int] = (0, 65535)


#: What an item stores for a property explicitly unset with ``!name`` (export prints ``!name``).
UNSET = "!"


def _n_keepalive(f: Field, v: str, s: RouterOsState) -> str:
    """A tunnel keepalive: ``interval,retries`` (``10s,10``); a bare interval keeps 10 retries [?]."""
    interval, _, retries = v.partition(",")
    secs = _duration_s(interval)
    if secs is None or (retries and not retries.isdigit()):
        raise CliError(f"invalid value for argument {f.name}")
    return f"{format_duration(secs)},{retries or '10'}"


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
    Menu(  # [V] 7.x exports: "/interface 6to4 add !keepalive name=6to4-redfox remote-address=..."
        "interface 6to4",
        "list",
        (
            _f("name", quoted=True),
            _f("local-address", _n_ip),
            _f("remote-address", _n_ip),
            _f("keepalive", _n_keepalive, default="10s,10", unsettable=True),
            COMMENT,
            DISABLED,
        ),
        columns=("NAME", "LOCAL-ADDRESS", "REMOTE-ADDRESS"),
        unique="name",
        auto_name="6to4-tunnel",
        flags="X - disabled; R - running",
    ),
    Menu(
        "ip route",
        "list",
        (
            _f("blackhole", flag=True),  # [V] 7.x exports: "add blackhole comment=... dst-address=..."
            _f("dst-address", _n_prefix_list, default="0.0.0.0/0", always=True),
            _f("gateway", _n_hosts),
            _f("distance", _n_int, default="1", bounds=(1, 255)),
            _f("routing-table", default="main", always=True),
            _f("suppress-hw-offload", _n_bool, default="no", always=True),
            COMMENT,
            _f("disabled", _n_bool, default="no", always=True),
        ),
        columns=("DST-ADDRESS", "GATEWAY", "DISTANCE"),
        required=("gateway",),  # or blackhole (see the interpreter's add)
        flags="D - dynamic; X - disabled, I - inactive, A - active; c - connect, s - static; B - blackhole",
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
    "interface 6to4",  # [V] after /interface ethernet, before vrrp and wireguard (a 7.7 export)
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

# Read-only menus and commands (no state of their own) that the console still knows.
EXTRA_PATHS = ("interface", "system resource", "system routerboard", "ip dhcp-server", "ip firewall", "system")

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
