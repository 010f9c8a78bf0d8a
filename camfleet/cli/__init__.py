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
from camfleet.cli.maps import add_parser as add_map
from camfleet.cli.reports import add_parser as add_reports
from camfleet.cli.sign import add_parser as add_sign
from camfleet.cli.town import add_parser as add_town
from camfleet.exporter.commands import add_parser as add_exporter
from camfleet.inventory import InventoryError, Problem, load
from camfleet.inventory.catalogue import vulnerable_devices
from camfleet.inventory.schema import schema_text
from camfleet.inventory.vault import device_credentials
from camfleet.jobs import status
from camfleet.jobs.firmware import DEFAULT_STORE, verify_store
from camfleet.paths import SCHEMA
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
        print(
            f"{args.folder}: {errors} lỗi, không thay đổi gì / {errors} error(s); nothing was changed", file=sys.stderr
        )
        return 1
    _print_problems(result.warnings)
    fleet = result.fleet
    s = fleet.summary()
    if args.format == "json":
        print(json.dumps({"town": fleet.town.id, "valid": True, "warnings": len(result.warnings), **s}, indent=2))
        return 0
    warned = f"; {len(result.warnings)} cảnh báo / warning(s)" if result.warnings else ""
    print(
        f"{fleet.town.name} ({fleet.town.id}): hợp lệ — {s['cameras']} mắt camera "
        f"({s['town_cameras']} loại hình 2, {s['community_cameras']} loại hình 1) ở {s['sites']} khu phố, "
        f"{s['recorders']} đầu ghi với {s['disks']} ổ cứng, {s['links']} đường truyền, {s['link_routers']} router, "
        f"{s['households']} hộ, {s['profiles']} cấu hình luồng, {s['firmware_models']} dòng firmware{warned}"
    )
    print(
        f"  / valid — {s['cameras']} cameras "
        f"({s['town_cameras']} town, {s['community_cameras']} community) in {s['sites']} khu phố, "
        f"{s['recorders']} recorders with {s['disks']} disks, {s['links']} links, {s['link_routers']} link routers, "
        f"{s['households']} households, {s['profiles']} stream profiles, {s['firmware_models']} firmware models"
        + (f"; {len(result.warnings)} warning(s)" if result.warnings else "")
    )
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
    return 1 if failing or health.refused else 0


def cmd_schema(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"đã ghi / wrote {args.output}", file=sys.stderr)
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
        self.exit(2, f"{self.prog}: sai cách dùng / {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="camfleet", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--version", action="version", version=f"camfleet {__version__}", help="in phiên bản / print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="kiểm tra thư mục một địa bàn / check a town folder and print a summary")
    p.add_argument("folder", help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_validate)

    add_reports(sub, _Parser)

    p = sub.add_parser(
        "status",
        help="tình trạng hệ thống lúc này / the fleet's health now: frames from every camera, recorder channels, links",
    )
    p.add_argument(
        "folder", help="thư mục dữ liệu địa bàn / town inventory folder (CAMFLEET_OVERLAY points it at the simulator)"
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--timeout", type=float, default=5.0, help="số giây mỗi lần dò / seconds per probe (default 5)")
    p.add_argument(
        "--vault-password-file", help="tệp mật khẩu kho bí mật / vault password file (default: the town's demo file)"
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "schema", help="ghi JSON Schema của dữ liệu / write the inventory files' JSON Schema (for editors)"
    )
    p.add_argument(
        "-o", "--output", default=str(SCHEMA), help=f"tệp sẽ ghi / file to write, or - for stdout (default {SCHEMA})"
    )
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser(
        "firmware", help="danh mục firmware / the firmware catalogue: who runs a vulnerable build, the store's files"
    )
    p.add_argument(
        "action",
        choices=("vulnerable", "verify", "fetch-sim"),
        help="việc cần làm / vulnerable: devices whose last-seen build the catalogue marks bad; verify: the SHA-256 of every "
        "approved file in the store; fetch-sim: write the simulator's approved files into the store",
    )
    p.add_argument("folder", help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac")
    p.add_argument(
        "--store",
        type=Path,
        default=Path(DEFAULT_STORE),
        help=f"thư mục lưu firmware / firmware store folder (default {DEFAULT_STORE})",
    )
    p.set_defaults(func=cmd_firmware)

    add_footage(sub)
    add_town(sub)
    add_sign(sub)
    add_map(sub)
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
