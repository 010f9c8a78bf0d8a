"""``camfleet sim ...``: bring a town's inventory to life on loopback, inspect it, break it.

.venv/bin/camfleet sim up inventory/ngoc-lac --detach
.venv/bin/camfleet sim status
.venv/bin/camfleet sim fault cam-01-t01 frozen          # ... --clear to repair
.venv/bin/camfleet sim swap cam-01-t01 cam-01-t02        # two cameras trade addresses; again to undo
.venv/bin/camfleet sim down
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from camfleet import aio
from camfleet.inventory import InventoryError, load
from camfleet.inventory.vault import device_credentials
from camfleet.sim import control
from camfleet.sim.faults import Fault
from camfleet.sim.town import MAPPED_PORTS, PREFILL_DAYS, SimError, SimTown

DEFAULT_STATE = Path(".state/sim")


def add_parser(sub: Any) -> None:
    sim = sub.add_parser("sim", help="địa bàn mô phỏng / the simulated town: every device of an inventory on loopback")
    verbs = sim.add_subparsers(dest="sim_command", required=True, parser_class=type(sim))

    def with_state(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--state",
            type=Path,
            default=DEFAULT_STATE,
            help=f"thư mục trạng thái / state folder (default {DEFAULT_STATE})",
        )

    p = verbs.add_parser(
        "up", help="chạy địa bàn mô phỏng / start the simulated town (foreground; --detach for background)"
    )
    p.add_argument("folder", help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac")
    with_state(p)
    p.add_argument("--detach", action="store_true", help="chạy nền / run in the background with a pid file")
    p.add_argument(
        "--net", type=int, default=20, help="dải địa chỉ / second octet of the addresses: 127.NET.x.y (default 20)"
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="tốc độ thời gian mô phỏng / simulated seconds per real second (default 1)",
    )
    p.add_argument(
        "--prefill-days",
        type=float,
        default=PREFILL_DAYS,
        help="số ngày dữ liệu có sẵn trên đầu ghi / days of footage recorders start with",
    )
    p.add_argument(
        "--mapped-ports", action="store_true", help=f"dùng cổng thay thế / use {MAPPED_PORTS} instead of the real ports"
    )
    p.add_argument(
        "--vault-password-file", help="tệp mật khẩu kho bí mật / vault password file (default: the town's demo file)"
    )
    p.set_defaults(func=cmd_up)

    p = verbs.add_parser("down", help="dừng địa bàn mô phỏng / stop a detached simulated town")
    with_state(p)
    p.set_defaults(func=cmd_down)

    p = verbs.add_parser("status", help="thiết bị, địa chỉ và lỗi / devices, addresses and faults")
    with_state(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_status)

    p = verbs.add_parser("fault", help="gây (hoặc xóa) lỗi trên thiết bị / inject (or --clear) a fault on a device")
    p.add_argument("device")
    p.add_argument("fault", choices=[f.value for f in Fault])
    p.add_argument("--clear", action="store_true")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="tham số lỗi / e.g. delay_s=5, slot=2, seconds=600",
    )
    with_state(p)
    p.set_defaults(func=cmd_fault)

    p = verbs.add_parser("power-cycle", help="xóa mọi lỗi của thiết bị / clear every fault of a device (un-bricks it)")
    p.add_argument("device")
    with_state(p)
    p.set_defaults(func=cmd_power_cycle)

    p = verbs.add_parser(
        "swap",
        help="hai camera đổi địa chỉ cho nhau / two cameras trade addresses (a swapped or re-addressed camera); again to undo",
    )
    p.add_argument("first")
    p.add_argument("second")
    with_state(p)
    p.set_defaults(func=cmd_swap)

    p = verbs.add_parser("clock", help="tăng tốc hoặc nhảy thời gian mô phỏng / speed up simulated time, or jump ahead")
    p.add_argument("--speed", type=float)
    p.add_argument("--advance-days", type=float)
    with_state(p)
    p.set_defaults(func=cmd_clock)


def cmd_up(args: argparse.Namespace) -> int:
    if control.running(args.state):
        print(
            f"a simulator is already running with state {args.state}; 'camfleet sim down --state {args.state}' first",
            file=sys.stderr,
        )
        return 1
    try:
        aio.loop_factory()  # a bad CAMFLEET_EVENT_LOOP is one line here, before anything starts
    except ValueError as exc:
        print(f"camfleet sim up: {exc}", file=sys.stderr)
        return 2
    try:
        fleet = load(args.folder).fleet
        creds = device_credentials(args.folder, args.vault_password_file)
    except InventoryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.detach:
        argv = [a for a in sys.argv[1:] if a != "--detach"]
        return control.detach(argv, args.state)
    town = SimTown(
        fleet,
        creds,
        args.state.resolve(),
        net=args.net,
        speed=args.speed,
        prefill_days=args.prefill_days,
        ports=MAPPED_PORTS if args.mapped_ports else None,
    )
    try:
        aio.run(control.run_town(town))
    except OSError as exc:
        print(
            f"camfleet sim up: cannot listen: {exc.strerror or exc} (is another simulator using 127.{args.net}.x.y? try --net)",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    if not control.shut_down(args.state):
        print(f"no simulator running with state {args.state}", file=sys.stderr)
        return 1
    print("simulator stopped")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = control.request(args.state, "GET", "/status")
    if args.format == "json":
        print(json.dumps(status, indent=2))
        return 0
    print(f"town {status['town']}: {len(status['devices'])} devices, clock speed {status['clock']['speed']:g}x")
    print(f"{'device':14} {'role':9} {'address':14} {'ports':22} {'state':11} faults")
    for d in status["devices"]:
        ports = ",".join(f"{k}:{v}" for k, v in sorted(d["ports"].items()))
        faults = ",".join(d["faults"]["active"]) + (" bricked" if d["faults"]["bricked"] else "")
        if d["faults"]["upstream_down"]:
            faults += f" (behind {d['link_router']}, down)"
        print(
            f"{d['id']:14} {d['role']:9} {d['address']:14} {ports:22} {'up' if d['reachable'] else 'DOWN':11} {faults.strip()}"
        )
    return 0


def _params(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SimError(f"--param {pair!r}: write KEY=VALUE, e.g. delay_s=5")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def cmd_fault(args: argparse.Namespace) -> int:
    body = {"fault": args.fault, "clear": args.clear, "params": _params(args.param)}
    dev = control.request(args.state, "POST", f"/faults/{args.device}", body)
    active = ", ".join(dev["faults"]["active"]) or "none"
    print(f"{dev['id']}: {'cleared ' + args.fault if args.clear else args.fault}; active faults: {active}")
    return 0


def cmd_power_cycle(args: argparse.Namespace) -> int:
    dev = control.request(args.state, "POST", f"/power-cycle/{args.device}")
    print(f"{dev['id']}: power-cycled, faults cleared")
    return 0


def cmd_swap(args: argparse.Namespace) -> int:
    where = control.request(args.state, "POST", "/swap", {"a": args.first, "b": args.second})
    print(f"{args.first} now answers at {where[args.first]}, {args.second} at {where[args.second]}")
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {}
    if args.speed is not None:
        body["speed"] = args.speed
    if args.advance_days is not None:
        body["advance_s"] = args.advance_days * 86400
    clock = control.request(args.state, "POST", "/clock", body)
    print(f"simulated clock: speed {clock['speed']:g}x")
    return 0
