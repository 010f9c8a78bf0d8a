"""Reading a RouterOS router's WireGuard peers without netmiko: one asyncssh login, one exec request.

Why not :class:`~camfleet.drivers.routeros.driver.RouterOsDriver`: netmiko opens an interactive
shell and waits for prompts (about a second a router); the exporter asks every two minutes of
every router, from one event loop. A single ``exec`` of ``print terse`` is enough, and its rows are
read with the driver's own console language (:mod:`camfleet.drivers.routeros.text`).

    .venv/bin/python -c "import asyncio; from camfleet.drivers.routeros.monitor import *; \\
        print(asyncio.run(wireguard_handshakes('127.22.0.2', 22, 'admin', '<password>', timeout=5)))"
"""

from __future__ import annotations

import asyncssh

from camfleet.drivers.routeros.text import pairs, parse_duration

WIREGUARD_PEERS = "/interface wireguard peers print terse without-paging"


class MonitorError(Exception):
    """The router could not be read: ``reason`` is a short label (``auth``, ``ssh_error``), the message one line."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def handshake_ages(terse: str) -> dict[str, float | None]:
    """Peer name (else comment, else row number) → seconds since its last handshake (None: never)."""
    out: dict[str, float | None] = {}
    for line in terse.splitlines():
        row = line.split(None, 1)
        if not row or not row[0].isdigit():
            continue
        fields = dict(pairs(line))
        name = fields.get("name") or fields.get("comment") or row[0]
        out[name] = parse_duration(fields["last-handshake"]) if fields.get("last-handshake") else None
    return out


async def wireguard_handshakes(
    router_id: str, host: str, port: int, username: str, password: str, *, timeout: float
) -> dict[str, float | None]:
    """Each WireGuard peer's seconds since its last handshake; :class:`MonitorError` when the router cannot be read."""
    try:
        async with asyncssh.connect(
            host,
            port,
            username=username,
            password=password,
            known_hosts=None,  # host keys are pinned by the links playbook, not by monitoring
            preferred_auth="password,keyboard-interactive",
            login_timeout=max(0.1, timeout),
        ) as conn:
            result = await conn.run(WIREGUARD_PEERS, check=False)
    except asyncssh.PermissionDenied as exc:
        raise MonitorError("auth", f"{router_id}: login as {username} refused ({exc.reason})") from None
    except (OSError, asyncssh.Error) as exc:
        raise MonitorError("ssh_error", f"{router_id}: SSH session failed: {exc}") from None
    stdout = result.stdout if isinstance(result.stdout, str) else ""
    return handshake_ages(stdout)
