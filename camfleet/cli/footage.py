"""``camfleet footage``: the investigator's commands — request, export, verify, import, key, delete, log.

Every command that touches footage writes the town's custody log (``<town>/custody/footage.jsonl``,
``--log`` to choose another file); ``verify`` needs only the package. Messages are Vietnamese
first, English after; a refusal is one line and exit 1.

    .venv/bin/camfleet footage export inventory/ngoc-lac --case VV-2026-0142 --authority ca-huyen-ngoc-lac \\
        --document "CV 123/CAH-CSHS ngày 01/12/2026" --requested-by dtv-01 --approved-by cb-truong \\
        --purpose "Điều tra vụ trộm xe máy" --from "2026-12-01 19:40" --to "2026-12-01 20:10" \\
        --camera cam-01-t01 --near 20.0912,105.3701 --radius 200 -o /media/usb
    .venv/bin/camfleet footage verify /media/usb/VV-2026-0142
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from camfleet.drivers.errors import DriverError
from camfleet.inventory import InventoryError, load
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.vault import device_credentials, read_vault
from camfleet.jobs import footage
from camfleet.jobs.base import JobError
from camfleet.jobs.custody import CustodyError, CustodyLog, verify_chain
from camfleet.jobs.evidence import EvidenceError, SigningKey, fingerprint, public_key_text, verify
from camfleet.jobs.footage import Coverage, Selection

STATUS = {
    "covered": "có đủ / covered",
    "partial": "có một phần / partly covered",
    "none": "không có / nothing",
    "household": "hộ dân trích xuất / household exports it",
    "no_commitment": "hộ chưa ký cam kết / no commitment",
    "not_recorded": "không ghi ở trạm / not recorded here",
    "unreachable": "đầu ghi không trả lời / recorder unreachable",
}


def custody_log(folder: Path, explicit: str | None) -> CustodyLog:
    return CustodyLog(Path(explicit) if explicit else folder / "custody" / "footage.jsonl")


def _selection(args: argparse.Namespace) -> Selection:
    try:
        return footage.selection_of(args.camera or (), args.site or (), args.street or (), args.near, args.radius)
    except ValueError as err:
        raise SystemExit(f"camfleet footage: {err} (--near LAT,LON --radius M)") from None


def _request(fleet: Fleet, log: CustodyLog, args: argparse.Namespace) -> footage.Request:
    return footage.request(
        fleet,
        log,
        case=args.case,
        authority=args.authority,
        document=args.document or "",
        requested_by=args.requested_by or "",
        approved_by=args.approved_by or "",
        purpose=args.purpose or "",
        window_from=args.window_from,
        window_to=args.window_to,
        selection=_selection(args),
    )


def _print_coverage(req: footage.Request, found: list[Coverage]) -> None:
    w = req.window
    print(f"Vụ việc / case {req.case}: {w.local(w.start, '%Y-%m-%d %H:%M')} → {w.local(w.end, '%H:%M')} ({w.zone})")
    for c in found:
        where = f" [{c.recorder}/{c.channel}]" if c.recorder else ""
        near = ""
        if c.distance_m is not None:
            facing = "hướng về / faces" if c.faces_point else "không hướng về / does not face"
            near = f", {c.distance_m:.0f} m, {facing} the point"
        print(f"  {c.camera}{where}: {STATUS.get(c.status, c.status)}{near}")
        for a, b in c.gaps:
            print(f"      khoảng trống / gap {w.local(a, '%H:%M:%S')} → {w.local(b, '%H:%M:%S')}")
        if c.export_by is not None:
            hurry = " KHẨN / URGENT" if footage.urgent(c) else ""
            print(f"      trích xuất trước / export before {w.local(c.export_by, '%Y-%m-%d %H:%M')}{hurry}")
        if c.detail:
            print(f"      {c.detail}")


def _town(args: argparse.Namespace) -> tuple[Fleet, CustodyLog]:
    fleet = load(args.folder).fleet
    return fleet, custody_log(fleet.folder, args.log)


def cmd_request(args: argparse.Namespace) -> int:
    """Check the request, search every camera, print what exists (and until when): no footage is copied."""
    fleet, log = _town(args)
    req = _request(fleet, log, args)
    found = footage.search(
        fleet, req, device_credentials(args.folder, args.vault_password_file), log, timeout=args.timeout
    )
    if args.format == "json":
        print(
            json.dumps(
                {"case": req.case, "cameras": [c.as_dict(req.window) for c in found]}, ensure_ascii=False, indent=2
            )
        )
    else:
        _print_coverage(req, found)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    fleet, log = _town(args)
    key = SigningKey.from_vault(read_vault(args.folder, "secrets", args.vault_password_file))
    req = _request(fleet, log, args)
    creds = device_credentials(args.folder, args.vault_password_file)
    found = footage.search(fleet, req, creds, log, timeout=args.timeout)
    _print_coverage(req, found)
    package = footage.export(fleet, req, found, creds, Path(args.output), key, log, timeout=args.timeout)
    total = sum(c.size_bytes for c in package.clips)
    print(
        f"Đã đóng gói / packaged: {package.folder} ({len(package.clips)} tệp / clips, {total / 1e6:.1f} MB), "
        f"{package.zip}; khóa / key {fingerprint(key.public())}"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    result = verify(Path(args.package), expected_fingerprint=args.fingerprint)
    if args.folder:
        _, log = _town(args)
        if Path(args.package).is_dir():
            result.problems += footage.town_log_problems(Path(args.package), log)
        log.append(
            "verification",
            result.case or Path(args.package).name,
            args.by,
            package=Path(args.package).name,
            intact=result.intact,
            problems=result.problems[:20],
        )
    for problem in result.problems:
        print(f"HỎNG / BROKEN: {problem}", file=sys.stderr)
    if result.intact:
        print(
            f"Nguyên vẹn / intact: {result.package} (vụ việc / case {result.case}, {result.files} tệp / files, "
            f"khóa / key {result.fingerprint})"
        )
        return 0
    print(
        f"{result.package}: {len(result.problems)} vấn đề / problem(s): không nguyên vẹn / NOT intact", file=sys.stderr
    )
    return 1


def cmd_import(args: argparse.Namespace) -> int:
    fleet, log = _town(args)
    key = SigningKey.from_vault(read_vault(args.folder, "secrets", args.vault_password_file))
    added = footage.import_household(
        fleet,
        Path(args.package),
        [Path(f) for f in args.file],
        log,
        key,
        household=args.household,
        received_by=args.received_by,
        received_on=args.received_on or dt.date.today().isoformat(),
        camera=args.camera,
    )
    for entry in added:
        print(f"Đã nhận / received {entry['file']}: {entry['size_bytes']:,} B, sha256 {entry['sha256']}")
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    if args.new:
        _, seed = SigningKey.generate()
        print("# a new station signing key: put this line into vault/secrets.yml (ansible-vault edit), then")
        print("# publish the fingerprint camfleet footage key prints; never paste the key anywhere else")
        print(f"vault_footage_signing_key: {seed}")
        return 0
    if not args.folder:
        raise SystemExit("camfleet footage key: give the town folder (or --new)")
    key = SigningKey.from_vault(read_vault(args.folder, "secrets", args.vault_password_file))
    sys.stdout.write(public_key_text(key.public()))
    return 0


def cmd_handover(args: argparse.Namespace) -> int:
    fleet, log = _town(args)
    key = SigningKey.from_vault(read_vault(args.folder, "secrets", args.vault_password_file))
    entry = footage.handover(fleet, Path(args.package), log, fingerprint(key.public()), by=args.by, to=args.to)
    print(
        f"Đã bàn giao / handed over: {args.package} ({entry['files']} tệp / files) {args.by} → {args.to}; "
        f"manifest sha256 {entry['manifest_sha256']}, khóa / key {entry['signing_key_fingerprint']} (ghi vào nhật ký / logged)"
    )
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    _, log = _town(args)
    footage.delete_package(Path(args.package), log, by=args.by, reason=args.reason)
    print(f"Đã xóa / deleted {args.package} (ghi vào nhật ký / logged)")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    _, log = _town(args)
    raw = log.read()
    problems = verify_chain(raw)
    for problem in problems:
        print(f"HỎNG / BROKEN: {log.path}: {problem}", file=sys.stderr)
    if args.case:
        sys.stdout.write(log.case_lines(args.case).decode("utf-8"))
    elif not problems:
        seq, head = log.head()
        print(
            f"Nhật ký nguyên vẹn / log intact: {log.path}, {seq} mục / entries; "
            f"mục cuối / last entry sha256 {head} (ghi vào sổ để đối chiếu / write it in the paper register)"
        )
    return 1 if problems else 0


def _town_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "folder",
        help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac (CAMFLEET_OVERLAY: the simulator)",
    )
    p.add_argument(
        "--vault-password-file", help="tệp mật khẩu kho bí mật / vault password file (default: the town's demo file)"
    )
    p.add_argument("--log", help="sổ giao nhận dữ liệu / custody log file (default <town>/custody/footage.jsonl)")


def _request_arguments(p: argparse.ArgumentParser) -> None:
    _town_arguments(p)
    p.add_argument("--case", required=True, help="số vụ việc / case number, e.g. VV-2026-0142")
    p.add_argument(
        "--authority", required=True, help="cơ quan có thẩm quyền / id of a competent authority of the inventory"
    )
    p.add_argument("--document", help="the legal document: công văn / quyết định số ..., ngày ...")
    p.add_argument("--requested-by", help="cán bộ đề nghị / id of the officer who asks")
    p.add_argument("--approved-by", help="cán bộ công an phê duyệt / id of the station officer who approves")
    p.add_argument("--purpose", help="mục đích trích xuất / what the footage is for")
    p.add_argument(
        "--from",
        dest="window_from",
        required=True,
        help="thời điểm, giờ địa phương / 'YYYY-MM-DD HH:MM', the town's time",
    )
    p.add_argument(
        "--to", dest="window_to", required=True, help="thời điểm, giờ địa phương / 'YYYY-MM-DD HH:MM', the town's time"
    )
    p.add_argument("--camera", action="append", help="mã camera (lặp lại nếu nhiều) / a camera id (repeat for more)")
    p.add_argument("--site", action="append", help="every camera of a khu phố (repeat for more)")
    p.add_argument(
        "--street", action="append", help="mọi camera trên một tuyến đường / every camera on a street (repeat for more)"
    )
    p.add_argument("--near", help="các camera quanh một điểm / LAT,LON: the cameras within --radius of this point")
    p.add_argument("--radius", type=float, help="bán kính (mét) / metres around --near")
    p.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="số giây mỗi yêu cầu tới đầu ghi / seconds per recorder request (default 20)",
    )


def add_parser(sub: Any) -> None:
    footage_parser = sub.add_parser(
        "footage",
        help="trích xuất dữ liệu hình ảnh phục vụ điều tra / footage for investigations: request, export, verify, import",
    )
    cmds = footage_parser.add_subparsers(dest="footage_command", required=True, parser_class=type(footage_parser))

    p = cmds.add_parser(
        "request", help="kiểm tra đề nghị trích xuất / check a request and show what each camera has, and until when"
    )
    _request_arguments(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_guarded(cmd_request))

    p = cmds.add_parser(
        "export", help="trích xuất thành gói có chữ ký / request, search and export into a signed package (and a zip)"
    )
    _request_arguments(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="thư mục ghi gói (USB) / folder to write <case>/ and <case>.zip into (the USB stick)",
    )
    p.set_defaults(func=_guarded(cmd_export))

    p = cmds.add_parser(
        "verify", help="kiểm tra gói dữ liệu / check a package offline: hashes, signature, manifest, custody chain"
    )
    p.add_argument("package", help="thư mục gói dữ liệu / the package folder")
    p.add_argument(
        "--fingerprint", help="dấu vân tay khóa của công an / the station's published key fingerprint, to pin the key"
    )
    p.add_argument(
        "--town",
        dest="folder",
        help="kiểm tra cả sổ giao nhận của địa bàn / also check that this town's custody log is whole and still holds the entry the package was "
        "sealed after, and log the verification there",
    )
    p.add_argument("--by", help="người kiểm tra / id of who verifies (with --town)")
    p.add_argument("--log", help="sổ giao nhận dữ liệu / custody log file (with --town)")
    p.set_defaults(func=_guarded(cmd_verify), vault_password_file=None)

    p = cmds.add_parser(
        "import", help="thêm tệp do hộ gia đình cung cấp / add a household's exported files to a case's package"
    )
    _town_arguments(p)
    p.add_argument("package", help="thư mục gói của vụ việc / the case's package folder")
    p.add_argument("--household", required=True, help="household id (loại hình 1 owner)")
    p.add_argument("--received-by", required=True, help="cán bộ nhận tệp / id of the officer who received the files")
    p.add_argument("--received-on", help="ngày nhận / date received, YYYY-MM-DD (default today)")
    p.add_argument(
        "--camera", help="camera của hộ gia đình / the household's camera the files are from (default: its only one)"
    )
    p.add_argument(
        "--file",
        action="append",
        required=True,
        help="tệp hộ gia đình bàn giao / a file the household handed over (repeat)",
    )
    p.set_defaults(func=_guarded(cmd_import))

    p = cmds.add_parser(
        "key", help="in khóa ký công khai / print the station's public signing key (or --new: make a key for the vault)"
    )
    p.add_argument("folder", nargs="?", help="thư mục dữ liệu địa bàn / town inventory folder")
    p.add_argument(
        "--vault-password-file", help="tệp mật khẩu kho bí mật / vault password file (default: the town's demo file)"
    )
    p.add_argument("--new", action="store_true", help="tạo khóa mới cho kho bí mật / generate a new key for the vault")
    p.set_defaults(func=_guarded(cmd_key))

    p = cmds.add_parser(
        "handover",
        help="ghi sổ bàn giao gói dữ liệu / log the handover of a checked package to the authority's officer",
    )
    _town_arguments(p)
    p.add_argument("package", help="thư mục gói dữ liệu / the package folder")
    p.add_argument("--by", required=True, help="cán bộ bàn giao / id of the station officer who hands it over")
    p.add_argument("--to", required=True, help="cán bộ tiếp nhận / id of the authority's officer who receives it")
    p.set_defaults(func=_guarded(cmd_handover))

    p = cmds.add_parser("delete", help="xóa gói dữ liệu (có ghi sổ) / delete a package (logged: who, why)")
    _town_arguments(p)
    p.add_argument("package", help="thư mục gói dữ liệu / the package folder")
    p.add_argument("--by", required=True, help="người xóa / id of who deletes it")
    p.add_argument("--reason", required=True, help="why (e.g. 'handed over, copy destroyed per decision 45/QĐ')")
    p.set_defaults(func=_guarded(cmd_delete))

    p = cmds.add_parser(
        "log", help="kiểm tra sổ giao nhận / check the town's custody log chain (--case: print one case's entries)"
    )
    _town_arguments(p)
    p.add_argument("--case", help="in các dòng của vụ việc này / print this case's entries")
    p.set_defaults(func=_guarded(cmd_log))


def _guarded(fn: Any) -> Any:
    """A command whose user mistakes and device failures are one line on stderr, exit 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            result: int = fn(args)
            return result
        except InventoryError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 1
        except (JobError, DriverError, EvidenceError, CustodyError) as err:
            print(f"camfleet footage: {err}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"camfleet footage: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
            return 1

    return run
