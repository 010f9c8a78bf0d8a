"""The RouterOS console language as the driver reads and writes it: words, quoting, masking, durations, rates.

Every other part of the RouterOS driver (``/export`` parsing and planning, ``print terse`` rows,
the WireGuard handshake ages the exporter reads) goes through these few functions, so each
RouterOS spelling is read in one place (device-apis.md §5.1):

- a value is bare when it is plain (``[A-Za-z0-9_.:/,!*@%-]``), else in double quotes with
  ``\\"``, ``\\\\``, ``\\$``, ``\\?``, ``\\n``, ``\\r``, ``\\t`` escaped and every other byte outside
  printable ASCII written as ``\\XX`` in capitals (Vietnamese comments come out byte by byte);
  reading, the manual's escapes (Scripting, "Constant Escape Sequences" [M]) also give ``\\_`` a
  space, ``\\a`` 0x07, ``\\b`` 0x08, ``\\f`` 0xFF (the manual's value [?]), ``\\v`` 0x0B, and ``\\XX``
  is hex only in capitals ("hex number should use capital letters"; a RouterOS 7.21 test suite
  records lower-case hex as a parse error [V, one source]): ``\\ab`` is BEL then ``b``;
- ``/export`` wraps long lines with a trailing ``\\`` and indents the continuation, even inside a
  value (``password=\\`` then the value on the next line): join first, then read;
- a secret is the value of any argument in :data:`SECRET_KEYS` (every secret-bearing RouterOS
  argument, sources in docs/reference/routeros.md §3); :func:`mask` hides them in one console line;
- durations are ``1w2d3h4m5s`` (any of the units, ``ms`` too), a bare number of seconds, or
  ``hh:mm:ss``; rates are ``3M``, ``2500k``, a bare number of bit/s.

    .venv/bin/python -c "from camfleet.drivers.routeros.text import *; \\
        print(quote('Trước chợ'), words('add comment=\\"a b\\" x=1'), parse_duration('1m5s'))"
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: Argument names whose values are secrets, in any menu: never compared, printed or logged.
#: A v7 dotted name (``security.passphrase`` of ``/interface wifi``) is a secret when its last part
#: is. Sources (docs/reference/routeros.md §3): the properties terraform-provider-routeros marks
#: ``Sensitive`` (resource_*.go), MikroTik's manual pages (WiFi ``passphrase``/``eap-password``,
#: RoMON ``secrets``, L2TP/GRE/EoIP/IPIP ``ipsec-secret``, RADIUS ``secret``, User Manager
#: ``shared-secret``), and the keys real public exports carry (v6 and v7, wrapped and terse).
SECRET_KEYS = frozenset(
    {
        # pre-shared keys: IPsec identities and v6 peers, tunnels' built-in IPsec, RADIUS, User Manager
        "secret",
        "pre-shared-key",
        "ipsec-secret",
        "shared-secret",
        "secrets",  # RoMON: a list of secrets
        # logins: /user, /ppp secret, pptp/l2tp/sstp/ovpn/pppoe clients, hotspot users, /tool e-mail,
        # containers, dot1x clients, VRRP v2 authentication
        "password",
        "mac-auth-password",
        "eap-password",
        "authentication-password",  # SNMP v3 community
        "encryption-password",  # SNMP v3 community
        "trap-community",  # /snmp: the community traps are sent with
        # WireGuard
        "private-key",
        "preshared-key",
        # wireless: v7 /interface wifi (security.passphrase), CAPsMAN, the v6 wireless package
        "passphrase",
        "wpa-pre-shared-key",
        "wpa2-pre-shared-key",
        "static-key-0",
        "static-key-1",
        "static-key-2",
        "static-key-3",
        "static-sta-private-key",
        "management-protection-key",
        "nv2-preshared-key",
        "nv2-sync-secret",
        # certificates
        "export-passphrase",
        "challenge-password",
        # routing protocols: BGP TCP MD5, OSPF authentication keys
        "tcp-md5-key",
        "auth-key",
        "authentication-key",
    }
)
#: Arguments that are secrets only in one menu, where their plain name means something else elsewhere:
#: an SNMP v1/v2c community's ``name`` is its password; ``key`` of ``/system ntp key`` is a symmetric
#: NTP key (but ``key`` of ``/user ssh-keys`` is a public key).
SECRET_KEYS_IN = {"snmp community": frozenset({"name"}), "system ntp key": frozenset({"key"})}
#: Arguments whose value is console script (a script's source, a scheduler's or netwatch's event):
#: secrets typed into them are masked as in a console line (best effort: they are the user's text).
SCRIPT_KEYS = frozenset(
    {
        "source",
        "on-event",
        "on-up",
        "on-down",
        "up-script",
        "down-script",
        "on-login",
        "on-logout",
        "script",
        "on-master",
        "on-backup",
        "test-script",
    }
)
MASK = "<secret>"


def is_secret(key: str, path: str = "") -> bool:
    """Whether argument ``key`` (``password``, ``security.passphrase``) of menu ``path`` holds a secret."""
    name = key.lstrip("!")
    return (
        name in SECRET_KEYS or name.rpartition(".")[2] in SECRET_KEYS or name in SECRET_KEYS_IN.get(path, frozenset())
    )


_PLAIN = re.compile(r"[A-Za-z0-9_.:/,!*@%-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "$": "\\$", "?": "\\?", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "_": b" ", "a": b"\x07", "b": b"\x08", "f": b"\xff", "v": b"\x0b"}
_HEX = re.compile(r"[0-9A-F]{2}")


def quote(value: str, force: bool = False) -> str:
    """A value as the console takes it: bare when safe, else in quotes with RouterOS escapes."""
    if not force and _PLAIN.fullmatch(value):
        return value
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 32 or ord(ch) > 126:
            out.extend(f"\\{b:02X}" for b in ch.encode())
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def unescape(body: str) -> str:
    """The text of a quoted value (without its quotes): ``\\XX`` bytes decoded as UTF-8."""
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            if _HEX.fullmatch(body[i + 1 : i + 3]):
                out.append(int(body[i + 1 : i + 3], 16))
                i += 3
                continue
            out.extend(_UNESCAPES.get(body[i + 1]) or body[i + 1].encode())
            i += 2
            continue
        out.extend(body[i].encode())
        i += 1
    return out.decode(errors="replace")


def _spans(line: str) -> list[tuple[int, int]]:
    """Where each word of a console line starts and ends: blanks split words except inside quotes
    or ``[ ... ]``."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t":
            i += 1
            continue
        start, depth = i, 0
        while i < n and (depth or line[i] not in " \t"):
            if line[i] == '"':
                i += 1
                while i < n and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
                i += 1
                continue
            depth += {"[": 1, "]": -1}.get(line[i], 0)
            i += 1
        out.append((start, min(i, n)))
    return out


def _decode(raw: str) -> str:
    """One raw word with its quoted parts unescaped; inside ``[ ... ]`` the text stays raw."""
    text, depth, i, n = "", 0, 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == '"':
            j = i + 1
            while j < n and raw[j] != '"':
                j += 2 if raw[j] == "\\" else 1
            text += raw[i : j + 1] if depth else unescape(raw[i + 1 : j])
            i = j + 1
            continue
        depth += {"[": 1, "]": -1}.get(ch, 0)
        text += ch
        i += 1
    return text


def raw_words(line: str) -> list[str]:
    """The words of one console line exactly as written (quotes and escapes kept)."""
    return [line[a:b] for a, b in _spans(line)]


def words(line: str) -> list[str]:
    """Split one console line into words: quotes resolved, ``[ find ... ]`` kept whole and raw."""
    return [_decode(line[a:b]) for a, b in _spans(line)]


def pairs(line: str) -> Iterator[tuple[str, str]]:
    """The ``key=value`` words of a line (``print terse`` rows, ``add`` lines), values unquoted."""
    for word in words(line):
        key, eq, value = word.partition("=")
        if eq and key:
            yield key, value


_SECRET_ARG = re.compile(
    r"(?<![\w.-])((?:[a-z0-9-]+\.)*(?:"
    + "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True))
    # the value: \"..\" inside a script's quoted source, "...", or a bare word (escapes kept)
    + r'))=(\\"(?:[^"\\]|\\[^"])*?\\"|"(?:[^"\\]|\\.)*"|(?:[^\s"\\]|\\.)+|\\$)'
)


def mask(text: str) -> str:
    """Hide every secret argument in one console line: ``private-key="..."`` -> ``private-key=<secret>``.

    For commands, log lines and error texts (a line at a time). A whole ``/export`` is masked on its
    parsed lines instead (:func:`camfleet.drivers.routeros.config.mask_export`): a wrapped value
    continues on the next line, where this pattern would not see it.
    """
    return _SECRET_ARG.sub(lambda m: f"{m[1]}={MASK}", text)


def join_continuations(text: str) -> str:
    """Undo the export's wrapping: a line ending in ``\\`` continues on the next (indented) one."""
    return re.sub(r"\\\r?\n {0,4}", "", text)


# ---------------------------------------------------------------------------------------------
# Durations and rates

_UNIT_S = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|[wdhms])")


def parse_duration(text: str) -> float | None:
    """Seconds of a RouterOS duration (``1w2d3h4m5s``, ``150ms``, ``25``, ``01:02:03``); None when unreadable."""
    text = text.strip().strip('"')
    if re.fullmatch(r"\d+", text):
        return float(text)
    if re.fullmatch(r"\d+:\d{2}:\d{2}", text):
        h, m, s = (int(p) for p in text.split(":"))
        return float(h * 3600 + m * 60 + s)
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """Whole seconds as RouterOS prints a duration: 3725 -> ``1h2m5s``, 0 -> ``0s``."""
    left = int(seconds)
    out = ""
    for unit in ("w", "d", "h", "m", "s"):
        size = int(_UNIT_S[unit])
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out or "0s"


def canonical_duration(text: str) -> str:
    """A duration as /export prints it (``25`` and ``00:00:25`` are ``25s``); unreadable text unchanged."""
    seconds = parse_duration(text)
    return text if seconds is None else format_duration(seconds)


def canonical_rate(text: str) -> str:
    """A rate as /export prints it: ``3000000`` and ``3000k`` are ``3M``; unreadable text unchanged."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKMG]?)", text)
    if not m:
        return text
    bps = int(float(m[1]) * {"": 1, "k": 1000, "K": 1000, "M": 10**6, "G": 10**9}[m[2]])
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 1000)):
        if bps and bps % size == 0:
            return f"{bps // size}{unit}"
    return str(bps)


def format_rate_mbps(mbps: float) -> str:
    """A bandwidth in Mbit/s written as RouterOS prints it: 3 -> ``3M``, 2.5 -> ``2500k``."""
    return canonical_rate(str(round(mbps * 1_000_000)))


def wireguard_public_key(private_key: str) -> str:
    """The WireGuard (X25519) public key of a base64 private key, as the router derives it."""
    raw = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    return base64.b64encode(raw.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
