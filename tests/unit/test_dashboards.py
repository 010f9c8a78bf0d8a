"""The Grafana dashboards: the committed JSON is what the builders give, and every query is wired.

The queries themselves run on a real Prometheus in tests/integration/test_prometheus_alerts.py.

    .venv/bin/pytest tests/unit/test_dashboards.py -q
    .venv/bin/python -m camfleet.config.grafana          # regenerate after editing camfleet/config/grafana.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from camfleet.config.grafana import BUILDERS, DASHBOARDS_DIR, main, panel_queries, stale


def boards() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASHBOARDS_DIR.glob("*.json"))}


def test_committed_json_is_what_the_builders_give() -> None:
    assert stale() == [], "run .venv/bin/python -m camfleet.config.grafana"
    assert set(boards()) == set(BUILDERS)


def test_a_hand_edit_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "dashboards"
    shutil.copytree(DASHBOARDS_DIR, copy)
    path = copy / "rollout.json"
    path.write_text(path.read_text(encoding="utf-8").replace("Rollout", "Roll-out"), encoding="utf-8")
    assert stale(copy) == ["rollout.json"]
    assert main(["--check", "--out", str(copy)]) == 1
    assert main(["--out", str(copy)]) == 0
    assert stale(copy) == []


def test_every_panel_queries_the_camfleet_datasource() -> None:
    uids = [board["uid"] for board in boards().values()]
    assert len(set(uids)) == len(uids) and all(uid.startswith("camfleet-") for uid in uids)
    for name, board in boards().items():
        for panel in board["panels"]:
            assert panel["targets"], f"{name}/{panel['title']} has no query"
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "prometheus", "uid": "camfleet-prometheus"}
                assert target["expr"].strip()
    assert len(panel_queries()) >= 20


def test_the_map_colours_cameras_by_health_from_coordinates() -> None:
    board = boards()["fleet-overview"]
    (geomap,) = [p for p in board["panels"] if p["type"] == "geomap"]
    refs = {t["refId"]: t["expr"] for t in geomap["targets"]}
    assert "camfleet_camera_latitude_degrees" in refs["LAT"]
    assert "camfleet_camera_longitude_degrees" in refs["LON"]
    assert 'camfleet_probe_success{module="stream"' in refs["HEALTH"]
    layer = geomap["options"]["layers"][0]
    assert layer["location"] == {"mode": "coords", "latitude": "Value #LAT", "longitude": "Value #LON"}
    assert layer["config"]["color"]["field"] == "Value #HEALTH"


def test_every_dashboard_with_site_filter_uses_it() -> None:
    for name, board in boards().items():
        names = [v["name"] for v in board.get("templating", {}).get("list", [])]
        if "site" in names:
            uses = [e for e in panel_queries() if e.startswith(name + "/")]
            assert any("$site" in panel_queries()[k] for k in uses), name
