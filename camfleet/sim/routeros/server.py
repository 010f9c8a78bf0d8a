"""A simulated MikroTik link router on loopback: RouterOS 7 console over SSH, as netmiko drives it.

Each site router (hAP ac lite) and the station core (RB5009) is one :class:`RouterOsServer` on its
own 127.x.y.z address. It speaks SSH with password login (netmiko's ``admin+ct511w4098h`` login
flags are understood), shows the RouterOS banner and prompt ``[admin@MikroTik] > `` and feeds every
typed line to :class:`~camfleet.sim.routeros.interpreter.RouterOsCli`. ``ssh host "/export"`` (an exec
request) works too. Faults are read on every connection and every line, and on every change of them:
unreachable (offline, router off, bricked) closes the port (clients get "connection refused") and
drops open sessions, link down leaves a blackhole there (connects time out); ``hang`` accepts TCP and never sends the SSH banner; ``slow`` delays every
command's output; ``locked`` fails every login.

By hand, once ``camfleet sim`` runs (or with the snippet in tests/sim/test_routeros.py)::

    ssh -o StrictHostKeyChecking=no -p 2222 admin@127.77.1.2 "/system resource print"
    .venv/bin/python -c "from netmiko import ConnectHandler as C; \\
        print(C(device_type='mikrotik_routeros', host='127.77.1.2', port=2222, username='admin', \\
        password='pw').send_command('/export'))"
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import struct
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncssh

from camfleet.sim.blackhole import Blackhole
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.routeros.interpreter import RouterOsCli
from camfleet.sim.routeros.state import ROUTEROS_VERSION, RouterOsState

log = logging.getLogger(__name__)

HOST_KEY_FILE = "routeros_host_ed25519"
BANNER = f"""

  MMM      MMM       KKK                          TTTTTTTTTTT      KKK
  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK
  MMM MMMM MMM  III  KKK  KKK  RRRRRR     OOOOOO      TTT     III  KKK  KKK
  MMM  MM  MMM  III  KKKKK     RRR  RRR  OOO  OOO     TTT     III  KKKKK
  MMM      MMM  III  KKK KKK   RRRRRR    OOO  OOO     TTT     III  KKK KKK
  MMM      MMM  III  KKK  KKK  RRR  RRR   OOOOOO      TTT     III  KKK  KKK

  MikroTik RouterOS {ROUTEROS_VERSION} (c) 1999-2024       https://www.mikrotik.com/

Press F1 for help

"""


def load_or_create_host_key(directory: str | Path) -> asyncssh.SSHKey:
    """The simulator's SSH host key, made once per state folder and shared by every router in it
    (one key for a thousand devices keeps start-up fast; clients here never pin host keys)."""
    path = Path(directory) / HOST_KEY_FILE
    if path.exists():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    path.chmod(0o600)
    return key


def split_login(username: str) -> tuple[str, int | None]:
    """``admin+ct511w4098h`` -> (``admin``, 511): RouterOS reads console flags after the ``+``."""
    name, _, flags = username.partition("+")
    width = re.search(r"(\d+)w", flags) or re.search(r"w(\d+)", flags)
    return name, int(width[1]) if width else None


class _Auth(asyncssh.SSHServer):
    """Password login against the router's /user table; every login fails while locked out."""

    def __init__(self, router: RouterOsServer) -> None:
        self._router = router

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._router._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._router._connections.difference_update({c for c in self._router._connections if c.is_closed()})

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        faults = self._router.faults
        if faults.has(Fault.locked) or faults.unreachable:
            return False
        return self._router.state.check_password(split_login(username)[0], password)


class RouterOsServer:
    """One simulated RouterOS router listening for SSH on ``host:port`` (port 0: pick one).

    ``on_change`` is called after every console line that changed the state (so the orchestrator
    can write it to its state folder); ``clock`` is the router's idea of now (clock-drift faults).
    """

    def __init__(
        self,
        host: str,
        port: int,
        state: RouterOsState,
        faults: Faults,
        host_key: asyncssh.SSHKey | str | Path,
        *,
        clock: Callable[[], float] | None = None,
        on_change: Callable[[RouterOsState], None] | None = None,
    ) -> None:
        self.host = host
        self.state = state
        self.faults = faults
        self._port = port
        self._key = host_key if isinstance(host_key, asyncssh.SSHKey) else asyncssh.read_private_key(str(host_key))
        self._clock = clock or self._drifting_clock
        self._on_change = on_change
        self._sock: socket.socket | None = None
        self._blackhole: Blackhole | None = None  # the port while the link is down: connects time out
        self._accept_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._hung: set[socket.socket] = set()
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._options: asyncssh.SSHServerConnectionOptions | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one once started with port 0)."""
        return self._port

    def _drifting_clock(self) -> float:
        drift = float(self.faults.param(Fault.clock_drift, "seconds")) if self.faults.has(Fault.clock_drift) else 0.0
        return time.time() + drift

    @property
    def listening(self) -> bool:
        """True while the port accepts connections (False while the router is unreachable)."""
        return self._sock is not None

    async def start(self) -> None:
        self._options = asyncssh.SSHServerConnectionOptions(
            server_host_keys=[self._key],
            server_factory=lambda: _Auth(self),
            process_factory=self._session,
            line_editor=False,
            password_auth=True,
            kbdint_auth=False,
            public_key_auth=False,
            login_timeout=30,
            server_version="ROSSSH",
        )
        self._loop = asyncio.get_running_loop()
        self._listen()
        self.refresh()
        self.faults.subscribe(self._faults_changed)

    def refresh(self) -> None:
        """Apply the current faults now: an unreachable router closes its port (clients get
        "connection refused", as from a dead box) and drops open sessions; a reachable one listens.
        Called on every change of the router's faults (:meth:`Faults.subscribe`)."""
        if self.faults.unreachable and self._sock is not None:
            self._close_listener()
            for conn in list(self._connections):
                conn.abort()
        elif not self.faults.unreachable and self._sock is None:
            self._close_blackhole()
            self._listen()
        if self.faults.unreachable and self.faults.blackholed and self._blackhole is None:
            with contextlib.suppress(OSError):  # the port briefly held: the next change tries again
                self._blackhole = Blackhole(self.host, self._port)
        elif not (self.faults.unreachable and self.faults.blackholed):
            self._close_blackhole()

    def _close_blackhole(self) -> None:
        if self._blackhole is not None:
            self._blackhole.close()
            self._blackhole = None

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.listen(64)
        sock.setblocking(False)
        self._sock = sock
        self._port = sock.getsockname()[1]
        self._accept_task = asyncio.create_task(self._accept_loop(sock))

    def _close_listener(self) -> None:
        if self._accept_task:
            self._accept_task.cancel()
            self._accept_task = None
        if self._sock:
            self._sock.close()
            self._sock = None

    def _faults_changed(self) -> None:
        # Faults may change from any thread (a test, the control endpoint): refresh on our loop.
        if self._loop is not None and not self._stopped:
            self._loop.call_soon_threadsafe(self._refresh_unless_stopped)

    def _refresh_unless_stopped(self) -> None:
        if not self._stopped:
            self.refresh()

    async def stop(self) -> None:
        self._stopped = True
        self._close_listener()
        self._close_blackhole()
        for conn in list(self._connections):
            conn.abort()
        for s in list(self._hung):
            s.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._connections.clear()

    async def _accept_loop(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(listener)
            if self.faults.unreachable:
                # Went down between two refreshes: reset, then stop listening at once.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                self.refresh()
            elif self.faults.has(Fault.hang):
                self._spawn(self._hold(conn))  # TCP open, no SSH banner, ever
            else:
                self._spawn(self._serve(conn))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hold(self, conn: socket.socket) -> None:
        """Keep a hung connection open, swallowing input, until the client gives up."""
        self._hung.add(conn)
        conn.setblocking(False)
        try:
            while await asyncio.get_running_loop().sock_recv(conn, 4096):
                pass
        except OSError:
            pass
        finally:
            self._hung.discard(conn)
            conn.close()

    async def _serve(self, conn: socket.socket) -> None:
        try:
            await asyncssh.run_server(conn, options=self._options)
        except (TimeoutError, OSError, asyncssh.Error) as err:
            log.debug("routeros %s: ssh session ended during login: %s", self.host, err)

    # -- the console -----------------------------------------------------------------------

    async def _session(self, process: asyncssh.SSHServerProcess[str]) -> None:
        name, flag_width = split_login(process.get_extra_info("username") or "")
        term_width = process.term_size[0] if process.term_size else 0
        cli = RouterOsCli(self.state, name, clock=self._clock, width=flag_width or term_width or 80)
        try:
            if process.command is not None:
                await self._exec(process, cli, process.command)
            else:
                await self._interactive(process, cli)
        except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, asyncssh.ConnectionLost, BrokenPipeError):
            pass
        finally:
            with contextlib.suppress(Exception):
                process.exit(0)

    async def _run(self, cli: RouterOsCli, line: str) -> tuple[str, bool]:
        await self.faults.delay()
        result = cli.execute(line)
        if result.changed and self._on_change:
            self._on_change(self.state)
        return result.output, result.quit

    async def _exec(self, process: asyncssh.SSHServerProcess[str], cli: RouterOsCli, command: str) -> None:
        for line in command.splitlines():
            output, quit_ = await self._run(cli, line)
            if output:
                process.stdout.write(output + "\n")
            if quit_:
                break

    async def _interactive(self, process: asyncssh.SSHServerProcess[str], cli: RouterOsCli) -> None:
        """A raw terminal: echo what is typed, run each line on Enter (\\r, \\n or \\r\\n), prompt.

        Echo is gathered per read and written once, so a client that types ``quit`` and hangs up
        does not leave a trail of writes to a closed socket.
        """
        out = process.stdout
        out.write(BANNER.replace("\n", "\r\n") + cli.prompt())
        line = ""
        after_cr = False
        escape = ""
        while True:
            data = await process.stdin.read(4096)
            if not data:
                return
            echo: list[str] = []
            for ch in data:
                if self.faults.unreachable:
                    conn = process.get_extra_info("connection")
                    if conn is not None:
                        conn.abort()
                    return
                if escape or ch == "\x1b":  # arrow keys and other terminal sequences: ignored
                    escape = "" if escape and (ch.isalpha() or ch == "~") else escape + ch
                    continue
                if ch == "\n" and after_cr:
                    after_cr = False
                    continue
                after_cr = ch == "\r"
                if ch in "\r\n":
                    out.write("".join(echo) + "\r\n")
                    echo.clear()
                    output, quit_ = await self._run(cli, line)
                    line = ""
                    if quit_:
                        # Hang up at once: netmiko closes its socket right after sending "quit",
                        # and a polite channel shutdown would only write into a reset socket.
                        out.write(output + "\r\n")
                        conn = process.get_extra_info("connection")
                        if conn is not None:
                            conn.abort()
                        return
                    out.write((output.replace("\n", "\r\n") + "\r\n" if output else "") + cli.prompt())
                elif ch == "\x03":  # Ctrl-C drops the line being typed
                    line = ""
                    echo.append("\r\n" + cli.prompt())
                elif ch in "\x7f\x08":
                    if line:
                        line = line[:-1]
                        echo.append("\b \b")
                elif ch == "\x04" and not line:
                    return
                elif ch >= " ":
                    line += ch
                    echo.append(ch)
            if echo:
                out.write("".join(echo))
