"""The ``camfleet`` command: validate, report, status, schema, firmware, footage, sim, exporter.

Exit codes: 0 fine, 1 the inventory (or a device) has problems, 2 bad usage.
Mistakes get one line each on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from camfleet import __version__
from camfleet.cli.footage import add_parser as add_footage
from camfleet.exporter.commands import add_parser as add_exporter
from camfleet.inventory import InventoryError, Problem, load
from camfleet.inventory.catalogue import vulnerable_devices
from camfleet.inventory.plans import recorder_plans
from camfleet.inventory.schema import schema_text
from camfleet.inventory.vault import device_credentials
from camfleet.jobs import status
from camfleet.jobs.firmware import DEFAULT_STORE, verify_store
from camfleet.paths import SCHEMA
from camfleet.reports import budget, retention
from camfleet.reports.document import RENDERERS
from camfleet.sim.commands import add_parser as add_sim
from camfleet.sim.firmware import fetch_sim
from camfleet.sim.town import SimError


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        result = load(args.folder)
    except InventoryError as exc:
        _print_problems(exc.problems)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        print(f"{args.folder}: {errors} error(s); nothing was changed", file=sys.stderr)
        return 1
    _print_problems(result.warnings)
    fleet = result.fleet
    s = fleet.summary()
    if args.format == "json":
        print(json.dumps({"town": fleet.town.id, "valid": True, "warnings": len(result.warnings), **s}, indent=2))
        return 0
    print(
        f"{fleet.town.name} ({fleet.town.id}): valid — {s['cameras']} cameras "
        f"({s['town_cameras']} town, {s['community_cameras']} community) in {s['sites']} khu phố, "
        f"{s['recorders']} recorders with {s['disks']} disks, {s['links']} links, {s['link_routers']} link routers, "
        f"{s['households']} households, {s['profiles']} stream profiles, {s['firmware_models']} firmware models"
        + (f"; {len(result.warnings)} warning(s)" if result.warnings else "")
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    try:
        fleet = load(args.folder).fleet
    except InventoryError as exc:
        _print_problems(exc.problems)
        print(f"{args.folder}: fix the inventory errors above before reporting", file=sys.stderr)
        return 1
    if args.report == "budget":
        rows = budget.budget_rows(fleet)
        data, document = budget.as_json(fleet, rows), budget.as_document(fleet, rows)
    else:
        plans = recorder_plans(fleet)
        data, document = retention.as_json(fleet, plans), retention.as_document(fleet, plans)
    text = (
        json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if args.format == "json"
        else RENDERERS[args.format](document)
    )
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    try:
        fleet = load(args.folder).fleet
        creds = device_credentials(args.folder, args.vault_password_file)
    except InventoryError as exc:
        _print_problems(exc.problems)
        return 1
    health = asyncio.run(status.check(fleet, creds, args.timeout))
    if args.format == "json":
        print(json.dumps(status.as_json(health), indent=2))
    else:
        sys.stdout.write(status.table(fleet, health))
    failing = [s for s in health.streams.values() if not s.startswith("ok")] + [
        r for r, up in health.routers.items() if not up
    ]
    return 1 if failing else 0


def cmd_schema(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_firmware(args: argparse.Namespace) -> int:
    try:
        fleet = load(args.folder, overlay=False).fleet
    except InventoryError as exc:
        _print_problems(exc.problems)
        return 1
    if args.action == "vulnerable":
        for found in vulnerable_devices(fleet):
            bad = found.vulnerable
            assert bad is not None
            print(f"{found.device}\t{found.model}\t{found.current}\t{bad.label()}\t-> {found.approved}")
        return 0
    if args.action == "fetch-sim":
        for path in fetch_sim(fleet, args.store):
            print(f"wrote {path}")
    checked = verify_store(fleet, args.store)
    if args.action == "verify":
        for path in checked.good:
            print(f"ok {path}")
    for problem in checked.problems:
        print(problem, file=sys.stderr)
    return 1 if checked.problems else 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="camfleet", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"camfleet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check a town folder and print a summary")
    p.add_argument("folder", help="town inventory folder, e.g. inventory/ngoc-lac")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="per-khu-phố budget or per-recorder retention plan")
    p.add_argument("report", choices=("budget", "retention"))
    p.add_argument("folder", help="town inventory folder")
    p.add_argument("--format", choices=("table", "csv", "json", "md", "html"), default="table")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("status", help="the fleet's health now: frames from every camera, recorder channels, links")
    p.add_argument("folder", help="town inventory folder (CAMFLEET_OVERLAY points it at the simulator)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per probe (default 5)")
    p.add_argument("--vault-password-file", help="vault password file (default: the town's demo file)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("schema", help="write the inventory files' JSON Schema (for editors)")
    p.add_argument("-o", "--output", default=str(SCHEMA), help=f"file to write, or - for stdout (default {SCHEMA})")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("firmware", help="the firmware catalogue: who runs a vulnerable build, the store's files")
    p.add_argument(
        "action",
        choices=("vulnerable", "verify", "fetch-sim"),
        help="vulnerable: devices whose last-seen build the catalogue marks bad; verify: the SHA-256 of every "
        "approved file in the store; fetch-sim: write the simulator's approved files into the store",
    )
    p.add_argument("folder", help="town inventory folder, e.g. inventory/ngoc-lac")
    p.add_argument(
        "--store", type=Path, default=Path(DEFAULT_STORE), help=f"firmware store folder (default {DEFAULT_STORE})"
    )
    p.set_defaults(func=cmd_firmware)

    add_footage(sub)
    add_sim(sub)
    add_exporter(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `camfleet ... | head`
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(f"camfleet: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except SimError as exc:
        print(f"camfleet: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
