"""``camfleet exporter``: serve ``/probe``, ``/sd`` and ``/metrics`` for a town.

.venv/bin/camfleet exporter --config exporters/camfleet.yml --inventory inventory/ngoc-lac
CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/camfleet exporter \\
    --config exporters/camfleet.yml --inventory inventory/ngoc-lac --listen 127.0.0.1:9830

.venv/bin/camfleet exporter --inventory inventory/ngoc-lac --web.config.file /etc/camfleet/web.yml

An exporter shard of a district or province serves several towns in one process: ``--inventory`` once per town
(with simulated towns, ``CAMFLEET_OVERLAY`` lists their overlays joined by ``:``, each naming its town). ``/sd``
then adds ``__param_town`` to every target, so Prometheus asks ``/probe?target=...&town=...``: ids repeat from
town to town. One process answering 168 probes a second spends less per probe than five at 34 each
(``docs/scaling.md``).

On start it prints one line, ``listening on http://HOST:PORT`` (``https://`` with TLS), once the
port is open (so a script or test that passed port 0 learns the port), and runs until SIGTERM or
Ctrl-C. ``--web.config.file`` is the Prometheus exporter-toolkit's file (TLS, basic auth;
:mod:`camfleet.exporter.web`): a bad one stops the start with one line naming the file and field.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from camfleet import aio
from camfleet.exporter.config import ConfigError, load_config
from camfleet.exporter.server import Exporter, start
from camfleet.exporter.targets import Towns, TownView
from camfleet.exporter.web import WebConfigError, WebGuard
from camfleet.inventory import InventoryError

DEFAULT_LISTEN = "127.0.0.1:9830"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        default=Path("exporters/camfleet.yml"),
        help="tệp cấu hình mô-đun / modules and credentials file",
    )
    p.add_argument(
        "--inventory",
        type=Path,
        required=True,
        action="append",
        help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac; once per town for an "
        "exporter shard of several towns (the vault password file opens every town's vault)",
    )
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        help=f"địa chỉ phục vụ / HOST:PORT to serve on (default {DEFAULT_LISTEN}; port 0: any)",
    )
    p.add_argument(
        "--web.config.file",
        dest="web_config_file",
        type=Path,
        help="cấu hình TLS và đăng nhập / TLS and basic auth, the Prometheus exporter-toolkit's web config file (default: plain HTTP, open)",
    )
    p.add_argument(
        "--vault-password-file",
        type=Path,
        help="tệp mật khẩu kho bí mật / vault password file (default: config, env, demo file)",
    )
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.set_defaults(func=cmd_exporter)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "exporter", help="bộ thu thập số liệu Prometheus / the Prometheus exporter: /probe, /sd and /metrics for a town"
    )
    add_arguments(p)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"--listen {text!r}: write HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]"), int(port)


async def serve_forever(exporter: Exporter, host: str, port: int) -> None:
    runner, bound = await start(exporter, host, port)
    scheme = "https" if exporter.guard is not None and exporter.guard.ssl_context is not None else "http"
    print(f"listening on {scheme}://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if exporter.guard is not None:
            exporter.guard.close()


def cmd_exporter(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        host, port = parse_listen(args.listen)
        config = load_config(args.config)
        guard = WebGuard(args.web_config_file) if args.web_config_file is not None else None
        views = [TownView(folder, args.vault_password_file or config.vault_password_file) for folder in args.inventory]
        for view in views:
            view.load()
        towns = Towns(views)
        aio.loop_factory()  # a bad CAMFLEET_EVENT_LOOP is a one-line error here, not a traceback later
    except (ConfigError, WebConfigError, ValueError) as exc:
        print(f"camfleet exporter: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    except InventoryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    try:
        aio.run(serve_forever(Exporter(config, towns, guard), host, port))
    except OSError as exc:
        print(f"camfleet exporter: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
