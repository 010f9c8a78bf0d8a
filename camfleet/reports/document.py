"""A report as data (titles, tables, notes), rendered to a terminal table, CSV, Markdown or HTML.

Reports are read by Vietnamese-speaking officials: every heading carries the
Vietnamese first and the English beside it. JSON output does not go through
here; each report gives its own machine-readable form.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from camfleet.paths import TEMPLATES


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str
    numeric: bool = False

    @property
    def label(self) -> str:
        return f"{self.vi} / {self.en}"


@dataclass
class Table:
    heading_vi: str
    heading_en: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    footer: dict[str, Any] | None = None


@dataclass
class Document:
    title_vi: str
    title_en: str
    subtitle: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)
    #: A line printed in bold under the title on every format (e.g. "contains contact details").
    banner: str | None = None


def fmt(value: Any) -> str:
    """Numbers with thousands separators as Vietnamese documents write them (1.234.567)."""
    if isinstance(value, bool):
        return "có / yes" if value else "không / no"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return "" if value is None else str(value)


def render_table(doc: Document) -> str:
    out = [doc.title_vi, doc.title_en, doc.subtitle, *([f"*** {doc.banner} ***"] if doc.banner else []), ""]
    for table in doc.tables:
        out += [f"{table.heading_vi} / {table.heading_en}", ""]
        rows = [*table.rows, *([table.footer] if table.footer else [])]
        header = [c.vi for c in table.columns]
        header2 = [c.en for c in table.columns]
        cells = [[fmt(r.get(c.key)) for c in table.columns] for r in rows]
        widths = [
            max(len(h), len(h2), *(len(row[i]) for row in cells))
            for i, (h, h2) in enumerate(zip(header, header2, strict=True))
        ]

        line = functools.partial(_aligned, widths=widths, columns=table.columns)

        out += [line(header), line(header2), "  ".join("-" * w for w in widths)]
        out += [line(row) for row in cells[: len(table.rows)]]
        if table.footer:
            out += ["  ".join("-" * w for w in widths), line(cells[-1])]
        out.append("")
    out += [f"* {n}" for n in doc.notes]
    return "\n".join(out).rstrip() + "\n"


def _aligned(values: list[str], widths: list[int], columns: list[Column]) -> str:
    return "  ".join(
        v.rjust(w) if c.numeric else v.ljust(w) for v, w, c in zip(values, widths, columns, strict=True)
    ).rstrip()


def render_csv(doc: Document) -> str:
    """One CSV of the first table (spreadsheets take one table per file), English headers."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for table in doc.tables[:1]:
        writer.writerow([c.key for c in table.columns])
        for row in [*table.rows, *([table.footer] if table.footer else [])]:
            writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in table.columns])
    return buf.getvalue()


def render_csv_sections(doc: Document) -> str:
    """One CSV of every table when they share their columns (a table per khu phố): a first column
    ``section`` names the table each row comes from; footers (subtotals) are left out."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    columns = doc.tables[0].columns if doc.tables else []
    writer.writerow(["section", *(c.key for c in columns)])
    for table in doc.tables:
        for row in table.rows:
            writer.writerow([table.heading_vi, *("" if row.get(c.key) is None else row.get(c.key) for c in columns)])
    return buf.getvalue()


def markdown_text(value: Any) -> Any:
    """A value as Markdown text: Markdown passes HTML through to the page it becomes, so a name typed
    as ``<script>`` is written ``&lt;script&gt;`` (shown as typed, never run). Quotes stay readable."""
    if not isinstance(value, str):
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_cell(value: str) -> str:
    """A cell's text kept inside its Markdown table cell: a ``|`` or a line break would split the row."""
    return " ".join(value.replace("|", "\\|").split())


def md_bold(value: str) -> str:
    """Bold, but an empty cell stays empty (``****`` is not bold nothing, it prints as four stars)."""
    return f"**{value}**" if value else ""


@jinja2.pass_eval_context
def _finalize(eval_ctx: jinja2.nodes.EvalContext, value: Any) -> Any:
    """Every value printed: HTML templates escape it themselves (autoescape), Markdown ones here."""
    return value if eval_ctx.autoescape else markdown_text(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(TEMPLATES) / "reports"),
        # Escaped by what a template writes: it is named for its output plus .j2 (document.html.j2), so
        # matching the last suffix alone (.html) escaped nothing. Unknown output is escaped too.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xhtml", "html.j2", "htm.j2", "xhtml.j2"),
            disabled_extensions=("md.j2",),
            default_for_string=True,
            default=True,
        ),
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["md_cell"] = md_cell
    env.filters["md_bold"] = md_bold
    return env


def render_template(name: str, **context: Any) -> str:
    """Render ``templates/reports/<name>`` in the reports' environment (HTML autoescaped)."""
    return _environment().get_template(name).render(**context)


def render_markdown(doc: Document) -> str:
    return _environment().get_template("document.md.j2").render(doc=doc)


def render_html(doc: Document) -> str:
    return _environment().get_template("document.html.j2").render(doc=doc)


RENDERERS = {
    "table": render_table,
    "csv": render_csv,
    "md": render_markdown,
    "html": render_html,
}
