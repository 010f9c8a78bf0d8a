"""Each link router's desired RouterOS configuration, rendered from the inventory and the vault.

A town camera rides a host household's internet; its site router (``templates/routeros/site.rsc.j2``)
must tunnel it to the station, keep it and the household's LAN apart in both directions, cap its
upstream and pin its address. The station's core router (``core.rsc.j2``) terminates every tunnel.
This module gathers the facts the templates need (all arithmetic happens here, the templates only
lay lines out) and renders them; :mod:`camfleet.drivers.routeros.config` compares the result with
the router's ``/export``.

Where each fact comes from:

- router identity = the router id; NTP servers = ``town.ntp_servers`` (the core leaves out its own
  address); time zone = ``town.timezone`` (Asia/Ho_Chi_Minh), autodetect off so it sticks;
- WireGuard keys: the vault's ``vault_wireguard_keys`` {router id: {private_key, public_key}}; a
  site's peer is the core router's public key; the core has every site as a peer with
  ``allowed-address`` = the site's tunnel address /32 + its camera subnet, and a route per subnet;
- the station's public address (``station_endpoint``) is not in the inventory yet: callers pass it;
- the station's tunnel address = the first host of the links' tunnel network (10.77.0.1 for
  10.77.0.11/24) and the station LAN = the core router's address /24 (192.168.10.0/24); both can
  be overridden (:class:`LinkOptions`);
- camera subnet: the router is its ``.1`` on ``camera_port`` (ether5 on a hAP ac lite); each
  camera on the link with a MAC and an address gets a static DHCP lease; the simple queue caps the
  whole subnet at ``camera_share_mbps`` both ways (``max-limit`` is upload/download seen from the
  target, so the first number is the camera's upstream).

Render by hand::

    .venv/bin/python -c "from camfleet.inventory import load; from camfleet.config.routeros import *; \\
        f = load('tests/fixtures/mini-town').fleet; \\
        print(render_router(f, 'lr-01', demo_keys(f), LinkOptions(station_endpoint='203.0.113.10')))"
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2

from camfleet.drivers.routeros.text import format_rate_mbps, quote, wireguard_public_key
from camfleet.inventory.fleet import Fleet
from camfleet.model import Camera, Link, LinkRouter, RouterRole
from camfleet.paths import TEMPLATES

WG_PORT = 13231
KEEPALIVE = "25s"  # sites sit behind household NAT: keep the mapping open so the station can reach them
MANAGEMENT_PORTS = "22,8291,8728,8729"  # SSH, winbox, API, API-SSL
PLAINTEXT_SERVICES = ("telnet", "ftp", "www")


class LinkConfigError(ValueError):
    """The inventory or the vault cannot give a router a sound configuration; says what to fix."""


@dataclass(frozen=True)
class WireguardKeys:
    """One router's WireGuard key pair from the vault."""

    private_key: str = field(repr=False)
    public_key: str

    def __post_init__(self) -> None:
        if wireguard_public_key(self.private_key) != self.public_key:
            raise LinkConfigError("vault_wireguard_keys: public_key does not belong to private_key")


@dataclass(frozen=True)
class LinkOptions:
    """What the inventory does not (yet) say about the links."""

    station_endpoint: str | None = None  # the station's public address or name (sites dial it)
    station_port: int = WG_PORT
    camera_port: str = "ether5"  # the site router port the camera is cabled to
    site_interface: str = "wg-station"  # WireGuard interface name on site routers
    core_interface: str = "wg-sites"  # ... and on the core router
    station_tunnel_address: str | None = None  # default: first host of the links' tunnel network
    station_lan: str | None = None  # default: the core router's address /24


def wireguard_keys(vault: Mapping[str, Any]) -> dict[str, WireguardKeys]:
    """The key pairs from decrypted vault data (``vault_wireguard_keys`` or the mapping itself)."""
    data = vault.get("vault_wireguard_keys", vault)
    try:
        return {rid: WireguardKeys(v["private_key"], v["public_key"]) for rid, v in data.items()}
    except (KeyError, TypeError, ValueError) as err:
        raise LinkConfigError(f"vault_wireguard_keys: each router needs private_key and public_key ({err})") from None


def demo_keys(fleet: Fleet) -> dict[str, WireguardKeys]:
    """Fresh random key pairs for every router of a fleet (for towns without a vault, and tests)."""
    out = {}
    for rid in fleet.link_routers:
        private = base64.b64encode(secrets.token_bytes(32)).decode()
        out[rid] = WireguardKeys(private, wireguard_public_key(private))
    return out


# ---------------------------------------------------------------------------------------------
# Facts for the templates


def _core(fleet: Fleet) -> LinkRouter:
    cores = [r for r in fleet.link_routers.values() if r.role is RouterRole.core]
    if len(cores) != 1:
        raise LinkConfigError(f"the town needs exactly one link router with role: core, found {len(cores)}")
    return cores[0]


def _keys(keys: Mapping[str, WireguardKeys], router_id: str) -> WireguardKeys:
    if router_id not in keys:
        raise LinkConfigError(f"{router_id}: no WireGuard keys in vault_wireguard_keys; add {router_id}: {{...}}")
    return keys[router_id]


def station_tunnel_address(fleet: Fleet, options: LinkOptions) -> ipaddress.IPv4Interface:
    """The core's tunnel address: given, or the first host of the links' (common) tunnel network."""
    nets = {ipaddress.IPv4Interface(link.tunnel_address).network for link in fleet.links.values()}
    if options.station_tunnel_address:
        return ipaddress.IPv4Interface(options.station_tunnel_address)
    if len(nets) != 1:
        raise LinkConfigError(f"links use {len(nets)} tunnel networks; give LinkOptions.station_tunnel_address")
    net = nets.pop()
    return ipaddress.IPv4Interface(f"{net.network_address + 1}/{net.prefixlen}")


def station_lan(fleet: Fleet, options: LinkOptions) -> ipaddress.IPv4Network:
    if options.station_lan:
        return ipaddress.IPv4Network(options.station_lan, strict=False)
    return ipaddress.IPv4Network(f"{_core(fleet).address}/24", strict=False)


@dataclass(frozen=True)
class CameraLease:
    camera_id: str
    mac: str
    address: str


def _leases(link: Link, cameras: list[Camera]) -> tuple[list[CameraLease], list[str]]:
    """Static leases for the link's cameras, and notes on the ones that cannot have one."""
    subnet = ipaddress.IPv4Network(link.camera_subnet)
    gateway = subnet.network_address + 1
    leases, notes = [], []
    for cam in sorted(cameras, key=lambda c: c.id):
        mac = cam.device.mac if cam.device else None
        address = cam.network.address
        if not mac or not address:
            notes.append(f"{cam.id}: no {'MAC' if not mac else 'address'} in the inventory, no static lease")
            continue
        ip = ipaddress.IPv4Address(address)
        if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address, gateway):
            raise LinkConfigError(
                f"{cam.id}: network.address {address} must be a host of {link.id}'s camera_subnet "
                f"{link.camera_subnet} other than the router's {gateway}"
            )
        leases.append(CameraLease(cam.id, mac.upper(), address))
    return leases, notes


def site_context(
    fleet: Fleet, router: LinkRouter, keys: Mapping[str, WireguardKeys], options: LinkOptions
) -> dict[str, Any]:
    """Everything ``site.rsc.j2`` lays out for one site router."""
    links = fleet.links_of_router(router.id)
    if len(links) != 1:
        raise LinkConfigError(f"{router.id}: a site router carries exactly one link, the inventory gives {len(links)}")
    if not options.station_endpoint:
        raise LinkConfigError(
            f"{router.id}: the station's public address is not in the inventory; pass station_endpoint"
        )
    link: Link = links[0]
    subnet = ipaddress.IPv4Network(link.camera_subnet)
    tunnel = ipaddress.IPv4Interface(link.tunnel_address)
    station = station_tunnel_address(fleet, options)
    if tunnel.network != station.network:
        raise LinkConfigError(f"{link.id}: tunnel_address {tunnel} is outside the station's tunnel {station.network}")
    leases, notes = _leases(link, fleet.cameras_on_link(link.id))
    own, core = _keys(keys, router.id), _keys(keys, _core(fleet).id)
    return {
        "router": router,
        "link": link,
        "town": fleet.town,
        "o": options,
        "private_key": own.private_key,
        "station_public_key": core.public_key,
        "station_allowed": f"{station.ip}/32,{station_lan(fleet, options)}",
        "station_lan": str(station_lan(fleet, options)),
        "tunnel_address": str(tunnel),
        "camera_subnet": str(subnet),
        "camera_gateway": f"{subnet.network_address + 1}/{subnet.prefixlen}",
        "camera_rate": f"{format_rate_mbps(link.camera_share_mbps)}/{format_rate_mbps(link.camera_share_mbps)}",
        "leases": leases,
        "notes": notes,
        "ntp_servers": list(fleet.town.ntp_servers),
        "management_ports": MANAGEMENT_PORTS,
        "plaintext_services": PLAINTEXT_SERVICES,
        "keepalive": KEEPALIVE,
    }


def core_context(
    fleet: Fleet, router: LinkRouter, keys: Mapping[str, WireguardKeys], options: LinkOptions
) -> dict[str, Any]:
    """Everything ``core.rsc.j2`` lays out: the station's end of every tunnel."""
    station = station_tunnel_address(fleet, options)
    peers = []
    for link in sorted(fleet.links.values(), key=lambda lk: lk.router):
        site_router = fleet.link_routers.get(link.router)
        if site_router is None or site_router.role is not RouterRole.site:
            continue
        tunnel = ipaddress.IPv4Interface(link.tunnel_address)
        peers.append(
            {
                "router": site_router.id,
                "link": link.id,
                "public_key": _keys(keys, site_router.id).public_key,
                "allowed": f"{tunnel.ip}/32,{ipaddress.IPv4Network(link.camera_subnet)}",
                "camera_subnet": str(ipaddress.IPv4Network(link.camera_subnet)),
            }
        )
    return {
        "router": router,
        "town": fleet.town,
        "o": options,
        "private_key": _keys(keys, router.id).private_key,
        "tunnel_address": str(station),
        "peers": peers,
        "ntp_servers": [s for s in fleet.town.ntp_servers if s != router.address],
        "plaintext_services": PLAINTEXT_SERVICES,
    }


# ---------------------------------------------------------------------------------------------
# Rendering


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(  # noqa: S701 - RouterOS script, not HTML: values are quoted by the `ros` filter
        loader=jinja2.FileSystemLoader(TEMPLATES / "routeros"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["ros"] = lambda v: quote(str(v))
    env.filters["ros_q"] = lambda v: quote(str(v), force=True)
    return env


_ENV: jinja2.Environment | None = None


def render_router(
    fleet: Fleet, router_id: str, keys: Mapping[str, WireguardKeys], options: LinkOptions | None = None
) -> str:
    """The desired ``.rsc`` text of one link router (site or core). Contains its private key: send it
    to the router, never print or log it (:func:`camfleet.drivers.routeros.text.mask` hides it)."""
    global _ENV
    options = options or LinkOptions()
    router = fleet.link_routers.get(router_id)
    if router is None:
        raise LinkConfigError(f"{router_id}: no such link router in the inventory")
    if router.device_type != "mikrotik_routeros":
        raise LinkConfigError(f"{router_id}: device_type {router.device_type} has no RouterOS template")
    if _ENV is None:
        _ENV = _environment()
    if router.role is RouterRole.core:
        return _ENV.get_template("core.rsc.j2").render(core_context(fleet, router, keys, options))
    return _ENV.get_template("site.rsc.j2").render(site_context(fleet, router, keys, options))
