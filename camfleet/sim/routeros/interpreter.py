"""A MikroTik RouterOS 7 router in miniature: the console language it is driven with.

The simulated link routers (hAP ac lite at each camera site, RB5009 at the station) keep their
configuration in :class:`~camfleet.sim.routeros.state.RouterOsState`; :class:`RouterOsCli`
interprets the console lines netmiko sends, answering as RouterOS 7.15.3 does: the same menu
paths, ``add``/``set``/``remove``/``print``/``export`` commands, ``[find ...]`` item selection,
``/export`` text (hidden secrets, sorted arguments, lines wrapped at 79 columns with ``\\``) and
the same error lines. No sockets here; :mod:`camfleet.sim.routeros.server` puts this behind SSH.
Try it by hand without a network::

    .venv/bin/python -c "from camfleet.sim.routeros import *; s = RouterOsState.factory('pw'); \\
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

import ipaddress
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from camfleet.sim.routeros.menus import KNOWN_PATHS, MENU_BY_PATH, MENU_COMMANDS, UNSET, Menu
from camfleet.sim.routeros.printing import Printer
from camfleet.sim.routeros.state import Item, RouterOsState, wg_private_key, wg_public_key
from camfleet.sim.routeros.text import CliError, Token, pos, tokenize


@dataclass
class CliResult:
    """What one console line printed, whether it ended the session, whether it changed state."""

    output: str = ""
    quit: bool = False
    changed: bool = False


MUTATING = frozenset(("add", "set", "remove", "enable", "disable"))


Condition = tuple[str, str, str]  # (field, op, value) with op in "=", "!=", "~"


class RouterOsCli:
    """One console session: the current menu, and the commands typed into it."""

    def __init__(
        self, state: RouterOsState, user: str, *, clock: Callable[[], float] = time.time, width: int = 80
    ) -> None:
        self.state = state
        self.user = user
        self.clock = clock
        self.printer = Printer(state, clock, width)
        self.path: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """The terminal width ``print detail`` wraps at."""
        return self.printer.width

    @width.setter
    def width(self, value: int) -> None:
        self.printer.width = value

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
                raise CliError(f"expected end of command {pos(rest[0].column)}")
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
            ("system resource", "print"): self.printer.resource,
            ("system routerboard", "print"): self.printer.routerboard,
            ("interface", "print"): self.printer.interfaces,
        }
        if (path, name) in special:
            self._no_args(args)
            return CliResult(special[(path, name)]())
        menu = MENU_BY_PATH.get(path)
        if menu is None or name not in MENU_COMMANDS[menu.kind]:
            raise CliError(f"bad command name {name} {pos(cmd.column)}")
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
            raise CliError(f"expected end of command {pos(extra[0].column)}")

    @staticmethod
    def _flag(menu: Menu, tok: Token) -> str | None:
        """The argument a bare word names: a flag set (``blackhole``) or cleared (``!blackhole``), a
        property turned off (``!keepalive``); None if it names none."""
        f = menu.field(tok.text.removeprefix("!"))
        if f is None or "=" in tok.text:
            return None
        return f.name if f.flag or (f.unsettable and tok.text.startswith("!")) else None

    def _assignments(self, menu: Menu, args: list[Token], allowed: Iterable[str] = ()) -> dict[str, str]:
        values: dict[str, str] = {}
        for tok in args:
            if (flag := self._flag(menu, tok)) is not None:
                f = menu.field(flag)
                off = UNSET if f is not None and f.unsettable else ""
                values[flag] = off if tok.text.startswith("!") else "yes"
                continue
            key, eq, value = tok.text.partition("=")
            f = menu.field(key)
            if not eq or key in values or ((f is None or not f.settable) and key not in allowed):
                raise CliError(f"expected end of command {pos(tok.column)}")
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
        # a blackhole route needs no gateway [M: RouterOS 7 manual, IP Routing]
        missing = [r for r in menu.required if not values.get(r) and not (r == "gateway" and values.get("blackhole"))]
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
        refs = [a for a in args if ("=" not in a.text or a.text.startswith("[")) and self._flag(menu, a) is None]
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
                raise CliError(f"expected end of command {pos(args[1].column if args else 1)}")
            return self.printer.value(menu, self.state.setting(menu.path), args[0].text)
        if len(args) != 2:
            raise CliError(f"expected end of command {pos(args[-1].column if args else 1)}")
        return self.printer.value(menu, self._select(menu, args[:1])[0], args[1].text)

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
            raise CliError(f"bad command name {inner[0].text if inner else ''} {pos(column + 1)}")
        conds = self._conditions(inner[1:], column)
        return [i for i in self.state.table(menu.path) if self._matches(menu, i, conds)]

    def _conditions(self, toks: list[Token], column: int) -> list[Condition]:
        conds: list[Condition] = []
        for tok in toks:
            if tok.text in ("where", "and"):
                continue
            m = re.fullmatch(r"(!?)([a-z][a-z0-9.-]*)(?:(!=|=|~)(.*))?", tok.text, flags=re.S)
            if not m:
                raise CliError(f"expected end of command {pos(column + tok.column)}")
            if m[3] is None:  # a bare flag: disabled, !disabled, dynamic
                conds.append((m[2], "!=" if m[1] else "=", "yes"))
            else:
                conds.append((m[2], m[3], m[4]))
        return conds

    def _matches(self, menu: Menu, item: Item, conds: list[Condition]) -> bool:
        for key, op, want in conds:
            have = self.printer.value(menu, item, key)
            if key in ("mac-address",):
                have, want = have.upper(), want.upper()
            if key == "dynamic":
                have = "no"
            ok = bool(re.search(want, have)) if op == "~" else have == want
            if ok == (op == "!="):
                return False
        return True

    # -- print and export -------------------------------------------------------------------

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
                raise CliError(f"expected end of command {pos(tok.column)}")
        if menu.kind == "single":
            return self.printer.single(menu)
        rows = [(n, i) for n, i in enumerate(self.state.table(menu.path)) if self._matches(menu, i, conds)]
        if count_only:
            return str(len(rows))
        return self.printer.rows(menu, rows, mode)

    def _export(self, path: str, args: list[Token]) -> str:
        opts = {"show-sensitive": False, "terse": False, "verbose": False}
        file_name = None
        for tok in args:
            if tok.text in ("show-sensitive", "hide-sensitive", "terse", "verbose", "compact"):
                opts[tok.text] = True
            elif tok.text.startswith("file="):
                file_name = tok.text.split("=", 1)[1]
            else:
                raise CliError(f"expected end of command {pos(tok.column)}")
        text = self.printer.export(
            path, show_sensitive=opts["show-sensitive"], terse=opts["terse"], verbose=opts["verbose"]
        )
        if file_name:
            self.state.files[file_name if file_name.endswith(".rsc") else file_name + ".rsc"] = text
            return ""
        return text

    def export(
        self, path: str = "", *, show_sensitive: bool = False, terse: bool = False, verbose: bool = False
    ) -> str:
        """The text of ``/export`` (or ``/<path> export``): header, then each modelled section."""
        return self.printer.export(path, show_sensitive=show_sensitive, terse=terse, verbose=verbose)
