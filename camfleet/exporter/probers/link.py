"""``link``: is the household link router reachable, how far away is it, does its tunnel shake hands?

Reachability is the router's SSH banner (:func:`camfleet.probes.ssh.ssh_banner`): no login, ~1 ms,
nothing in the router's log; the connect time is the round trip. With ``wireguard: true`` the
module also logs in once and reads each WireGuard peer's last handshake through the RouterOS
driver's reader (:mod:`camfleet.drivers.routeros.monitor`): a tunnel that stopped shaking hands
is a link that carries no camera even if SSH still answers on another path. Run that module less
often. It logs in only to a router whose SSH host key was pinned by the links playbook and is
still the same (:mod:`camfleet.drivers.routeros.hostkeys`); else it fails with ``host_key_unknown``
or ``host_key_changed`` and the password is never sent.

Sample output (``curl '127.0.0.1:9830/probe?target=lr-01-01&module=link_wireguard'``)::

    camfleet_link_up 1.0
    camfleet_link_rtt_seconds 0.0004
    camfleet_link_banner_seconds 0.0011
    camfleet_link_wireguard_handshake_age_seconds{peer="station"} 65.0
"""

from __future__ import annotations

from camfleet.drivers.routeros.hostkeys import known_hosts
from camfleet.drivers.routeros.monitor import MonitorError, wireguard_handshakes
from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest
from camfleet.probes.ssh import ssh_banner

UP_HELP = "1 if the router's SSH port answers with an SSH banner."


async def _wireguard(req: ProbeRequest, out: Metrics) -> Outcome | None:
    where = req.endpoint
    try:
        ages = await wireguard_handshakes(
            req.target.id,
            where.host,
            where.ssh_port or 22,
            req.username,
            req.password,
            timeout=req.remaining(),
            known_hosts=known_hosts(req.fleet),
        )
    except MonitorError as exc:
        return Outcome.fail(exc.reason, str(exc))
    for peer, age in ages.items():
        if age is not None:
            out.gauge(
                "camfleet_link_wireguard_handshake_age_seconds",
                "Seconds since the WireGuard peer's last handshake.",
                age,
                peer=peer,
            )
        out.gauge(
            "camfleet_link_wireguard_peer_handshaken",
            "1 if the WireGuard peer ever completed a handshake.",
            age is not None,
            peer=peer,
        )
    return None


async def probe(req: ProbeRequest, out: Metrics) -> Outcome:
    where = req.endpoint
    # A little before the scrape's deadline, so a router that accepts and never speaks is a 0 here.
    seen = await ssh_banner(where.host, where.ssh_port or 22, timeout=req.remaining() * 0.95)
    out.gauge("camfleet_link_up", UP_HELP, seen.up)
    if seen.connect_s is not None and (seen.up or seen.reason == "bad_banner"):
        out.gauge(
            "camfleet_link_rtt_seconds", "TCP connect time to the router's SSH port (one round trip).", seen.connect_s
        )
    if not seen.up:
        return Outcome.fail(seen.reason, f"{req.target.id}: {seen.detail}")
    out.gauge("camfleet_link_banner_seconds", "Connect to SSH banner received.", seen.banner_s or 0.0)
    if req.module.wireguard:
        failed = await _wireguard(req, out)
        if failed is not None:
            return failed
    return Outcome.ok()
