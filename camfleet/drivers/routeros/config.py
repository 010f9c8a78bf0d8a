"""RouterOS configuration as data: parse ``/export`` text, compare it with a desired config, plan commands.

The console's spelling (quoting, escapes, durations, rates) is :mod:`camfleet.drivers.routeros.text`.

Why section by section: RouterOS applies every console line at once (no candidate config, no
commit), so "apply the whole rendered file again" would duplicate ``add`` lines and flap the
firewall. Instead the desired config (rendered from the inventory, in the same ``.rsc`` language
as ``/export``) and the router's running ``/export`` are parsed into the same shape and compared
per menu, and only the lines that differ are sent; a second run sends nothing.

How each menu is compared (:data:`SECTION_RULES`):

- *unordered* menus (queues, DHCP leases, WireGuard peers, addresses, routes, NTP servers) match
  items by a key (``name``, ``mac-address``, ``public-key``, ``address``, ``dst-address``) and emit
  ``add``, ``set [find where key=...]`` or ``remove`` for the differences;
- the *ordered* firewall compares the camfleet rules (comment starting ``camfleet:``) as a list; if
  their content or order differs, or a foreign rule sits above them, they are rebuilt at the top of
  the table: the old ones are first re-labelled ``camfleet: stale``, the new ones added above them,
  and only then the stale ones removed, so the camera is never left without its isolation rules;
- *settings* menus (``/system identity``, ``/system clock``, ``/system ntp client``) and *fixed* menus
  (``/ip service``) compare key/values.

Items camfleet did not put there (no ``camfleet:`` comment: the defconf rules, a technician's
additions) are never removed. Secrets (``private-key``...) are never compared, printed or logged:
they are shown as ``<secret>``; a wrong WireGuard key is found through the public key the router
reports (``/interface wireguard print``), compared with the one derived from the vault's private key.
A backup is masked on its parsed lines (:func:`mask_export`), so a wrapped secret cannot slip by.

Bare words are read as RouterOS writes them (docs/reference/routeros.md §2): a flag
(``/ip route add blackhole ...``) or a property explicitly unset (``/interface gre add !keepalive ...``),
kept in :attr:`Entry.flags`, rendered in their sorted place among the arguments and compared like
values, so a route that gains or loses ``blackhole`` is drift.

Try it by hand::

    .venv/bin/python -c "from camfleet.drivers.routeros.config import *; \\
        d = parse_export('/queue simple\\nadd name=q target=10.0.0.0/29 max-limit=3M/3M comment=camfleet:q'); \\
        print(plan_changes(d, parse_export('')).commands)"
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from camfleet.drivers.routeros.text import (
    MASK,
    SCRIPT_KEYS,
    canonical_duration,
    canonical_rate,
    is_secret,
    join_continuations,
    mask,
    quote,
    raw_words,
    wireguard_public_key,
    words,
)

MANAGED_PREFIX = "camfleet:"
STALE_COMMENT = "camfleet: stale"  # firewall rules being replaced; still managed, so a rerun cleans up


class ConfigTextError(ValueError):
    """A line of ``.rsc`` text that is not ``add``/``set`` under a ``/menu`` header."""


#: A bare word on an ``add``/``set`` line: a flag (``blackhole`` of ``/ip route``, ``fib`` of
#: ``/routing table``, ``passive`` of an OSPF template) or a property explicitly unset
#: (``!keepalive`` of a GRE/EoIP/IPIP/6to4 tunnel, ``!keepalive-timeout`` of a hotspot profile).
_FLAG = re.compile(r"!?[a-z][a-z0-9.-]*")
#: How a flag reads among the key/values when items are compared (never sent: see :func:`assignment`).
FLAG_SET = "\x00flag"
FLAG_UNSET = "\x00!flag"


def assignment(key: str, value: str, *, masked: bool = False, path: str = "", force: bool = False) -> str:
    """One argument as a console word: ``key=value`` (quoted as needed), a flag ``key``, or ``!key``."""
    if value == FLAG_SET:
        return key
    if value == FLAG_UNSET:
        return "!" + key
    if masked and is_secret(key, path):
        return f"{key}={MASK}"
    if masked and key in SCRIPT_KEYS:  # a password typed into a script's source
        return f"{key}={mask(quote(value, force=force))}"
    return f"{key}={quote(value, force=force)}"


# ---------------------------------------------------------------------------------------------
# Parsed configuration


@dataclass(frozen=True)
class Entry:
    """One ``add`` or ``set`` line of a menu. ``target`` is what a ``set`` names (``telnet`` or
    ``[ find default-name=ether1 ]``); None for ``add`` lines and for settings menus."""

    command: str
    args: dict[str, str]
    target: str | None = None
    flags: tuple[str, ...] = ()  # bare words as written: "blackhole", "!keepalive"

    def fields(self) -> dict[str, str]:
        """The arguments with the flags among them (``blackhole`` -> FLAG_SET, ``!keepalive`` ->
        FLAG_UNSET): what is compared."""
        out = dict(self.args)
        for flag in self.flags:
            out[flag.lstrip("!")] = FLAG_UNSET if flag.startswith("!") else FLAG_SET
        return out

    @property
    def comment(self) -> str:
        return self.args.get("comment", "")

    @property
    def managed(self) -> bool:
        return self.comment.startswith(MANAGED_PREFIX)

    def line(self, *, masked: bool = True, skip: Iterable[str] = (), path: str = "") -> str:
        """The entry as a console line, arguments and flags sorted by name as /export sorts them
        (``allow-fast-path=no !keepalive local-address=...``); secrets masked by default."""
        parts = [self.command] + ([self.target] if self.target else [])
        fields = self.fields()
        for key in sorted(fields):
            if key not in skip:
                parts.append(assignment(key, fields[key], masked=masked, path=path))
        return " ".join(parts)


@dataclass
class RouterConfig:
    """A router configuration: menus (``ip firewall filter``) in file order, each with its entries."""

    sections: dict[str, list[Entry]] = field(default_factory=dict)

    def entries(self, path: str) -> list[Entry]:
        return self.sections.get(path, [])

    def text(self, *, masked: bool = True) -> str:
        """Unwrapped ``.rsc`` text, one entry per line; secrets masked unless asked otherwise."""
        lines: list[str] = []
        for path, entries in self.sections.items():
            lines.append(f"/{path}")
            lines += [e.line(masked=masked, path=path) for e in entries]
        return "\n".join(lines)


def _path_of(word: str) -> list[str]:
    return [p for p in word.split("/") if p]


def parse_export(text: str) -> RouterConfig:
    """Parse RouterOS 7 ``/export`` text (wrapped or terse) or a rendered ``.rsc`` file.

    Comments (``#``), blank lines and script lines (``:do``...) are skipped; ``/menu`` headers open
    sections; ``add``/``set`` lines become :class:`Entry`. Terse lines (``/ip address add ...``)
    carry their menu themselves. A bare word is a flag (``add blackhole dst-address=...``) or an
    unset property (``add !keepalive name=...``), kept in :attr:`Entry.flags`.
    """
    config = RouterConfig()
    current: str | None = None
    for number, raw in enumerate(join_continuations(text).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ":")):
            continue
        toks = words(line)
        path: list[str] = []
        k = 0
        if toks[0].startswith("/"):
            while (
                k < len(toks) and "=" not in toks[k] and toks[k] not in ("add", "set") and not toks[k].startswith("[")
            ):
                path += _path_of(toks[k])
                k += 1
            current = " ".join(path)
            config.sections.setdefault(current, [])
            if k == len(toks):
                continue
        if current is None:
            raise ConfigTextError(f"line {number}: {line[:60]!r} comes before any /menu header")
        command, rest = toks[k], toks[k + 1 :]
        if command not in ("add", "set"):
            raise ConfigTextError(f"line {number}: expected add or set, got {command!r}")
        target = None
        # "set telnet ...", "set [ find default=yes ] ...", "set 0 ...": what the line sets comes first.
        if command == "set" and rest and "=" not in rest[0].split("[")[0] and not rest[0].startswith("!"):
            target, rest = rest[0], rest[1:]
        args: dict[str, str] = {}
        flags: list[str] = []
        for word in rest:
            key, eq, value = word.partition("=")
            if eq and key:
                args[key] = value
            elif _FLAG.fullmatch(word):
                flags.append(word)
            else:
                raise ConfigTextError(f"line {number}: {word!r} is neither key=value nor a flag")
        config.sections[current].append(Entry(command, args, target, tuple(flags)))
    return config


def _menu_words(toks: list[str]) -> list[str]:
    """The menu words at the start of a line that starts with ``/`` (up to the command)."""
    out: list[str] = []
    for tok in toks:
        if "=" in tok or tok in ("add", "set") or tok.startswith(("[", '"')):
            break
        out += _path_of(tok)
    return out


def _logical_lines(text: str) -> Iterator[tuple[list[str], str]]:
    """Each console line of an export: its physical lines as written and the line they join into."""
    group: list[str] = []
    for physical in text.splitlines():
        group.append(physical)
        if not physical.endswith("\\"):
            yield group, join_continuations("\n".join(group))
            group = []
    if group:
        yield group, join_continuations("\n".join(group))


def mask_export(text: str) -> str:
    """``/export`` text with every secret value hidden, read as the parser reads it.

    Continuation lines are joined first (a wrapped ``password=\\`` continues on the next line), then
    every ``key=value`` word whose key is a secret in its menu (:func:`~.text.is_secret`) becomes
    ``key=<secret>``; secrets typed inside a script's source, a scheduler's ``on-event``... are
    masked as in a console line, and so are ``[ find ... ]`` selectors. A line with nothing to hide
    is kept as written, wrapped or not, comments included (the header says when and on what the
    export was taken); a masked line is written unwrapped, as ``/export terse`` would give it.
    """
    out: list[str] = []
    path = ""
    for group, line in _logical_lines(text):
        body = line.strip()
        if not body or body.startswith("#"):
            out += group
            continue
        raw = raw_words(body)
        if body.startswith("/"):
            path = " ".join(_menu_words(raw)) or path
        masked: list[str] = []
        for word in raw:
            key, eq, value = word.partition("=")
            if word.startswith("["):
                masked.append(mask(word))
            elif eq and key and '"' not in key and is_secret(key, path):
                masked.append(f"{key}={MASK}")
            elif eq and key in SCRIPT_KEYS:
                masked.append(f"{key}={mask(value)}")
            else:
                masked.append(word)
        if masked == raw:
            out += group
        else:
            out.append(line[: len(line) - len(line.lstrip())] + " ".join(masked))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


# ---------------------------------------------------------------------------------------------
# Canonical values: a value written by hand and the same value as /export prints it compare equal


def _prefixes(text: str) -> str:
    out = []
    for part in text.split(","):
        try:
            net = ipaddress.ip_network(part, strict=False)
        except ValueError:
            return text
        out.append(str(net) if "/" in part else f"{net.network_address}/{net.max_prefixlen}")
    return ",".join(out)


def _match_address(text: str) -> str:
    neg, body = ("!", text[1:]) if text.startswith("!") else ("", text)
    try:
        net = ipaddress.ip_network(body, strict=False)
    except ValueError:
        return text
    return neg + (str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net))


_CANON: dict[str, Callable[[str], str]] = {
    "mac-address": str.upper,
    "max-limit": lambda v: "/".join(canonical_rate(p) for p in v.split("/")),
    "limit-at": lambda v: "/".join(canonical_rate(p) for p in v.split("/")),
    "persistent-keepalive": canonical_duration,
    "allowed-address": _prefixes,
    "target": _prefixes,
    "src-address": _match_address,
    "dst-address": _match_address,
    "disabled": lambda v: {"true": "yes", "false": "no"}.get(v, v),
}


def canonical(key: str, value: str) -> str:
    # A flag is a yes/no property written bare: "disabled" is disabled=yes, "!disabled" disabled=no.
    if value in (FLAG_SET, FLAG_UNSET):
        return "yes" if value == FLAG_SET else "no"
    fn = _CANON.get(key)
    return fn(value) if fn else value


# ---------------------------------------------------------------------------------------------
# How each menu is compared


class Kind(StrEnum):
    unordered = "unordered"
    ordered = "ordered"
    settings = "settings"
    fixed = "fixed"


@dataclass(frozen=True)
class SectionRule:
    """How one menu is compared: its kind, the key that identifies an item, the values /export leaves
    out because they are defaults, and computed values that are never compared."""

    kind: Kind
    key: str = ""
    defaults: Mapping[str, str] = field(default_factory=dict)
    computed: frozenset[str] = frozenset()
    replace_on_extra: bool = True  # an unexpected argument on an item: remove and re-add it


_COMMON = {"disabled": "no", "comment": ""}
_FILTER = {"action": "accept", "log": "no", "log-prefix": ""}
SECTION_RULES: dict[str, SectionRule] = {
    "interface wireguard": SectionRule(
        Kind.unordered, "name", {"mtu": "1420", "listen-port": "13231"}, frozenset({"public-key"}), False
    ),
    "interface wireguard peers": SectionRule(
        Kind.unordered,
        "public-key",
        {"endpoint-port": "0", "persistent-keepalive": "0s", "endpoint-address": "", "responder": "no"},
    ),
    "ip address": SectionRule(Kind.unordered, "address", computed=frozenset({"network"})),
    "ip route": SectionRule(
        Kind.unordered,
        "dst-address",
        {"distance": "1", "routing-table": "main", "suppress-hw-offload": "no", "scope": "30", "target-scope": "10"},
    ),
    "queue simple": SectionRule(
        Kind.unordered,
        "name",
        {
            "limit-at": "0/0",
            "max-limit": "0/0",
            "parent": "none",
            "priority": "8/8",
            "queue": "default-small/default-small",
            "burst-limit": "0/0",
            "burst-threshold": "0/0",
            "burst-time": "0s/0s",
            "bucket-size": "0.1/0.1",
        },
    ),
    "ip dhcp-server lease": SectionRule(Kind.unordered, "mac-address", {"server": "all"}),
    "system ntp client servers": SectionRule(Kind.unordered, "address"),
    "ip firewall filter": SectionRule(Kind.ordered, defaults=_FILTER),
    "ip firewall nat": SectionRule(Kind.ordered, defaults=_FILTER),
    "ip service": SectionRule(Kind.fixed, "name", {"address": ""}),
    "system identity": SectionRule(Kind.settings, defaults={"name": "MikroTik"}),
    "system clock": SectionRule(Kind.settings, defaults={"time-zone-autodetect": "yes", "time-zone-name": "manual"}),
    "system ntp client": SectionRule(Kind.settings, defaults={"enabled": "no", "mode": "unicast"}),
}

#: Order in which changes are sent: an interface before the addresses, peers and rules naming it.
APPLY_ORDER = (
    "system identity",
    "system clock",
    "interface wireguard",
    "interface wireguard peers",
    "ip address",
    "ip route",
    "ip dhcp-server lease",
    "queue simple",
    "ip firewall filter",
    "ip firewall nat",
    "ip service",
    "system ntp client servers",
    "system ntp client",
)


def _value(rule: SectionRule, args: Mapping[str, str], key: str) -> str:
    return canonical(key, args.get(key, rule.defaults.get(key, _COMMON.get(key, ""))))


def differing_keys(rule: SectionRule, desired: Entry, running: Entry) -> tuple[list[str], list[str]]:
    """(keys whose value differs, keys the router has that the desired item does not, without default).

    Secrets and computed values are left out: they cannot be read back (or follow from others).
    Flags compare as values: a ``blackhole`` the desired item lacks is an extra key, a ``!keepalive``
    differs from a default one.
    """
    want, have = desired.fields(), running.fields()

    def skip(k: str) -> bool:
        return is_secret(k) or k in rule.computed

    changed = [k for k in sorted(want) if not skip(k) and _value(rule, want, k) != _value(rule, have, k)]
    known = set(rule.defaults) | set(_COMMON)
    extra = [
        k
        for k in sorted(have)
        if not skip(k) and k not in want and (k not in known or _value(rule, have, k) != _value(rule, {}, k))
    ]
    return changed, extra


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass
class Plan:
    """Console lines to send (secrets in clear: send them, never log them) and a masked diff."""

    commands: list[str] = field(default_factory=list)
    diff_lines: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.commands)

    def masked_commands(self) -> list[str]:
        return [mask(c) for c in self.commands]


def _was(key: str, value: str, wanted: str) -> str:
    """A running (canonical) value in a diff line, spelt as the wanted one: a flag as ``key``/``!key``."""
    if wanted in (FLAG_SET, FLAG_UNSET):
        value = FLAG_SET if value == "yes" else FLAG_UNSET
    return assignment(key, value)


def _find(key: str, value: str) -> str:
    return f"[find where {key}={quote(value, force=True)}]"


class _Planner:
    """Plans one menu at a time into a shared :class:`Plan`."""

    def __init__(self, plan: Plan, public_keys: Mapping[str, str] | None) -> None:
        self.plan = plan
        self.public_keys = public_keys

    def section(self, path: str, desired: list[Entry], running: list[Entry], present: bool) -> None:
        rule = SECTION_RULES.get(path)
        if rule is None:
            raise ConfigTextError(f"camfleet does not know how to compare /{path}")
        diff_before = len(self.plan.diff_lines)
        if rule.kind is Kind.unordered:
            self._unordered(path, rule, desired, running)
        elif rule.kind is Kind.ordered:
            self._ordered(path, rule, desired, running)
        elif present and rule.kind is Kind.settings:
            self._settings(path, rule, desired, running)
        elif present:
            self._fixed(path, rule, desired, running)
        if len(self.plan.diff_lines) > diff_before:
            self.plan.diff_lines.insert(diff_before, f"/{path}")

    def _send(self, path: str, line: str) -> None:
        self.plan.commands.append(f"/{path} {line}")

    def _diff(self, sign: str, entry: Entry) -> None:
        self.plan.diff_lines.append(f"{sign} {entry.line(masked=True)}")

    def _unordered(self, path: str, rule: SectionRule, desired: list[Entry], running: list[Entry]) -> None:
        by_key: dict[str, Entry] = {}
        leftovers: list[Entry] = []
        for r in running:
            k = _value(rule, r.args, rule.key)
            if k in by_key:
                leftovers.append(r)
            else:
                by_key[k] = r
        for d in desired:
            k = _value(rule, d.args, rule.key)
            if k not in by_key:
                self._send(path, d.line(masked=False))
                self._diff("+", d)
                continue
            r = by_key.pop(k)
            changed, extra = differing_keys(rule, d, r)
            key_note = self._key_drift(path, d)
            selector = _find(rule.key, r.args[rule.key])
            if extra and rule.replace_on_extra:
                self._send(path, f"remove {selector}")
                self._send(path, d.line(masked=False))
            elif changed or extra or key_note:
                want = d.fields()
                values = {key: want[key] for key in changed}
                # an extra flag is unset ("!blackhole"); an extra value goes back to its default
                values.update(
                    {key: rule.defaults.get(key, FLAG_UNSET if r.fields()[key] == FLAG_SET else "") for key in extra}
                )
                if key_note:
                    values.update({key: d.args[key] for key in d.args if is_secret(key)})
                assigns = " ".join(assignment(key, v, force=is_secret(key)) for key, v in values.items())
                self._send(path, f"set {selector} {assigns}")
            if changed or extra:
                self._diff("-", r)
                self._diff("+", d)
            if key_note:
                self.plan.diff_lines.append(key_note)
        for r in by_key.values():
            if r.managed:
                self._send(path, f"remove {_find(rule.key, r.args[rule.key])}")
                self._diff("-", r)
        for r in leftovers:  # a second item with the same key: only an exact match is safe to remove
            if r.managed:
                self._send(path, f"remove {self._exact(r)}")
                self._diff("-", r)

    @staticmethod
    def _exact(entry: Entry) -> str:
        conds = " ".join(
            assignment(k, v) if v in (FLAG_SET, FLAG_UNSET) else f"{k}={quote(v, force=True)}"
            for k, v in sorted(entry.fields().items())
            if not is_secret(k)
        )
        return f"[find where {conds}]"

    def _key_drift(self, path: str, desired: Entry) -> str:
        """A note when the router's WireGuard key is not the vault's (public keys only, never private)."""
        private = desired.args.get("private-key")
        if path != "interface wireguard" or not private or self.public_keys is None:
            return ""
        name = desired.args.get("name", "")
        have = self.public_keys.get(name)
        want = wireguard_public_key(private)
        if have == want:
            return ""
        return f"~ {name}: private-key=<secret> differs (router's public key {have or 'unknown'}, vault's {want})"

    def _ordered(self, path: str, rule: SectionRule, desired: list[Entry], running: list[Entry]) -> None:
        for d in desired:
            if not d.managed:
                raise ConfigTextError(f"/{path}: desired rule {d.line()!r} needs a comment starting {MANAGED_PREFIX!r}")
        comments = [d.comment for d in desired]
        if len(set(comments)) != len(comments) or STALE_COMMENT in comments:
            raise ConfigTextError(f"/{path}: the comments of the desired rules must be unique")
        managed_at = [i for i, r in enumerate(running) if r.managed]
        have = [running[i] for i in managed_at]
        same = len(have) == len(desired) and all(
            differing_keys(rule, d, r) == ([], []) for d, r in zip(desired, have, strict=True)
        )
        on_top = managed_at == list(range(len(managed_at)))
        if same and on_top:
            return
        before = [r.line() for r in have]
        after = [d.line() for d in desired]
        for line in difflib.ndiff(before, after):
            if line[:1] in "+-":
                self.plan.diff_lines.append(line[:1] + " " + line[2:])
        if same:
            first = running[0].line()
            self.plan.diff_lines.append(f"~ move the camfleet rules back to the top (above: {first})")
        if have:
            self._send(path, f'set [find where comment~"^{MANAGED_PREFIX}"] comment={quote(STALE_COMMENT)}')
        previous: Entry | None = None
        for d in reversed(desired):
            line = d.line(masked=False)
            if previous is not None:
                line += f" place-before={_find('comment', previous.comment)}"
            elif running:
                self._send(path, "print")  # numbers refer to the last print: 0 is the first rule now
                line += " place-before=0"
            self._send(path, line)
            previous = d
        if have:
            self._send(path, f"remove {_find('comment', STALE_COMMENT)}")

    def _settings(self, path: str, rule: SectionRule, desired: list[Entry], running: list[Entry]) -> None:
        want: dict[str, str] = {}
        for d in desired:
            want.update(d.fields())
        have: dict[str, str] = {}
        for r in running:
            have.update(r.fields())
        changed = [k for k in want if not is_secret(k) and _value(rule, want, k) != _value(rule, have, k)]
        if not changed:
            return
        self._send(path, "set " + " ".join(assignment(k, want[k]) for k in changed))
        self.plan.diff_lines.append("- set " + " ".join(_was(k, _value(rule, have, k), want[k]) for k in changed))
        self.plan.diff_lines.append("+ set " + " ".join(assignment(k, want[k]) for k in changed))

    def _fixed(self, path: str, rule: SectionRule, desired: list[Entry], running: list[Entry]) -> None:
        have = {r.target: r.fields() for r in running if r.target}
        for d in desired:
            want = d.fields()
            current = have.get(d.target or "", {})
            changed = [k for k in want if _value(rule, want, k) != _value(rule, current, k)]
            if changed:
                assigns = " ".join(assignment(k, want[k]) for k in changed)
                self._send(path, f"set {d.target} {assigns}")
                old = " ".join(_was(k, _value(rule, current, k), want[k]) for k in changed)
                self.plan.diff_lines += [f"- set {d.target} {old}", f"+ set {d.target} {assigns}"]


def plan_changes(desired: RouterConfig, running: RouterConfig, public_keys: Mapping[str, str] | None = None) -> Plan:
    """The console lines that turn ``running`` into ``desired``, and a masked diff for people.

    Every list menu camfleet manages is planned even when the desired config leaves it empty, so
    a camfleet item that is no longer wanted (a site taken out of service) is removed. Settings
    and fixed menus are compared only when the desired config names them. ``public_keys`` maps
    WireGuard interface names to the public key the router reports; None skips the key check.
    """
    plan = Plan()
    planner = _Planner(plan, public_keys)
    paths = [p for p in APPLY_ORDER if p in desired.sections or SECTION_RULES[p].kind in (Kind.unordered, Kind.ordered)]
    paths += [p for p in desired.sections if p not in APPLY_ORDER]
    for path in paths:
        planner.section(path, desired.entries(path), running.entries(path), path in desired.sections)
    return plan
