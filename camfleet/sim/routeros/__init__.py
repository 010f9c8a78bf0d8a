"""A simulated MikroTik RouterOS 7 router: its state, its console, and the SSH server netmiko
drives it through.

Where things are: ``state`` (what a router remembers; the hardware; defconf), ``text`` (the
console's own quoting, escapes, tokens and export wrapping; see it for what real RouterOS does
with ``\\XX`` escapes), ``menus`` (the menu table and how each argument is checked),
``printing`` (``print`` and ``/export``), ``interpreter`` (:class:`RouterOsCli`, one console
session), ``server`` (:class:`RouterOsServer`: SSH, the host key, the login flags).

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.routeros import *; \\
        c = RouterOsCli(RouterOsState.factory('pw'), 'admin'); print(c.execute('/export').output)"
"""

from camfleet.sim.routeros.interpreter import CliResult, RouterOsCli
from camfleet.sim.routeros.menus import format_duration
from camfleet.sim.routeros.server import BANNER, RouterOsServer, load_or_create_host_key, split_login
from camfleet.sim.routeros.state import BoardInfo, RouterOsState, wg_private_key, wg_public_key
from camfleet.sim.routeros.text import CliError, quote, tokenize, wrap_export

__all__ = [
    "BANNER",
    "BoardInfo",
    "CliError",
    "CliResult",
    "RouterOsCli",
    "RouterOsServer",
    "RouterOsState",
    "format_duration",
    "load_or_create_host_key",
    "quote",
    "split_login",
    "tokenize",
    "wg_private_key",
    "wg_public_key",
    "wrap_export",
]
