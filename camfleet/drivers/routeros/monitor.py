"""Reading a RouterOS router's WireGuard peers without netmiko: one asyncssh login, one exec request.

Why not :class:`~camfleet.drivers.routeros.driver.RouterOsDriver`: netmiko opens an interactive
shell and waits for prompts (about a second a router); the exporter asks every two minutes of
every router, from one event loop. A single ``exec`` of ``print terse`` is enough, and its rows are
read with the driver's own console language (:mod:`camfleet.drivers.routeros.text`).

The router's host key must be the one pinned for it (:mod:`camfleet.drivers.routeros.hostkeys`):
monitoring never records one. A router with no pinned key is not connected to (``host_key_unknown``);
one presenting another key is refused after the key exchange, before the password is sent
(``host_key_changed``).

    .venv/bin/python -c "import asyncio; from pathlib import Path; from camfleet.drivers.routeros.monitor import *; \\
        from camfleet.drivers.routeros.hostkeys import KnownHosts; \\
        print(asyncio.run(wireguard_handshakes('lr-01-01', '127.22.0.2', 22, 'admin', '<password>', timeout=5, \\
        known_hosts=KnownHosts(Path('.state/sim/known_hosts')))))"
"""

from __future__ import annotations

import asyncssh
from asyncssh.public_key import get_default_public_key_algs

from camfleet.drivers.routeros.hostkeys import HostKeyError, KnownHosts, Mode, Pin
from camfleet.drivers.routeros.text import pairs, parse_duration

WIREGUARD_PEERS = "/interface wireguard peers print terse without-paging"


class MonitorError(Exception):
    """The router could not be read: ``reason`` is a short label (``auth``, ``ssh_error``,
    ``host_key_unknown``, ``host_key_changed``), the message one line."""

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


class _Presented(asyncssh.SSHClient):
    """Keeps the key a router presented when it was not a pinned one, for the refusal's fingerprint."""

    def __init__(self) -> None:
        self.key: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.key = key
        return False


async def wireguard_handshakes(
    router_id: str,
    host: str,
    port: int,
    username: str,
    password: str,
    *,
    timeout: float,
    known_hosts: KnownHosts,
) -> dict[str, float | None]:
    """Each WireGuard peer's seconds since its last handshake; :class:`MonitorError` when the router
    cannot be read, or its host key is not the one pinned in ``known_hosts`` (then nothing is sent)."""
    pin = Pin(known_hosts, router_id, Mode.CHECK)
    presented = _Presented()
    try:
        pinned = pin.require_pinned()
        trusted = [asyncssh.import_public_key(key.openssh()) for key in pinned]
    except HostKeyError as err:
        raise MonitorError(err.reason, str(err)) from None
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise MonitorError(
            "host_key", f"{router_id}: pinned SSH host key unreadable in {known_hosts.path}: {exc}"
        ) from None
    # The pinned key's algorithm first, then the rest: a router offering only another kind of key
    # still shows it, so the refusal can name its fingerprint.
    algorithms = pin.preferred_algorithms()
    algorithms += [name for a in get_default_public_key_algs() if (name := a.decode()) not in algorithms]
    try:
        async with asyncssh.connect(
            host,
            port,
            username=username,
            password=password,
            known_hosts=(trusted, [], []),
            server_host_key_algs=algorithms,
            client_factory=lambda: presented,
            preferred_auth="password,keyboard-interactive",
            login_timeout=max(0.1, timeout),
        ) as conn:
            result = await conn.run(WIREGUARD_PEERS, check=False)
    except asyncssh.HostKeyNotVerifiable as exc:
        if presented.key is not None:
            try:
                pin.verify(presented.key.get_algorithm(), presented.key.public_data)
            except HostKeyError as err:
                raise MonitorError(err.reason, str(err)) from None
        raise MonitorError("host_key_changed", f"{router_id}: SSH host key not verified: {exc.reason}") from None
    except asyncssh.PermissionDenied as exc:
        raise MonitorError("auth", f"{router_id}: login as {username} refused ({exc.reason})") from None
    except (OSError, asyncssh.Error) as exc:
        raise MonitorError("ssh_error", f"{router_id}: SSH session failed: {exc}") from None
    stdout = result.stdout if isinstance(result.stdout, str) else ""
    return handshake_ages(stdout)
