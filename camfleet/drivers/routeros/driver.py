"""MikroTik RouterOS link routers over SSH with netmiko: facts, running config, apply with a diff, backup.

Why netmiko's console rather than the REST API: the hAP ac lite routers at the camera sites run
RouterOS 7 with only SSH reachable over the tunnel, and the console is what a technician uses too.
The driver reads ``/export``, lets :mod:`camfleet.drivers.routeros.config` plan the lines that differ from
the rendered desired config, and sends only those, one at a time, stopping at the first line the
router refuses. Nothing secret reaches a log, an exception or the returned change: commands and
diffs are masked (``private-key=<secret>``).

The router's SSH host key is checked against the town's pinned keys
(:mod:`camfleet.drivers.routeros.hostkeys`) after the key exchange and before the password is sent:
recorded at first contact, refused when changed (HostKeyChanged), as the connection's ``Pin`` says.

Errors (:mod:`camfleet.drivers.errors`): bad login -> AuthError; refused/unanswered connection ->
Unreachable; connected but no prompt in time -> DeviceTimeout; a console error line (``bad command
name``, ``expected end of command``, ``failure:``, ``input does not match``...) -> DeviceError
quoting the router.

By hand against a simulated router (``camfleet sim`` running, or the snippet in
tests/links/test_links_driver.py)::

    .venv/bin/python -c "from pathlib import Path; from camfleet.drivers.routeros.driver import RouterOsDriver as D; \\
        from camfleet.drivers.routeros.hostkeys import *; \\
        print(D('lr-01-01', '127.77.1.2', port=2222, username='admin', password='pw', \\
        host_key=Pin(KnownHosts(Path('/tmp/kh')), 'lr-01-01', Mode.RECORD)).facts())"
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import paramiko
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
from netmiko.mikrotik import MikrotikRouterOsSSH

from camfleet.drivers.errors import AuthError, DeviceError, DeviceTimeout, DriverError, Unreachable
from camfleet.drivers.routeros.config import Plan, mask_export, parse_export, plan_changes
from camfleet.drivers.routeros.hostkeys import HostKeyError, Pin
from camfleet.drivers.routeros.text import mask, pairs

log = logging.getLogger(__name__)

#: Console error lines RouterOS prints (device-apis.md §5.1); the text after them is the router's reason.
ERROR_LINE = re.compile(
    r"^(bad command name|expected end of command|syntax error|failure:|invalid value|no such item"
    r"|input does not match|value of .* out of range|expected closing).*$",
    re.M,
)
#: Any RouterOS 7 prompt, in any menu, whatever the identity: ``[admin@lr-01-01] /ip/address>``.
PROMPT = r"\[[^\]\r\n]+@[^\]\r\n]*\] ?(?:/[^\s>]*)?> ?$"


@dataclass(frozen=True)
class RouterFacts:
    """What the router says about itself."""

    identity: str
    model: str
    board_name: str
    version: str  # "7.15.3" (the channel, "(stable)", left out)
    uptime: str  # RouterOS style, "3d4h5m6s"
    serial: str = ""


@dataclass(frozen=True)
class RouterChange:
    """The result of :meth:`RouterOsDriver.apply`: whether anything differs (or did), the masked diff,
    and the masked lines actually sent (empty in check mode)."""

    changed: bool
    diff_lines: list[str] = field(default_factory=list)
    commands_sent: list[str] = field(default_factory=list)


class _PinPolicy(paramiko.MissingHostKeyPolicy):
    """Every key goes through the router's :class:`Pin` (the client holds no known keys of its own)."""

    def __init__(self, pin: Pin) -> None:
        self._pin = pin

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        self._pin.verify(key.get_name(), key.asbytes())


class _PinnedClient(paramiko.SSHClient):
    """paramiko's client asking first for the pinned key's algorithm (a router with an RSA and an
    Ed25519 key shows the pinned one), the key checked before authentication."""

    def __init__(self, pin: Pin) -> None:
        super().__init__()
        self._pin = pin
        self.set_missing_host_key_policy(_PinPolicy(pin))

    def connect(self, *args: Any, **kwargs: Any) -> None:
        preferred = self._pin.preferred_algorithms()

        def transport(sock: Any, **options: Any) -> paramiko.Transport:
            made = paramiko.Transport(sock, **options)
            security = made.get_security_options()
            first = [name for name in preferred if name in security.key_types]
            security.key_types = first + [name for name in security.key_types if name not in first]
            return made

        kwargs["transport_factory"] = transport
        try:
            super().connect(*args, **kwargs)
        except HostKeyError:
            self.close()  # refused after the key exchange: nothing more goes over this transport
            raise


class _PinnedRouterOs(MikrotikRouterOsSSH):
    """netmiko's RouterOS session over :class:`_PinnedClient` (netmiko would auto-add any key)."""

    def __init__(self, *, pin: Pin, **kwargs: Any) -> None:
        self._pin = pin  # before netmiko's __init__, which connects
        super().__init__(**kwargs)

    def _build_ssh_client(self) -> paramiko.SSHClient:
        return _PinnedClient(self._pin)


def _kv(text: str) -> dict[str, str]:
    """``  key: value`` lines of a RouterOS ``print`` into a dict."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            out[key.strip()] = value.strip()
    return out


class RouterOsDriver:
    """One RouterOS router behind one SSH session (opened on first use, reused, closed by :meth:`close`)."""

    device_type = "mikrotik_routeros"

    def __init__(
        self,
        device_id: str,
        host: str,
        *,
        port: int = 22,
        username: str,
        password: str,
        host_key: Pin,
        conn_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> None:
        self.device_id = device_id
        #: The router's host key check; its ``note`` says whether this connection pinned a key.
        self.host_key = host_key
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        self.conn_timeout = conn_timeout
        self.read_timeout = read_timeout
        self._conn: Any = None

    def __repr__(self) -> str:
        return f"RouterOsDriver({self.device_id!r}, {self.host}:{self.port})"

    # -- session -----------------------------------------------------------------------------

    def __enter__(self) -> RouterOsDriver:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.disconnect()
            except Exception:  # a dead session needs no goodbye
                log.debug("%s: disconnect failed", self.device_id, exc_info=True)

    def _connection(self) -> Any:
        if self._conn is not None:
            return self._conn
        try:
            self._conn = _PinnedRouterOs(
                pin=self.host_key,
                device_type=self.device_type,
                host=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                conn_timeout=self.conn_timeout,
                auth_timeout=self.conn_timeout,
                banner_timeout=self.conn_timeout,
            )
        except HostKeyError:
            raise
        except NetmikoAuthenticationException as err:
            raise AuthError(self.device_id, f"login as {self._username} refused", _first_line(err)) from None
        except NetmikoTimeoutException as err:
            raise Unreachable(
                self.device_id, f"no SSH session with {self.host}:{self.port}", _first_line(err)
            ) from None
        except (OSError, EOFError) as err:
            raise Unreachable(self.device_id, f"no SSH session with {self.host}:{self.port}", str(err)) from None
        except Exception as err:  # paramiko's SSHException and netmiko's ValueError on odd banners
            raise Unreachable(self.device_id, f"SSH to {self.host}:{self.port} failed", _first_line(err)) from None
        return self._conn

    @contextmanager
    def _session_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except DriverError:
            raise
        except ReadTimeout:
            self.close()
            raise DeviceTimeout(self.device_id, f"no prompt within {self.read_timeout:g} s while {doing}") from None
        except (TimeoutError, OSError, EOFError) as err:
            self.close()
            raise Unreachable(self.device_id, f"session lost while {doing}", str(err) or type(err).__name__) from None
        except Exception as err:
            self.close()
            raise Unreachable(self.device_id, f"session lost while {doing}", _first_line(err)) from None

    def command(self, line: str) -> str:
        """Send one console line and return what the router printed (prompt and echo stripped).

        The prompt is matched by pattern, not by netmiko's remembered one: ``/system identity set``
        changes it mid-session. The line is logged masked.
        """
        log.debug("%s: > %s", self.device_id, mask(line))
        with self._session_errors(f"running {mask(line)[:60]!r}"):
            conn = self._connection()
            out = conn.send_command(
                line, expect_string=PROMPT, read_timeout=self.read_timeout, strip_prompt=False, strip_command=True
            )
            if line.startswith("/system identity set"):
                conn.set_base_prompt()
        text = re.sub(PROMPT, "", str(out)).replace("\r", "")
        return "\n".join(ln.rstrip() for ln in text.splitlines()).strip("\n")

    def _change(self, line: str) -> None:
        """Send a configuration line; the router's error line, if any, becomes a DeviceError."""
        out = self.command(line)
        if m := ERROR_LINE.search(out):
            raise DeviceError(self.device_id, f"router refused {mask(line)[:200]!r}", m[0])

    # -- reading -----------------------------------------------------------------------------

    def facts(self) -> RouterFacts:
        """Identity, model, RouterOS version and uptime (three ``print`` commands)."""
        identity = _kv(self.command("/system identity print")).get("name", "")
        resource = _kv(self.command("/system resource print"))
        board = self.command("/system routerboard print")
        rb = {} if ERROR_LINE.search(board) else _kv(board)  # CHR and x86 have no routerboard
        return RouterFacts(
            identity=identity,
            model=rb.get("model", resource.get("board-name", "")),
            board_name=resource.get("board-name", ""),
            version=resource.get("version", "").split(" ")[0],
            uptime=resource.get("uptime", ""),
            serial=rb.get("serial-number", ""),
        )

    def running_config(self) -> str:
        """The router's ``/export`` text. RouterOS 7 hides secrets there; this driver never asks for
        ``show-sensitive`` (key drift is found through the public key, :meth:`wireguard_public_keys`)."""
        text = self.command("/export")
        if ERROR_LINE.search(text.split("\n", 1)[0]):
            raise DeviceError(self.device_id, "/export refused", text)
        return text

    def wireguard_public_keys(self) -> dict[str, str]:
        """Interface name -> the public key the router derives from its private key."""
        out = self.command("/interface wireguard print terse")
        keys = {}
        for line in out.splitlines():
            row = dict(pairs(line))
            if row.get("name") and row.get("public-key"):
                keys[row["name"]] = row["public-key"]
        return keys

    def backup(self) -> str:
        """A text backup: ``/export`` with secrets hidden, masked again on its parsed lines (a v6
        router, or one whose export shows them, wraps a long ``password=`` onto the next line)."""
        return mask_export(self.running_config())

    # -- writing -----------------------------------------------------------------------------

    def plan(self, desired: str) -> Plan:
        """What :meth:`apply` would send to make the router match ``desired`` (``.rsc`` text)."""
        running = parse_export(self.running_config())
        return plan_changes(parse_export(desired), running, self.wireguard_public_keys())

    def apply(self, desired: str, *, check: bool = False) -> RouterChange:
        """Make the router match ``desired``; in check mode only say what differs.

        ``changed`` is True when something differs (check mode) or was changed. On a refused line
        the lines before it stay applied (RouterOS has no transaction) and DeviceError says which
        line failed and why; running again converges.
        """
        plan = self.plan(desired)
        if check or not plan.commands:
            return RouterChange(plan.changed, plan.diff_lines, [])
        sent = []
        for line in plan.commands:
            if line.endswith(" print"):
                self.command(line)  # numbering for place-before; its output is not an error
            else:
                self._change(line)
            sent.append(mask(line))
        log.info("%s: %d lines sent", self.device_id, len(sent))
        return RouterChange(True, plan.diff_lines, sent)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return mask(text.splitlines()[0]) if text else type(err).__name__
