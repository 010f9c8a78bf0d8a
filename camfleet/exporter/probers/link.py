"""``link``: is the household link router reachable, how far away is it, does its tunnel shake hands?

Reachability is a TCP connect to the router's SSH port and its SSH banner (``SSH-2.0-...``):
no login, no key exchange, ~1 ms and nothing in the router's log; the connect time is the round
trip. netmiko would cost a second and a login per probe. With ``wireguard: true`` the module
also logs in (asyncssh, one exec request) and reads each WireGuard peer's last handshake: a
tunnel that stopped shaking hands is a link that carries no camera even if SSH still answers
on another path. Run that module less often.

Sample output (``curl '127.0.0.1:9830/probe?target=lr-01-01&module=link_wireguard'``)::

    camfleet_link_up 1.0
    camfleet_link_rtt_seconds 0.0004
    camfleet_link_banner_seconds 0.0011
    camfleet_link_wireguard_handshake_age_seconds{peer="station"} 65.0
"""

from __future__ import annotations

import asyncio
import re

import asyncssh

from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest

WIREGUARD_PEERS = "/interface wireguard peers print terse without-paging"
_PAIR = re.compile(r'([\w.-]+)=("[^"]*"|\S*)')
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def parse_duration(text: str) -> float | None:
    """RouterOS durations: ``1w2d3h4m5s``, ``150ms``, or ``01:02:03``; None when unreadable."""
    text = text.strip().strip('"')
    if re.fullmatch(r"\d+:\d{2}:\d{2}", text):
        h, m, s = (int(p) for p in text.split(":"))
        return float(h * 3600 + m * 60 + s)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|[wdhms])", text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def handshake_ages(terse: str) -> dict[str, float | None]:
    """Peer name (else comment, else row number) → seconds since its last handshake (None: never)."""
    out: dict[str, float | None] = {}
    for line in terse.splitlines():
        row = line.split(None, 1)
        if not row or not row[0].isdigit():
            continue
        pairs = {k: v.strip('"') for k, v in _PAIR.findall(line)}
        name = pairs.get("name") or pairs.get("comment") or row[0]
        out[name] = parse_duration(pairs["last-handshake"]) if pairs.get("last-handshake") else None
    return out


async def _banner(host: str, port: int) -> tuple[float, float, bytes]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    reader, writer = await asyncio.open_connection(host, port)
    connected = loop.time()
    try:
        line = await reader.readline()
    finally:
        writer.transport.abort()
    return connected - start, loop.time() - start, line[:255]


async def _wireguard(req: ProbeRequest, out: Metrics) -> Outcome | None:
    router = req.target.router
    try:
        async with asyncssh.connect(
            req.target.host,
            router.ssh_port,
            username=req.username,
            password=req.password,
            known_hosts=None,  # host keys are pinned by the links playbook, not by monitoring
            preferred_auth="password,keyboard-interactive",
            login_timeout=max(0.1, req.remaining()),
        ) as conn:
            result = await conn.run(WIREGUARD_PEERS, check=False)
    except asyncssh.PermissionDenied as exc:
        return Outcome.fail("auth", f"{req.target.id}: login as {req.username} refused ({exc.reason})")
    except (OSError, asyncssh.Error) as exc:
        return Outcome.fail("ssh_error", f"{req.target.id}: SSH session failed: {exc}")
    stdout = result.stdout if isinstance(result.stdout, str) else ""
    for peer, age in handshake_ages(stdout).items():
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
    router = req.target.router
    try:
        # A little before the scrape's deadline, so a router that accepts and never speaks is a 0 here.
        async with asyncio.timeout(req.remaining() * 0.95):
            connect_s, banner_s, banner = await _banner(req.target.host, router.ssh_port)
    except TimeoutError:
        out.gauge("camfleet_link_up", "1 if the router's SSH port answers with an SSH banner.", 0)
        return Outcome.fail("timeout", f"{req.target.id}: no SSH banner within the budget")
    except ConnectionRefusedError as exc:
        out.gauge("camfleet_link_up", "1 if the router's SSH port answers with an SSH banner.", 0)
        return Outcome.fail("refused", f"{req.target.id}: {exc}")
    except OSError as exc:
        out.gauge("camfleet_link_up", "1 if the router's SSH port answers with an SSH banner.", 0)
        return Outcome.fail("unreachable", f"{req.target.id}: {exc}")
    up = banner.startswith(b"SSH-")
    out.gauge("camfleet_link_up", "1 if the router's SSH port answers with an SSH banner.", up)
    out.gauge("camfleet_link_rtt_seconds", "TCP connect time to the router's SSH port (one round trip).", connect_s)
    if not up:
        what = "closed without a banner" if not banner else f"not SSH: {banner[:40]!r}"
        return Outcome.fail("bad_banner", f"{req.target.id}: {what}")
    out.gauge("camfleet_link_banner_seconds", "Connect to SSH banner received.", banner_s)
    if req.module.wireguard:
        failed = await _wireguard(req, out)
        if failed is not None:
            return failed
    return Outcome.ok()
