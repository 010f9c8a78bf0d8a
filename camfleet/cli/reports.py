"""``camfleet report <kind> FOLDER``: one sub-command per document, each with its own formats and options.

A document report is a :class:`ReportKind`: a function from the loaded town (and the parsed
options) to its machine-readable form and its :class:`~camfleet.reports.document.Document`. The
command loads the town, calls it, renders the format asked for and writes stdout or ``-o FILE``.
A new report is one entry in :data:`REPORTS` (and its builder in ``camfleet/reports/``)::

    .venv/bin/camfleet report budget inventory/ngoc-lac --format md
    .venv/bin/camfleet report retention inventory/ngoc-lac --format json -o retention.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from camfleet.inventory import InventoryError, Problem, load
from camfleet.inventory import coverage as route_coverage
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.plans import recorder_plans
from camfleet.inventory.progress import camera_rows, progress, sign_rows, survey_rows
from camfleet.inventory.vault import read_vault
from camfleet.reports import budget, cameras, retention, signs, survey
from camfleet.reports import coverage as coverage_report
from camfleet.reports import progress as progress_report
from camfleet.reports.document import RENDERERS, Document, render_csv_sections
from camfleet.reports.pdf import PdfError, html_to_pdf

#: What a builder returns: the JSON form and the document the other formats render.
Built = tuple[Any, Document]

DOCUMENT_FORMATS = ("table", "csv", "json", "md", "html")


@dataclass(frozen=True)
class ReportKind:
    """One ``camfleet report`` sub-command."""

    help: str
    build: Callable[[Fleet, argparse.Namespace], Built]
    formats: tuple[str, ...] = DOCUMENT_FORMATS
    default_format: str = "table"
    #: Adds the report's own options to its sub-parser.
    options: Callable[[argparse.ArgumentParser], None] | None = None
    #: Renders a format the generic renderers do not know (e.g. a PDF); gets the built pair, the
    #: format and the output path (None: stdout) and returns an exit code.
    render: Callable[[Built, str, Path | None], int] | None = None
    #: Formats ``render`` draws itself although a generic renderer exists (the signs' HTML sheet).
    own_formats: tuple[str, ...] = ()


class ReportUsageError(ValueError):
    """An option the report cannot use (an unknown khu phố, a PDF to a terminal): one line, exit 2."""


def _budget(fleet: Fleet, args: argparse.Namespace) -> Built:
    rows = budget.budget_rows(fleet)
    return budget.as_json(fleet, rows), budget.as_document(fleet, rows)


def _retention(fleet: Fleet, args: argparse.Namespace) -> Built:
    plans = recorder_plans(fleet)
    return retention.as_json(fleet, plans), retention.as_document(fleet, plans)


def _coverage(fleet: Fleet, args: argparse.Namespace) -> Built:
    result = route_coverage.coverage(fleet, min_gap_m=args.min_gap)
    return coverage_report.as_json(fleet, result), coverage_report.as_document(fleet, result)


def _coverage_options(parser: argparse.ArgumentParser) -> None:
    def metres(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' không phải số mét / is not a number of metres") from None
        if not 0 <= value <= 100_000:
            raise argparse.ArgumentTypeError(f"{text}: từ 0 đến 100000 m / must be 0 to 100000 m")
        return value

    parser.add_argument(
        "--min-gap",
        type=metres,
        default=route_coverage.DEFAULT_MIN_GAP_M,
        help=f"đoạn không có camera dài hơn (mét) / list uncovered stretches longer than this, metres (default {route_coverage.DEFAULT_MIN_GAP_M:g})",
    )


def _signs(fleet: Fleet, args: argparse.Namespace) -> Built:
    if args.site is not None and args.site not in fleet.sites:
        known = ", ".join(fleet.sites)
        raise ReportUsageError(f"{args.site}: không có khu phố này / no such khu phố (có / known: {known})")
    rows = sign_rows(fleet, args.site)
    return signs.as_json(fleet, rows), signs.as_document(fleet, rows)


def _signs_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", help="chỉ biển của khu phố này / only the signs of this khu phố, e.g. kp-02")


def _render_signs(built: Built, fmt: str, output: Path | None) -> int:
    html = signs.render_html(built[0])
    if fmt == "html":
        write_text(html, output)
        return 0
    if output is None:
        raise ReportUsageError("PDF cần -o FILE (không in ra màn hình) / a PDF needs -o FILE, not the terminal")
    try:
        html_to_pdf(html, output)
    except PdfError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"đã ghi / wrote {output}", file=sys.stderr)
    return 0


def _render_sections_csv(built: Built, fmt: str, output: Path | None) -> int:
    """A table per khu phố as one CSV (the generic CSV keeps the first table only)."""
    write_text(render_csv_sections(built[1]), output)
    return 0


def _survey(fleet: Fleet, args: argparse.Namespace) -> Built:
    rows = survey_rows(fleet)
    contacts = None
    if args.with_contacts:
        vault = read_vault(args.folder, "contacts", args.vault_password_file)
        contacts = {str(k): v for k, v in (vault.get("vault_contacts") or {}).items() if isinstance(v, dict)}
    return survey.as_json(fleet, rows, contacts), survey.as_document(fleet, rows, contacts)


def _survey_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--with-contacts",
        action="store_true",
        help="bản in cho trưởng khu phố (mật) / the khu phố heads' printed copy: owners' names and phones from the vault (marked confidential)",
    )
    parser.add_argument(
        "--vault-password-file", help="tệp mật khẩu kho bí mật / the vault's password file (default: the town's)"
    )


def _cameras(fleet: Fleet, args: argparse.Namespace) -> Built:
    rows = camera_rows(fleet)
    return cameras.as_json(fleet, rows), cameras.as_document(fleet, rows)


def _progress(fleet: Fleet, args: argparse.Namespace) -> Built:
    today = args.today or dt.datetime.now(ZoneInfo(fleet.town.timezone)).date()
    result = progress(fleet, today)
    return progress_report.as_json(fleet.town, result), progress_report.as_document(fleet.town, result)


def _progress_options(parser: argparse.ArgumentParser) -> None:
    def day(text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"'{text}' không phải ngày YYYY-MM-DD / is not a YYYY-MM-DD date"
            ) from None

    parser.add_argument(
        "--today",
        type=day,
        help="tính chậm tiến độ tới ngày này / count what is late as of this date (default: today in the town)",
    )


REPORTS: dict[str, ReportKind] = {
    "budget": ReportKind(
        "dự toán kinh phí theo khu phố / per-khu-phố budget: cameras, recorders, disks and who funds them", _budget
    ),
    "retention": ReportKind(
        "số ngày lưu hình của từng đầu ghi / per-recorder retention plan: days of footage each recorder keeps",
        _retention,
    ),
    "coverage": ReportKind(
        "độ phủ camera trên các tuyến đường / per-route camera coverage: the share of each route the cameras see, and the stretches they miss",
        _coverage,
        options=_coverage_options,
    ),
    "signs": ReportKind(
        "biển CAMERA AN NINH để in / printable 'CAMERA AN NINH' signs (A4, HTML or PDF), one per town camera, with its id and QR code",
        _signs,
        formats=("html", "pdf", "md", "csv", "json", "table"),
        default_format="html",
        options=_signs_options,
        render=_render_signs,
        own_formats=("html",),
    ),
    "survey": ReportKind(
        "vận động loại hình 1 theo khu phố / the loại hình 1 campaign per khu phố: community cameras, their step, commitments, what is left",
        _survey,
        options=_survey_options,
        render=_render_sections_csv,
        own_formats=("csv",),
    ),
    "cameras": ReportKind(
        "phụ lục kế hoạch: danh sách camera / the plan's attachment: cameras per khu phố with location, kind, status, cost",
        _cameras,
        render=_render_sections_csv,
        own_formats=("csv",),
    ),
    "progress": ReportKind(
        "tiến độ so với kế hoạch / progress against the plan's dates: cameras, signs, the campaign, funds, what is late",
        _progress,
        options=_progress_options,
    ),
}


def print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def write_text(text: str, output: Path | None) -> None:
    """``text`` to ``output`` (saying so on stderr), or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    print(f"đã ghi / wrote {output}", file=sys.stderr)


def run_report(args: argparse.Namespace) -> int:
    kind = REPORTS[args.report]
    try:
        fleet = load(args.folder).fleet
    except InventoryError as exc:
        print_problems(exc.problems)
        print(
            f"{args.folder}: sửa các lỗi kho dữ liệu ở trên trước khi lập báo cáo / "
            "fix the inventory errors above before reporting",
            file=sys.stderr,
        )
        return 1
    output = Path(args.output) if args.output else None
    try:
        built = kind.build(fleet, args)
        own = args.format in kind.own_formats or (args.format not in RENDERERS and args.format != "json")
        if kind.render is not None and own:
            return kind.render(built, args.format, output)
    except InventoryError as exc:  # e.g. the vault of --with-contacts
        print_problems(exc.problems)
        return 1
    except ReportUsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    data, document = built
    if args.format == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = RENDERERS[args.format](document)
    write_text(text, output)
    return 0


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="các văn bản của địa bàn / the town's documents: " + ", ".join(REPORTS))
    kinds = p.add_subparsers(dest="report", required=True, metavar="KIND", parser_class=parser_class)
    for name, kind in REPORTS.items():
        k = kinds.add_parser(name, help=kind.help, description=kind.help)
        k.add_argument("folder", help="thư mục dữ liệu địa bàn / town inventory folder, e.g. inventory/ngoc-lac")
        k.add_argument("--format", choices=kind.formats, default=kind.default_format)
        k.add_argument("-o", "--output", help="ghi ra tệp này / write to this file instead of stdout")
        if kind.options is not None:
            kind.options(k)
        k.set_defaults(func=run_report)
