"""What the simulated RouterOS console prints: ``print`` in its table, detail and terse forms, the
settings menus and the system reports (``/system resource``, ``/system routerboard``,
``/interface``), and the text of ``/export``.

Why apart from the interpreter: how an item is shown (secrets blanked, live WireGuard counters
and handshake ages added, flags, column widths) is a view over the state that the command
parser need not know. [M] table layouts of ``print``; [V] the export header (ISO date from 7.10
on), sorted arguments with flags as bare words in their place (``add blackhole comment=...``), the
79-column wrap (:func:`~camfleet.sim.routeros.text.wrap_export`) and hidden secrets unless
``show-sensitive``.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.routeros import *; c = RouterOsCli(RouterOsState.factory('pw'), 'admin'); \\
        print(c.execute('/ip firewall filter print').output); print(c.execute('/system resource print').output)"
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from camfleet.sim.routeros.menus import EXPORT_ORDER, MENU_BY_PATH, UNSET, Field, Menu, format_duration
from camfleet.sim.routeros.state import BUILD_TIME, ROUTEROS_VERSION, SERVICES, Item, RouterOsState
from camfleet.sim.routeros.text import quote, wrap_export

Props = list[tuple[int, Item, list[tuple[str, str]]]]


class Printer:
    """Print and export over one router's state, at the session's clock and terminal width."""

    def __init__(self, state: RouterOsState, clock: Callable[[], float], width: int) -> None:
        self.state = state
        self.clock = clock
        self.width = width

    def value(self, menu: Menu, item: Item, key: str) -> str:
        if key == "last-handshake" and menu.path == "interface wireguard peers":
            age = self.state.last_handshake_age(item, self.clock())
            return "" if age is None else format_duration(age)
        if key in item:
            return item[key]
        f = menu.field(key)
        return f.default if f and f.default is not None else ""

    # -- print -------------------------------------------------------------------------------

    def rows(self, menu: Menu, rows: list[tuple[int, Item]], mode: str) -> str:
        """Numbered items of a list menu in ``table``, ``detail`` or ``terse`` form."""
        props = [(n, i, self.shown(menu, i)) for n, i in rows]
        if mode == "terse":
            return "\n".join(
                f"{n:>2} {self.flags(menu, i)}{' ' if self.flags(menu, i) else ''}"
                + " ".join(self.word(menu, k, v) for k, v in p)
                for n, i, p in props
            )
        if mode == "detail":
            return self.detail(menu, props)
        return self.table(menu, props)

    @staticmethod
    def word(menu: Menu, key: str, value: str) -> str:
        """``key=value`` of a terse row; a flag that is set is its bare name."""
        f = menu.field(key)
        return key if f is not None and f.flag else f"{key}={value}"

    def shown(self, menu: Menu, item: Item) -> list[tuple[str, str]]:
        """Arguments as print shows them: schema order, secrets blanked, status values added."""
        out = []
        for f in menu.fields:
            if f.name in ("disabled", "comment") or f.name == "password":
                continue
            value = self.value(menu, item, f.name)
            if (f.flag and value != "yes") or value == UNSET:
                continue
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

    def flags(self, menu: Menu, item: Item) -> str:
        flags = "X" if item.get("disabled") == "yes" else ""
        if menu.path == "interface wireguard" and not flags:
            flags = "R"
        return flags

    def detail(self, menu: Menu, props: Props) -> str:
        lines = [f"Flags: {menu.flags} "]
        for n, item, pairs in props:
            head = f"{n:>2} {self.flags(menu, item):>2} "
            words = [f'{k}="{v}"' if (menu.field(k) or Field(k)).quoted else self.word(menu, k, v) for k, v in pairs]
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

    def table(self, menu: Menu, props: Props) -> str:
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
            lines.append(row(r, self.flags(menu, item)))
        return "\n".join(lines)

    def single(self, menu: Menu) -> str:
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
            now = self.now()
            pairs = [
                ("time", now.strftime("%H:%M:%S")),
                ("date", now.strftime("%Y-%m-%d")),
                ("time-zone-autodetect", settings.get("time-zone-autodetect", "yes")),
                ("time-zone-name", settings.get("time-zone-name", "manual")),
                ("gmt-offset", now.strftime("%z")[:3] + ":" + now.strftime("%z")[3:]),
                ("dst-active", "no"),
            ]
        return self.kv(pairs)

    @staticmethod
    def kv(pairs: list[tuple[str, str]]) -> str:
        width = max(len(k) for k, _ in pairs)
        return "\n".join(f"  {k:>{width}}: {v}" for k, v in pairs)

    def now(self) -> datetime:
        tz = self.state.setting("system clock").get("time-zone-name", "manual")
        zone = UTC if tz == "manual" else ZoneInfo(tz)
        return datetime.fromtimestamp(self.clock(), tz=zone)

    def resource(self) -> str:
        b = self.state.board
        used = 0.47
        return self.kv(
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

    def routerboard(self) -> str:
        b = self.state.board
        return self.kv(
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

    def interfaces(self) -> str:
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

    def export(
        self, path: str = "", *, show_sensitive: bool = False, terse: bool = False, verbose: bool = False
    ) -> str:
        """The text of ``/export`` (or ``/<path> export``): header, then each modelled section."""
        b = self.state.board
        now = self.now().strftime("%Y-%m-%d %H:%M:%S")
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
                if f.flag:  # [V] a bare word in its place in the sorted arguments: "add blackhole comment=..."
                    out += [f.name] if value == "yes" else []
                    continue
                if value == UNSET:  # [V] "add allow-fast-path=no !keepalive local-address=..."
                    out.append("!" + f.name)
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
