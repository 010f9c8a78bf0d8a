"""Route coverage: hand-checkable geometry, which cameras count, whose view applies, the report and the map files.

One straight 200 m route running east; camera A stands on it at 100 m looking east (90°, 60 m): it sees
exactly 100–160 m. Camera B stands 10 m north of the route at 50 m looking south (90°, 30 m): its cone's
straight edges cross the route 10 m either side, 40–60 m. A faulty camera C would see 150–200 m.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import pytest

from camfleet.cli import main
from camfleet.inventory import load
from camfleet.inventory.coverage import DEFAULT_VIEW, camera_view, coverage
from camfleet.inventory.fleet import Fleet
from camfleet.model import Camera, CameraStatus, CameraView, Route
from camfleet.reports.geojson import town_geojson
from camfleet.reports.townmap import map_page
from tests.conftest import TOWN

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini-town"
# The mini town's box centre, where the projection is anchored; metres per degree of longitude there.
LAT0, LON0 = (20.06 + 20.125) / 2, (105.34 + 105.41) / 2
M_PER_DEG = 6_371_008.8 * math.pi / 180
KX = M_PER_DEG * math.cos(math.radians(LAT0))


def at(x_m: float, y_m: float = 0.0) -> tuple[float, float]:
    """(lat, lon) of a point x metres east and y metres north of the anchor."""
    return LAT0 + y_m / M_PER_DEG, LON0 + x_m / KX


def camera(
    base: Camera, ident: str, x: float, y: float, bearing: int, angle: float, reach: float, status: str
) -> Camera:
    lat, lon = at(x, y)
    location = base.location.model_copy(
        update={"lat": lat, "lon": lon, "bearing_deg": bearing, "view": CameraView(angle_deg=angle, range_m=reach)}
    )
    return base.model_copy(update={"id": ident, "location": location, "status": CameraStatus(status)})


@pytest.fixture(scope="module")
def straight() -> Fleet:
    fleet = load(MINI).fleet
    base = fleet.cameras["cam-t01"]
    cams = [
        camera(base, "cam-a", 0, 0, 90, 90, 60, "commissioned"),
        camera(base, "cam-b", -50, 10, 180, 90, 30, "installed"),
        camera(base, "cam-c", 50, 0, 90, 90, 50, "faulty"),  # would see 150–200 m
        camera(base, "cam-d", 0, 200, 0, 90, 30, "commissioned"),  # far north, looking away: sees nothing
    ]
    route = Route(
        id="thang", name="Đường Thẳng", kind="street", priority=1, sites=["kp-01"], points=[at(-100), at(100)]
    )
    return dataclasses.replace(fleet, cameras={c.id: c for c in cams}, routes={route.id: route})


def test_straight_route_covered_exactly(straight: Fleet) -> None:
    result = coverage(straight, min_gap_m=30)
    (r,) = result.routes
    assert r.length_m == pytest.approx(200, abs=1e-6)
    assert r.covered_m == pytest.approx(80, abs=0.01)  # 40–60 (B) and 100–160 (A)
    assert r.share == pytest.approx(0.4, abs=1e-4)
    assert sorted(result.cameras) == ["cam-a", "cam-b", "cam-d"]  # faulty C does not count
    assert [(round(g.start_m, 2), round(g.end_m, 2)) for g in r.gaps] == [(0, 40), (60, 100), (160, 200)]
    for gap, middle in zip(r.gaps, (20, 80, 180), strict=True):
        lat, lon = at(middle - 100)
        assert (gap.lat, gap.lon) == (pytest.approx(lat, abs=1e-7), pytest.approx(lon, abs=1e-7))


def test_threshold_and_explicit_cameras(straight: Fleet) -> None:
    assert coverage(straight, min_gap_m=50).routes[0].gaps == []  # every gap is 40 m
    up = [straight.cameras["cam-a"], straight.cameras["cam-c"]]  # what the exporter passes: cameras up now
    (r,) = coverage(straight, up, min_gap_m=30).routes
    assert r.covered_m == pytest.approx(100, abs=0.01)  # A 100–160 and C 150–200: one stretch, 100–200
    assert [(round(g.start_m), round(g.end_m)) for g in r.gaps] == [(0, 100)]
    (none,) = coverage(straight, [], min_gap_m=30).routes
    assert none.covered_m == 0 and [(g.start_m, g.end_m) for g in none.gaps] == [(0, pytest.approx(200))]


def test_route_folding_back_on_itself_counts_each_pass(straight: Fleet) -> None:
    route = Route(id="u", name="Ngõ U", kind="alley", priority=3, sites=["kp-01"], points=[at(-100), at(100), at(-100)])
    fleet = dataclasses.replace(straight, routes={"u": route})
    (r,) = coverage(fleet, min_gap_m=30).routes
    assert r.length_m == pytest.approx(400, abs=1e-6)
    assert r.covered_m == pytest.approx(160, abs=0.02)  # both passes are seen where the first one is
    # the way back: A's 100–160 m is at 240–300 m of the route, B's 40–60 m at 340–360 m
    assert [(round(g.start_m), round(g.end_m)) for g in r.gaps] == [
        (0, 40),
        (60, 100),
        (160, 240),
        (300, 340),
        (360, 400),
    ]


def test_view_comes_from_camera_then_model_then_default() -> None:
    fleet = load(MINI).fleet
    cam = fleet.cameras["cam-t01"]  # a catalogue model
    assert camera_view(fleet, cam) == DEFAULT_VIEW
    key = next(iter(fleet.firmware))
    with_view = dataclasses.replace(
        fleet, firmware={key: fleet.firmware[key].model_copy(update={"view": CameraView(angle_deg=110, range_m=25)})}
    )
    assert camera_view(with_view, cam) == CameraView(angle_deg=110, range_m=25)
    own = cam.model_copy(
        update={"location": cam.location.model_copy(update={"view": CameraView(angle_deg=40, range_m=80)})}
    )
    assert camera_view(with_view, own) == CameraView(angle_deg=40, range_m=80)


def test_coverage_report_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "coverage.json"
    assert main(["report", "coverage", str(TOWN), "--format", "json", "--min-gap", "100", "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    fleet = load(TOWN).fleet
    assert {r["route"] for r in data["routes"]} == set(fleet.routes) and len(fleet.routes) >= 20
    assert 0 < data["share"] < 1 and data["min_gap_m"] == 100
    assert all(g["length_m"] > 100 for r in data["routes"] for g in r["gaps"])
    assert any(r["share"] == 0 for r in data["routes"]) and any(r["share"] > 0 for r in data["routes"])
    assert main(["report", "coverage", str(TOWN)]) == 0
    text = capsys.readouterr().out
    assert "Độ phủ theo tuyến / Coverage per route" in text and "ngo-cho-le-loi" in text


def test_coverage_bad_min_gap_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "coverage", str(TOWN), "--min-gap", "-5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--min-gap" in err and " / " in err


def test_map_files_are_public_and_escaped(tmp_path: Path) -> None:
    town = tmp_path / "town"
    shutil.copytree(MINI, town)
    hostile = "</script><script>alert(1)</script>"
    site = town / "site.yml"
    site.write_text(site.read_text(encoding="utf-8").replace("name: Khu phố 1", f'name: "{hostile}"'), encoding="utf-8")
    (town / "routes.yml").write_text(
        'routes:\n  - id: le-loi\n    name: "Đường Lê Lợi <b>&amp;"\n    kind: street\n    priority: 1\n'
        "    sites: [kp-01]\n    points: [[20.0935, 105.375], [20.0935, 105.3775], [20.094, 105.378]]\n",
        encoding="utf-8",
    )
    out = tmp_path / "map"
    assert main(["map", str(town), "-o", str(out), "--paper", "a4"]) == 0
    geo = json.loads((out / "town.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection"
    points = [f for f in geo["features"] if f["geometry"]["type"] == "Point"]
    assert {f["properties"]["id"] for f in points} == {"cam-t01", "cam-c01"}
    t01 = next(f for f in points if f["properties"]["id"] == "cam-t01")
    assert t01["geometry"]["coordinates"] == [105.376, 20.0935]  # RFC 7946: lon, lat
    assert t01["properties"]["site_name"] == hostile  # kept as typed, as data
    html = (out / "map.html").read_text(encoding="utf-8")
    assert hostile not in html and "<script>alert" not in html and "\\u003c/script\\u003e" in html
    assert html.count("<script") == 3 and html.count("</script>") == 3
    svg = (out / "map.svg").read_text(encoding="utf-8")
    assert 'width="297mm" height="210mm"' in svg and "<script" not in svg and "&lt;/script&gt;" in svg
    for name in ("town.geojson", "map.html", "map.svg"):  # no household, no address, no phone
        text = (out / name).read_text(encoding="utf-8")
        assert "hh-0" not in text and "10.78." not in text and "0237" not in text and "CK-0" not in text


def test_map_refuses_a_bad_tile_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(MINI), "-o", str(tmp_path), "--tiles", "javascript:alert(1)"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--tiles" in err and not list(tmp_path.iterdir())


def test_a_community_camera_the_station_watches_over_onvif_is_shared_on_the_map() -> None:
    fleet = load(TOWN).fleet
    data = town_geojson(fleet, {}, {c.id: camera_view(fleet, c) for c in fleet.cameras.values()}, {})
    shared = {f["properties"]["id"] for f in data["features"] if f["properties"].get("shared")}
    expected = {c.id for c in fleet.cameras.values() if c.kind.value == "community" and c.is_managed}
    assert shared == expected and "cam-05-c01" in shared  # the Imou shop camera shared over ONVIF
    page = map_page(data)
    assert "chia sẻ hình với trạm / shared with the station" in page
    assert "đã lắp đặt / installed" in page  # the glossary's words, not a second list in the page
