"""HTML to PDF with Chromium's own print engine (Debian package ``chromium``), A4 as the page's CSS asks.

    chromium --headless --no-sandbox --print-to-pdf=out.pdf --no-pdf-header-footer file:///…/signs.html

Run with no network and a throw-away profile: the page is local and must stay so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: Headless Chromium that reaches for nothing on its own (no first-run, updates, sync or background
#: requests): the sign PDFs here, and the map page's browser test and benchmark.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FLAGS = (*HEADLESS, "--disable-extensions", "--no-pdf-header-footer")


class PdfError(RuntimeError):
    """The PDF could not be printed; the message is one line for the person who asked."""


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "không tìm thấy chromium để in PDF; cài bằng `apt-get install -y chromium` hoặc dùng --format html "
        "/ chromium not found to print the PDF; install it (apt-get install -y chromium) or use --format html"
    )


def html_to_pdf(html: str, output: Path, timeout_s: float = 90) -> None:
    """Print ``html`` to ``output`` (written only when Chromium produced a PDF)."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="camfleet-pdf-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        out = Path(tmp) / "out.pdf"
        cmd = [
            binary,
            *FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(
                f"chromium không in xong PDF trong {timeout_s:g} s / chromium did not print the PDF in {timeout_s:g} s"
            ) from None
        if not out.is_file() or not out.read_bytes().startswith(b"%PDF"):
            last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["(no output)"])[-1]
            raise PdfError(
                f"chromium không in được PDF / chromium printed no PDF (exit {done.returncode}): {last[:200]}"
            )
        tmp_out = output.with_name(output.name + ".tmp")
        shutil.copyfile(out, tmp_out)
        tmp_out.replace(output)
