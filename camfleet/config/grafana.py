"""Grafana dashboards for the station, built with Grafana's foundation SDK into committed JSON.

Why generated and committed: the JSON is what Grafana provisions (and what a reviewer diffs);
the Python is what a person edits. ``tests/unit/test_dashboards.py`` fails when the two drift,
and ``tests/integration/test_prometheus_alerts.py`` runs every panel query on a real Prometheus
scraping the exporter over the simulated town (each must parse and return data).

Dashboards (uid ``camfleet-*``, datasource uid ``camfleet-prometheus`` from the provisioning
file ``templates/grafana/provisioning/datasources/camfleet.yml.j2``):

- fleet overview: a geomap of cameras coloured by health (1 streams, 0 down, -1 not deployed
  yet), headline numbers, a per-khu-phố table, and "dark now": each camera without frames, since
  when, its street, khu phố and link router state;
- recorders: free space, days until full at the present fill rate, retention forecast against
  the town's target, disk health, channels recording, and "dark now" for the channels;
- availability: each camera's stream availability over 30 days, per khu phố over time;
- rollout: cameras by status per khu phố.

Where the map's data come from: the exporter's ``inventory`` module
(``/probe?target=<town>&module=inventory``) emits ``camfleet_camera_latitude_degrees`` and
``_longitude_degrees`` (public street positions) and ``camfleet_camera_info{site,kind,status}``;
``/sd`` and ``/metrics`` carry none of it.

    .venv/bin/python -m camfleet.config.grafana            # regenerate templates/grafana/dashboards/*.json
    .venv/bin/python -m camfleet.config.grafana --check    # exit 1 if the committed JSON is stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import barchart, bargauge, geomap, stat, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable, ThresholdsConfig
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import FrameGeometrySourceMode
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    GridPos,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from camfleet.inventory import InventoryError, load
from camfleet.inventory.glossary import Term, town_words
from camfleet.paths import TEMPLATES

DASHBOARDS_DIR = TEMPLATES / "grafana" / "dashboards"
#: The whole town's words on dashboards made for no town in particular (the committed JSON): "địa bàn" (the area)
#: fits a xã, a phường and a thị trấn alike. ``--town FOLDER`` renders them with the town's own word ("Toàn xã").
ANY_TOWN = Term("Toàn địa bàn", "Whole town")
DATASOURCE = DataSourceRef(type_val="prometheus", uid="camfleet-prometheus")
SITE = 'site=~"$site"'
#: The ``town`` variable: on a central store (VictoriaMetrics, Mimir, Thanos) every series carries the ``town`` its
#: station's Prometheus put in its external labels; on the station itself there is none, and "All" (``.*``) matches
#: the empty label. Every selector of every query gets it (:func:`by_town`).
TOWN = 'town=~"$town"'
_SELECTOR = re.compile(r'(?<![\w:"$])((?:camfleet[_:]|ALERTS\b)[\w:]*)(\{[^{}]*\})?(?!\s*\()')


_GROUPING = re.compile(r"\b(by|on)\s*\(([^()]*)\)")


def by_town(expr: str) -> str:
    """``expr`` with ``town=~"$town"`` in the selector of every camfleet series (and ``ALERTS``), and ``town`` in
    every ``by (...)`` and ``on (...)``: ids are a town's own (every town has a ``kp-01``, a ``cam-01-t01``, an
    ``lr-01-01``), so on a central store with "All" towns a camera, khu phố or link router is (town, id). At a
    station the label is empty on every side, and the results are the same as without it."""

    def add(match: re.Match[str]) -> str:
        name, braces = match.group(1), match.group(2)
        if not braces or braces == "{}":
            return f"{name}{{{TOWN}}}"
        inside = braces[1:-1].rstrip().rstrip(",")
        return f"{name}{{{inside}, {TOWN}}}"

    def group(match: re.Match[str]) -> str:
        labels = [label.strip() for label in match.group(2).split(",") if label.strip()]
        if not labels or "town" in labels:
            return match.group(0)
        return f"{match.group(1)} (town, {', '.join(labels)})"

    return _GROUPING.sub(group, _SELECTOR.sub(add, expr))


#: Per camera, 1 streams / 0 down; an owner's camera shared with the station over ONVIF that streams: 2
#: ("shared", not "not deployed"); cameras the inventory has but the exporter does not probe yet: -1.
_STREAMS = (
    'max by (camera) (label_replace(camfleet_probe_success{module="stream", '
    + SITE
    + '}, "camera", "$1", "instance", "(.*)"))'
)
CAMERA_HEALTH = (
    "(" + _STREAMS + " * 2 and on (camera) camfleet_camera_shared == 1)"
    " or " + _STREAMS + " or on (camera) (max by (camera) (camfleet_camera_info{" + SITE + "}) * -1)"
)
DAYS_UNTIL_FULL = (
    'camfleet:recorder_free_bytes:sum{instance=~"$recorder"}'
    ' / clamp_min(-deriv(camfleet:recorder_free_bytes:sum{instance=~"$recorder"}[6h]), 1e-9) / 86400'
)

#: "Dark now": seconds since a camera last sent frames (a channel last recorded), over the last 7 days, from the
#: recording rules ``camfleet:*_timestamp_seconds`` (templates/prometheus/alerts.yml.j2); one never good in that
#: window counts from its first sample (at least that long). Healthy ones are a scrape interval old; the panels
#: hide them with a filter (:data:`DARK_AFTER_S`), so the query always returns a row per camera.
DARK_WINDOW = "7d"
DARK_AFTER_S = 90
STREAM = 'camfleet_probe_success{module="stream", ' + SITE + "}"
CAMERA_DARK_FOR = (
    "max by (instance, street, site, link_router) ("
    f"time() - max_over_time(camfleet:stream_up_timestamp_seconds{{{SITE}}}[{DARK_WINDOW}])"
    f" or time() - min_over_time(camfleet:stream_seen_timestamp_seconds{{{SITE}}}[{DARK_WINDOW}]))"
)
#: Per camera, its household link router's state now (1 up, 0 down); same labels as CAMERA_DARK_FOR.
CAMERA_LINK_UP = (
    f"max by (instance, street, site, link_router) ({STREAM} * 0"
    ' + on (link_router) group_left () max by (link_router) (camfleet_probe_success{module="link"}))'
)
RECORDER = 'instance=~"$recorder"'
CHANNEL = "camfleet_recorder_channel_recording{" + RECORDER + "}"
#: The camera's street and khu phố, from its stream series, for a recorder channel's row.
_CAMERA_PLACE = (
    " * on (camera) group_left (street, site) (max by (camera, street, site) (label_replace("
    'camfleet_probe_success{module="stream"}, "camera", "$1", "instance", "(.*)")) * 0 + 1)'
)
CHANNEL_DARK_FOR = (
    "max by (instance, channel, camera, link_router, street, site) (("
    f"time() - max_over_time(camfleet:recorder_channel_recording_timestamp_seconds{{{RECORDER}}}[{DARK_WINDOW}])"
    f" or time() - min_over_time(camfleet:recorder_channel_seen_timestamp_seconds{{{RECORDER}}}[{DARK_WINDOW}]))"
    f"{_CAMERA_PLACE})"
)
CHANNEL_LINK_UP = (
    f"max by (instance, channel, camera, link_router, street, site) (({CHANNEL} * 0"
    ' + on (link_router) group_left () max by (link_router) (camfleet_probe_success{module="link"}))'
    f"{_CAMERA_PLACE})"
)

Panel = Any  # the SDK's panel builders share no base class with the fluent methods


def query(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False, as_table: bool = False) -> Dataquery:
    q = Dataquery().expr(by_town(expr)).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant()
    if as_table:
        q = q.format(PromQueryFormat.TABLE)
    return q


def thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=v, color=c) for v, c in steps])


def merge() -> DataTransformerConfig:
    """Instant table queries sharing label columns become one row per label set."""
    return DataTransformerConfig(id_val="merge", options={})


def _choice(name: str, label: str, query: str) -> QueryVariable:
    """A dashboard variable read from Prometheus labels: several values at once, All meaning any."""
    return (
        QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def site_variable() -> QueryVariable:
    return _choice("site", "Khu phố", f"label_values({by_town('camfleet_camera_info')}, site)")


def town_variable() -> QueryVariable:
    """The town, from the external label every station's Prometheus sends the central store (docs/scaling.md)."""
    return _choice("town", "Địa bàn / Town", "label_values(camfleet_probe_success, town)")


def recorder_variable() -> QueryVariable:
    return _choice(
        "recorder",
        "Đầu ghi / Recorder",
        f"label_values({by_town('camfleet_recorder_retention_target_days')}, instance)",
    )


def base(uid: str, title: str, description: str, time_from: str) -> Dashboard:
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["camfleet"])
        .timezone("browser")
        .refresh("1m")
        .time(time_from, "now")
        .with_variable(town_variable())
    )


def camera_map() -> Panel:
    health = thresholds((None, "#8e8e8e"), (0, "red"), (1, "green"), (2, "blue"))
    markers = (
        cb.MapLayerOptions()
        .type("markers")
        .name("Camera")
        .location(
            cb.FrameGeometrySource().mode(FrameGeometrySourceMode.COORDS).latitude("Value #LAT").longitude("Value #LON")
        )
        .config(
            {
                "color": {"field": "Value #HEALTH", "fixed": "dark-green"},
                "size": {"fixed": 7},
                "showLegend": True,
                "style": {"symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"}},
            }
        )
        .tooltip(True)
    )
    return (
        geomap.Panel()
        .title("Camera · sức khỏe / health")
        .description(
            "Xanh lá: có hình; đỏ: mất hình; xanh dương: camera của chủ nhà chia sẻ hình với trạm (ONVIF); xám: chưa"
            " triển khai. / Green: streams; red: no video; blue: an owner's camera shared with the station (ONVIF);"
            " grey: in the inventory, not deployed yet. Click for the camera id."
        )
        .grid_pos(_pos(0, 0, 14, 14))
        .with_target(
            query(
                "camfleet_camera_latitude_degrees * on (camera) group_left (site, street) camfleet_camera_info{"
                + SITE
                + "}",
                ref="LAT",
                instant=True,
                as_table=True,
            )
        )
        .with_target(
            query(
                "camfleet_camera_longitude_degrees * on (camera) group_left () camfleet_camera_info{" + SITE + "}",
                ref="LON",
                instant=True,
                as_table=True,
            )
        )
        .with_target(query(CAMERA_HEALTH, ref="HEALTH", instant=True, as_table=True))
        .with_transformation(merge())
        .thresholds(health)
        .basemap(cb.MapLayerOptions().type("osm-standard").name("OpenStreetMap"))
        .layers([markers])
        .view(geomap.MapViewConfig().id("fit").all_layers(True).zoom(15))
    )


def _pos(x: int, y: int, w: int, h: int) -> Any:
    return GridPos(x=x, y=y, w=w, h=h)


def stat_panel(title: str, expr: str, pos: Any, unit: str = "none", steps: ThresholdsConfig | None = None) -> Panel:
    panel = stat.Panel().title(title).grid_pos(pos).unit(unit).with_target(query(expr, instant=True))
    return panel.thresholds(steps) if steps is not None else panel


def dark_now_table(title: str, description: str, pos: Any, dark: str, link: str, columns: dict[str, str]) -> Panel:
    """A table of what is dark now: one row per series dark for more than :data:`DARK_AFTER_S`, longest first."""
    return (
        table.Panel()
        .title(title)
        .description(description)
        .grid_pos(pos)
        .with_target(query(dark, ref="DARK", instant=True, as_table=True))
        .with_target(query(link, ref="LINK", instant=True, as_table=True))
        .with_transformation(merge())
        .with_transformation(
            DataTransformerConfig(
                id_val="filterByValue",
                options={
                    "type": "include",
                    "match": "all",
                    "filters": [
                        {
                            "fieldName": "Value #DARK",
                            "config": {"id": "greater", "options": {"value": DARK_AFTER_S}},
                        }
                    ],
                },
            )
        )
        .with_transformation(
            DataTransformerConfig(id_val="sortBy", options={"sort": [{"field": "Value #DARK", "desc": True}]})
        )
        .with_transformation(
            DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True},
                    "renameByName": {
                        **columns,
                        "street": "Đường / Street",
                        "site": "Khu phố",
                        "link_router": "Router",
                        "Value #DARK": "Mất từ / Dark for",
                        "Value #LINK": "Router (1 có / up, 0 mất / down)",
                    },
                },
            )
        )
        .override_by_name("Mất từ / Dark for", [DynamicConfigValue(id_val="unit", value="s")])
    )


def fleet_overview(whole: Term = ANY_TOWN) -> Dashboard:
    site_table = (
        table.Panel()
        .title("Theo khu phố / Per khu phố")
        .description("Cameras in the inventory, streams up and down now, link routers down, availability over 24 h.")
        .grid_pos(_pos(0, 14, 24, 10))
        .with_target(
            query("count by (site) (camfleet_camera_info{" + SITE + "})", ref="CAMERAS", instant=True, as_table=True)
        )
        .with_target(
            query(
                'sum by (site) (camfleet_probe_success{module="stream", ' + SITE + "})",
                ref="UP",
                instant=True,
                as_table=True,
            )
        )
        .with_target(
            query(
                'sum by (site) (1 - camfleet_probe_success{module="stream", ' + SITE + "})",
                ref="DOWN",
                instant=True,
                as_table=True,
            )
        )
        .with_target(
            query(
                'sum by (site) (1 - camfleet_probe_success{module="link", ' + SITE + "})",
                ref="LINKS_DOWN",
                instant=True,
                as_table=True,
            )
        )
        .with_target(
            query(
                'avg by (site) (avg_over_time(camfleet_probe_success{module="stream", ' + SITE + "}[1d]))",
                ref="AVAIL",
                instant=True,
                as_table=True,
            )
        )
        .with_transformation(merge())
        .with_transformation(
            DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True},
                    "renameByName": {
                        "site": "Khu phố",
                        "Value #CAMERAS": "Cameras",
                        "Value #UP": "Streams up",
                        "Value #DOWN": "Streams down",
                        "Value #LINKS_DOWN": "Links down",
                        "Value #AVAIL": "Availability 24 h",
                    },
                },
            )
        )
        .override_by_name("Availability 24 h", [DynamicConfigValue(id_val="unit", value="percentunit")])
    )
    return (
        base(
            "camfleet-fleet",
            f"camfleet · {whole.vi} / Fleet overview",
            "Which camera sends no picture, now.",
            "now-6h",
        )
        .with_variable(site_variable())
        .with_panel(camera_map())
        .with_panel(
            stat_panel(
                "Camera có hình / Streams up",
                'sum(camfleet_probe_success{module="stream", ' + SITE + "})",
                _pos(14, 0, 5, 4),
                steps=thresholds((None, "green")),
            )
        )
        .with_panel(
            stat_panel(
                "Camera mất hình / Streams down",
                'count(camfleet_probe_success{module="stream", ' + SITE + "} == 0) or vector(0)",
                _pos(19, 0, 5, 4),
                steps=thresholds((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            stat_panel(
                "Router mất kết nối / Links down",
                'count(camfleet_probe_success{module="link"} == 0) or vector(0)',
                _pos(14, 4, 5, 4),
                steps=thresholds((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            stat_panel(
                "Cảnh báo / Alerts firing",
                'count(ALERTS{alertstate="firing", severity="page"}) or vector(0)',
                _pos(19, 4, 5, 4),
                steps=thresholds((None, "green"), (1, "red")),
            )
        )
        .with_panel(
            timeseries.Panel()
            .title("Camera có hình theo thời gian / Streams up over time")
            .grid_pos(_pos(14, 8, 10, 6))
            .with_target(query('sum by (site) (camfleet_probe_success{module="stream", ' + SITE + "})", "{{site}}"))
        )
        .with_panel(site_table)
        .with_panel(
            dark_now_table(
                "Camera mất hình lúc này / Cameras dark now",
                "Each camera without frames now, for how long (time() - its last good probe, up to 7 days), where,"
                " and whether its household link router answers.",
                _pos(0, 24, 24, 10),
                CAMERA_DARK_FOR,
                CAMERA_LINK_UP,
                {"instance": "Camera"},
            )
        )
    )


def recorders() -> Dashboard:
    return (
        base(
            "camfleet-recorders",
            "camfleet · Đầu ghi / Recorders: storage and retention",
            "Will the disks hold the town's retention target? Free space, fill rate, forecast, disk health.",
            "now-7d",
        )
        .with_variable(recorder_variable())
        .with_panel(
            timeseries.Panel()
            .title("Dung lượng trống / Free space")
            .unit("bytes")
            .grid_pos(_pos(0, 0, 12, 8))
            .with_target(query('camfleet:recorder_free_bytes:sum{instance=~"$recorder"}', "{{instance}} free", "FREE"))
            .with_target(
                query(
                    'sum by (instance) (camfleet_recorder_disk_capacity_bytes{instance=~"$recorder"})',
                    "{{instance}} capacity",
                    "CAP",
                )
            )
        )
        .with_panel(
            bargauge.Panel()
            .title("Số ngày đến khi đầy / Days until full (present fill rate)")
            .unit("d")
            .min(0)
            .grid_pos(_pos(12, 0, 12, 8))
            .thresholds(thresholds((None, "red"), (7, "orange"), (30, "green")))
            .with_target(query(DAYS_UNTIL_FULL, "{{instance}}", instant=True))
        )
        .with_panel(
            bargauge.Panel()
            .title("Dự báo lưu trữ khi đầy / Retention forecast when full vs target")
            .description(
                "Days of footage a recorder will hold when its disks are full: present retention plus days until full."
            )
            .unit("d")
            .min(0)
            .grid_pos(_pos(0, 8, 12, 8))
            .thresholds(thresholds((None, "red"), (30, "green")))
            .with_target(
                query(
                    DAYS_UNTIL_FULL
                    + ' + on (instance) group_left () max by (instance) (camfleet_recorder_retention_days{instance=~"$recorder"})',
                    "{{instance}} forecast",
                    "FORECAST",
                    instant=True,
                )
            )
            .with_target(
                query(
                    'max by (instance) (camfleet_recorder_retention_target_days{instance=~"$recorder"})',
                    "{{instance}} target",
                    "TARGET",
                    instant=True,
                )
            )
        )
        .with_panel(
            table.Panel()
            .title("Số ngày lưu theo kênh / Retention per channel")
            .grid_pos(_pos(12, 8, 12, 8))
            .with_target(
                query(
                    'camfleet_recorder_retention_days{instance=~"$recorder"}', ref="DAYS", instant=True, as_table=True
                )
            )
            .with_target(
                query(
                    'camfleet_recorder_channel_recording{instance=~"$recorder"}', ref="REC", instant=True, as_table=True
                )
            )
            .with_transformation(merge())
        )
        .with_panel(
            stat.Panel()
            .title("Ổ cứng / Disk health")
            .grid_pos(_pos(0, 16, 12, 5))
            .thresholds(thresholds((None, "red"), (1, "green")))
            .with_target(
                query(
                    'camfleet_recorder_disk_healthy{instance=~"$recorder"}', "{{instance}} slot {{slot}}", instant=True
                )
            )
        )
        .with_panel(
            stat.Panel()
            .title("Kênh đang ghi / Channels recording")
            .grid_pos(_pos(12, 16, 12, 5))
            .with_target(
                query(
                    'sum by (instance) (camfleet_recorder_channel_recording{instance=~"$recorder"})',
                    "{{instance}}",
                    instant=True,
                )
            )
        )
        .with_panel(
            dark_now_table(
                "Kênh không ghi lúc này / Channels not recording now",
                "Each recorder channel not recording now, for how long (up to 7 days), its camera's street and"
                " khu phố, and whether that camera's link router answers.",
                _pos(0, 21, 24, 10),
                CHANNEL_DARK_FOR,
                CHANNEL_LINK_UP,
                {"instance": "Đầu ghi / Recorder", "channel": "Kênh / Channel", "camera": "Camera"},
            )
        )
    )


def availability(whole: Term = ANY_TOWN) -> Dashboard:
    window = 'avg_over_time(camfleet_probe_success{module="stream", ' + SITE + "}[30d])"
    return (
        base(
            "camfleet-availability",
            "camfleet · Tỷ lệ có hình 30 ngày / Stream availability, 30 days",
            "Share of sub-stream probes that got frames, per camera and khu phố, over the last 30 days.",
            "now-30d",
        )
        .with_variable(site_variable())
        .with_panel(
            stat_panel(
                f"{whole.vi} / {whole.en}",
                "avg(" + window + ")",
                _pos(0, 0, 6, 6),
                "percentunit",
                thresholds((None, "red"), (0.95, "orange"), (0.99, "green")),
            )
        )
        .with_panel(
            timeseries.Panel()
            .title("Theo khu phố, trung bình 1 ngày / Per khu phố, 1-day average")
            .unit("percentunit")
            .max(1)
            .grid_pos(_pos(6, 0, 18, 8))
            .with_target(
                query(
                    'avg by (site) (avg_over_time(camfleet_probe_success{module="stream", ' + SITE + "}[1d]))",
                    "{{site}}",
                )
            )
        )
        .with_panel(
            bargauge.Panel()
            .title("Theo camera / Per camera")
            .unit("percentunit")
            .min(0)
            .max(1)
            .grid_pos(_pos(0, 8, 24, 16))
            .thresholds(thresholds((None, "red"), (0.95, "orange"), (0.99, "green")))
            .with_target(query("sort(" + window + ")", "{{instance}} ({{site}})", instant=True))
        )
    )


def rollout() -> Dashboard:
    return (
        base(
            "camfleet-rollout",
            "camfleet · Tiến độ lắp đặt / Rollout progress",
            "Cameras by lifecycle status per khu phố, from the inventory (planned → surveyed → installed → commissioned).",
            "now-90d",
        )
        .with_variable(site_variable())
        .with_panel(
            stat_panel(
                "Đã đưa vào vận hành / Commissioned",
                'count(camfleet_camera_info{status="commissioned", '
                + SITE
                + "}) / count(camfleet_camera_info{"
                + SITE
                + "})",
                _pos(0, 0, 6, 6),
                "percentunit",
            )
        )
        .with_panel(
            barchart.Panel()
            .title("Camera theo trạng thái / Cameras by status per khu phố")
            .grid_pos(_pos(6, 0, 18, 12))
            .with_target(
                query(
                    "sum by (site, status) (camfleet_camera_info{" + SITE + "})",
                    "{{status}}",
                    instant=True,
                    as_table=True,
                )
            )
            .with_transformation(
                DataTransformerConfig(
                    id_val="groupingToMatrix",
                    options={"columnField": "status", "rowField": "site", "valueField": "Value"},
                )
            )
        )
        .with_panel(
            timeseries.Panel()
            .title("Số camera theo trạng thái / Cameras by status over time")
            .grid_pos(_pos(0, 12, 24, 8))
            .with_target(query("count by (status) (camfleet_camera_info{" + SITE + "})", "{{status}}"))
        )
        .with_panel(
            stat_panel(
                "Độ phủ tuyến đường lúc này / Route coverage now",
                "sum(camfleet_route_covered_meters) / sum(camfleet_route_length_meters)",
                _pos(0, 20, 6, 10),
                "percentunit",
                thresholds((None, "red"), (0.3, "orange"), (0.6, "green")),
            ).description(
                "Share of all surveyed routes' length inside the view of a camera that is up now (the exporter's "
                "coverage module; cameras it does not stream-probe count by inventory status)."
            )
        )
        .with_panel(
            bargauge.Panel()
            .title("Độ phủ theo tuyến, ưu tiên cao trước / Coverage per route, highest priority first")
            .description(
                "Where the next camera should go: the least-covered routes of priority 1. The stretches themselves: "
                "camfleet report coverage <town>."
            )
            .unit("percentunit")
            .min(0)
            .max(1)
            .grid_pos(_pos(6, 20, 18, 10))
            .thresholds(thresholds((None, "red"), (0.3, "orange"), (0.6, "green")))
            .with_target(
                query(
                    "sort(camfleet_route_coverage_ratio{" + SITE + "})",
                    "{{priority}} · {{route}}",
                    instant=True,
                )
            )
        )
    )


BUILDERS: dict[str, Callable[..., Dashboard]] = {
    "fleet-overview": fleet_overview,
    "recorders": recorders,
    "availability": availability,
    "rollout": rollout,
}


#: The builders that name the whole town (their ``whole`` words).
TOWN_WORDED = (fleet_overview, availability)


def render(builder: Callable[..., Dashboard], whole: Term = ANY_TOWN) -> str:
    board = builder(whole) if builder in TOWN_WORDED else builder()
    return (
        json.dumps(json.loads(JSONEncoder().encode(board.build())), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def town_whole(kind: str) -> Term:
    """The whole town's words for a town of this kind ("Toàn xã" / "Whole commune")."""
    words = town_words(kind)
    return Term(words.whole.vi, words.whole.en[:1].upper() + words.whole.en[1:])


def write_all(folder: Path = DASHBOARDS_DIR, whole: Term = ANY_TOWN) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in BUILDERS.items():
        path = folder / f"{name}.json"
        path.write_text(render(builder, whole), encoding="utf-8")
        written.append(path)
    return written


def stale(folder: Path = DASHBOARDS_DIR) -> list[str]:
    """Dashboards whose committed JSON differs from what the builders give now."""
    out = []
    for name, builder in BUILDERS.items():
        path = folder / f"{name}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != render(builder):
            out.append(path.name)
    return out


def panel_queries(folder: Path = DASHBOARDS_DIR) -> dict[str, str]:
    """Every PromQL expression of every panel in the JSON files: ``file/panel/refId`` → expr."""
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board.get("panels", []):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    out[f"{path.stem}/{panel.get('title')}/{target.get('refId')}"] = target["expr"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m camfleet.config.grafana", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if the JSON files are stale")
    p.add_argument("--out", type=Path, default=DASHBOARDS_DIR)
    p.add_argument("--town", type=Path, help="render for this town inventory folder, in its words (e.g. 'Toàn xã')")
    args = p.parse_args(argv)
    if args.check:
        bad = stale(args.out)
        for name in bad:
            print(f"{args.out / name}: stale; run .venv/bin/python -m camfleet.config.grafana", file=sys.stderr)
        return 1 if bad else 0
    whole = ANY_TOWN
    if args.town is not None:
        try:
            whole = town_whole(load(args.town).fleet.town.kind)
        except InventoryError as err:
            print(
                f"{args.town}: dữ liệu địa bàn có {len(err.problems)} lỗi / the town inventory has "
                f"{len(err.problems)} problem(s); run camfleet validate {args.town}",
                file=sys.stderr,
            )
            return 1
    for path in write_all(args.out, whole):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
