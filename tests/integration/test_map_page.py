"""The offline map page in a real headless Chromium (Debian's): it draws every camera, route and view
cone, its screenshot is not blank, and it asks the network for nothing.

"Nothing" is watched, not assumed: the browser's only way out is a proxy that is a loopback socket
recording every request; a page made with ``--tiles`` must
show up there, the offline page must not.

    .venv/bin/camfleet map inventory/ngoc-lac -o /tmp/map
    chromium --headless --no-sandbox --dump-dom --virtual-time-budget=3000 file:///tmp/map/map.html | grep data-
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfleet.cli import main
from camfleet.inventory import load
from camfleet.reports.pdf import HEADLESS
from tests.conftest import TOWN
from tests.drivers.driver_sim import address

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make apt)"),
]


class Recorder:
    """A loopback socket standing in for the whole network: every request line it gets, answered 404."""

    def __init__(self) -> None:
        self.host = address()
        self.sock = socket.socket()
        self.sock.bind((self.host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self) -> None:
        self.sock.close()


#: What Debian's Chromium asks for by itself whatever the flags (component updates, sign-in, its clock):
#: Google's own service hosts, never a page's. Everything else reaching the recorder came from the page.
BROWSER_OWN = re.compile(r"^(CONNECT |[A-Z]+ https?://)([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)[:/ ]")


def from_page(requests: list[str]) -> list[str]:
    return [r for r in requests if not BROWSER_OWN.match(r)]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder()
    yield found
    found.close()


def chromium(page: Path, profile: Path, recorder: Recorder, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            *HEADLESS,
            f"--user-data-dir={profile}",
            f"--proxy-server=http://{recorder.host}:{recorder.port}",
            "--proxy-bypass-list=<-loopback>",
            "--virtual-time-budget=1500",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_map(folder: Path, out: Path, *extra: str) -> Path:
    """``camfleet map`` (in this process: the same code as the command, without its start-up time)."""
    assert main(["map", str(folder), "-o", str(out), *extra]) == 0
    return out / "map.html"


def drawn(dom: str) -> dict[str, int]:
    head = dom[dom.index("<body") : dom.index(">", dom.index("<body"))]
    return {
        key: int(head.split(f'data-{key}-drawn="')[1].split('"')[0]) for key in ("cameras", "routes", "views", "sites")
    }


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit PNG, decoded with zlib alone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [b"".join(r[i : i + 3] for i in range(0, len(r), bpp)) for r in rows]


def test_offline_page_draws_everything_and_asks_the_network_for_nothing(tmp_path: Path, recorder: Recorder) -> None:
    page = make_map(TOWN, tmp_path / "map")
    html = page.read_text(encoding="utf-8")
    assert "src=" not in html and "href=" not in html and "@import" not in html and "url(" not in html
    assert "http://" not in html and "https://" not in html
    fleet = load(TOWN).fleet

    dom = chromium(page, tmp_path / "profile", recorder, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert drawn(dom.stdout) == {
        "cameras": len(fleet.cameras),
        "routes": len(fleet.routes),
        "views": sum(1 for c in fleet.cameras.values() if c.status != "retired"),
        "sites": len(fleet.sites),
    }
    assert "Khu phố" in dom.stdout and "đã nghiệm thu / commissioned (" in dom.stdout  # the legend was built

    shot = tmp_path / "shot.png"
    done = chromium(page, tmp_path / "profile", recorder, f"--screenshot={shot}", "--window-size=640,480")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    width, height, rows = png_pixels(shot)
    assert (width, height) == (640, 480)
    background = {bytes((0xFB, 0xFA, 0xF7)), bytes((0xFF, 0xFF, 0xFF))}
    inked = sum(1 for row in rows for px in (row[i : i + 3] for i in range(0, len(row), 3)) if px not in background)
    routes_blue = sum(  # pixels of the priority-1 routes' colour
        1 for row in rows for i in range(0, len(row), 3) if row[i : i + 3] == bytes((0x08, 0x30, 0x6B))
    )
    assert inked > 0.03 * width * height, inked
    assert routes_blue > 200, routes_blue
    assert from_page(recorder.requests) == []


def test_tiles_when_online_go_through_the_network(tmp_path: Path, recorder: Recorder) -> None:
    """The control: with a tile URL the same browser does ask, so the recorder above would have seen a leak."""
    page = make_map(TOWN, tmp_path / "map", "--tiles", "http://tiles.invalid/{z}/{x}/{y}.png")
    dom = chromium(page, tmp_path / "profile", recorder, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert drawn(dom.stdout)["cameras"] == 70
    asked = from_page(recorder.requests)
    assert asked and all(r.startswith("GET http://tiles.invalid/") for r in asked), recorder.requests


def test_hostile_names_are_shown_not_run(tmp_path: Path, recorder: Recorder) -> None:
    town = tmp_path / "town"
    shutil.copytree(TOWN, town, ignore=shutil.ignore_patterns("custody"))
    site = town / "sites" / "kp-01.yml"
    hostile = "</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>"
    site.write_text(
        site.read_text(encoding="utf-8").replace("name: Khu phố Lê Lai", f"name: {json.dumps(hostile)}", 1),
        encoding="utf-8",
    )
    page = make_map(town, tmp_path / "map")
    dom = chromium(page, tmp_path / "profile", recorder, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "pwned" not in dom.stdout.split("<title>")[1].split("</title>")[0]
    assert drawn(dom.stdout)["cameras"] == 70  # the renderer ran to the end with the name as data
    assert "<img" not in dom.stdout and from_page(recorder.requests) == []
