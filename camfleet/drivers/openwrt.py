"""OpenWrt link routers: design note, and the parser of ``uci show`` output the driver will stand on.

Status: designed and unit-tested on recorded output only; there is no OpenWrt simulator yet, so
no driver class is offered (the inventory may name ``device_type: linux`` routers; camfleet
renders nothing for them and says so, :func:`camfleet.config.routeros.render_router`).

Design (device-apis.md §5.3), the same shape as the RouterOS driver:

- netmiko ``device_type="linux"`` as ``root`` (dropbear, BusyBox ash, prompt ``root@OpenWrt:~#``).
- facts: ``ubus call system board`` (JSON: ``model``, ``release.version``), ``cat /proc/uptime``.
- running config: ``uci show network firewall dhcp system sqm`` parsed by :func:`parse_uci_show`
  into {config: {section: UciSection}}; named sections (``network.wg_station``) are keyed by name,
  anonymous ones (``@rule[3]``) by a ``name`` option camfleet gives every section it creates
  (``camfleet_...``), the way RouterOS items are keyed by a ``camfleet:`` comment.
- desired config: a template renders the same structure (WireGuard interface ``wg_station``
  with ``private_key``, a ``wireguard_wg_station`` peer, a ``camera`` zone with forwarding only to
  the ``station`` zone, ``rule`` sections for management, a ``dhcp host`` lease, ``sqm`` queue).
- apply: ``uci set``/``uci add_list``/``uci delete`` for the options that differ, then
  ``uci commit <config>`` and one reload per touched config (``/etc/init.d/network reload``,
  ``firewall reload``, ``dnsmasq reload``); firewall rule order is the order of ``rule``
  sections, so a reorder is ``uci reorder firewall.<name>=<n>``. Secrets (``private_key``) are
  masked exactly as for RouterOS; key drift is read from ``wg show wg_station public-key``.
- bandwidth: no simple-queue equivalent; ``sqm`` caps the whole uplink, a per-camera cap needs
  ``qosify`` or nft/tc rules (open question for the lead).

Try the parser by hand::

    .venv/bin/python -c "from camfleet.drivers.openwrt import parse_uci_show as p; \\
        print(p(\\"network.lan=interface\\nnetwork.lan.ipaddr='192.168.1.1'\\"))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(
    r"^(?P<config>[A-Za-z0-9_-]+)\.(?P<section>@?[A-Za-z0-9_]+(?:\[-?\d+\])?)(?:\.(?P<option>[A-Za-z0-9_]+))?=(?P<value>.*)$"
)
_WORD = re.compile(r"'((?:[^']|'\\'')*)'|(\S+)")
SECRET_OPTIONS = frozenset({"private_key", "preshared_key", "key", "password"})


class UciTextError(ValueError):
    """A line of ``uci show`` output that is not ``config.section[.option]=value``."""


@dataclass
class UciSection:
    """One uci section: its type (``interface``, ``rule``...) and its options (lists as lists)."""

    type: str
    options: dict[str, str | list[str]] = field(default_factory=dict)


def _values(text: str) -> list[str]:
    return [m[1].replace("'\\''", "'") if m[1] is not None else m[2] for m in _WORD.finditer(text)]


def parse_uci_show(text: str) -> dict[str, dict[str, UciSection]]:
    """``uci show`` output -> {config: {section: UciSection}}; a value of several quoted words is a list.

    uci quotes every value in single quotes (a quote inside as ``'\\''``); list options print all
    their items on one line, each quoted.
    """
    out: dict[str, dict[str, UciSection]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line.strip())
        if not m:
            raise UciTextError(f"line {number}: {line[:60]!r} is not config.section[.option]=value")
        sections = out.setdefault(m["config"], {})
        values = _values(m["value"])
        if m["option"] is None:
            sections.setdefault(m["section"], UciSection(values[0] if values else "")).type = (
                values[0] if values else ""
            )
            continue
        section = sections.setdefault(m["section"], UciSection(""))
        section.options[m["option"]] = values[0] if len(values) == 1 else values
    return out


def mask_uci(text: str) -> str:
    """Hide secret options in ``uci`` text: ``network.wg.private_key='...'`` -> ``private_key=<secret>``."""
    names = "|".join(sorted(SECRET_OPTIONS))
    return re.sub(rf"(\.(?:{names}))=('(?:[^']|'\\'')*'|\S+)", r"\1=<secret>", text)
