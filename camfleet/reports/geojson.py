"""The town as GeoJSON (RFC 7946: WGS84, [lon, lat] order): cameras, their view cones, routes, khu phố.

Public data only: a camera is its id, kind, status, khu phố and street, never its household, its
mounting address or its network address (the map is printed and handed round). Render only: the
cones and the khu phố areas come computed from :mod:`camfleet.inventory.coverage`.

    .venv/bin/camfleet map inventory/ngoc-lac -o /tmp/map && head -c 600 /tmp/map/town.geojson
"""

from __future__ import annotations

from typing import Any

from camfleet.inventory.fleet import Fleet
from camfleet.model import CameraKind, CameraView


def town_geojson(
    fleet: Fleet,
    cones: dict[str, list[list[float]]],
    views: dict[str, CameraView],
    areas: dict[str, list[list[float]]],
) -> dict[str, Any]:
    """A FeatureCollection: khu phố areas, routes, view cones, then one Point per camera (drawn in that order)."""
    features: list[dict[str, Any]] = []
    for site_id, ring in areas.items():
        site = fleet.sites[site_id]
        features.append(
            {
                "type": "Feature",
                "id": f"site/{site.id}",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"layer": "site", "id": site.id, "name": site.name, "approximate": True},
            }
        )
    for route in fleet.routes.values():
        features.append(
            {
                "type": "Feature",
                "id": f"route/{route.id}",
                "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in route.points]},
                "properties": {
                    "layer": "route",
                    "id": route.id,
                    "name": route.name,
                    "kind": route.kind.value,
                    "priority": route.priority,
                    "sites": list(route.sites),
                },
            }
        )
    for camera_id, ring in cones.items():
        camera = fleet.cameras[camera_id]
        features.append(
            {
                "type": "Feature",
                "id": f"view/{camera.id}",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "layer": "view",
                    "camera": camera.id,
                    "kind": camera.kind.value,
                    "status": camera.status.value,
                },
            }
        )
    for camera in fleet.cameras.values():
        home = fleet.sites.get(camera.site)
        view = views[camera.id]
        features.append(
            {
                "type": "Feature",
                "id": f"camera/{camera.id}",
                "geometry": {"type": "Point", "coordinates": [camera.location.lon, camera.location.lat]},
                "properties": {
                    "layer": "camera",
                    "id": camera.id,
                    "kind": camera.kind.value,
                    "status": camera.status.value,
                    # An owner's camera the station watches over ONVIF (managed: true): "shared", not just "community".
                    "shared": camera.kind is CameraKind.community and camera.is_managed,
                    "site": camera.site,
                    "site_name": home.name if home is not None else camera.site,
                    "street": camera.location.street,
                    "bearing_deg": camera.location.bearing_deg,
                    "angle_deg": view.angle_deg,
                    "range_m": view.range_m,
                },
            }
        )
    box = fleet.town.bbox
    return {
        "type": "FeatureCollection",
        "bbox": [box.west, box.south, box.east, box.north],
        "properties": {"town": fleet.town.id, "name": fleet.town.name},
        "features": features,
    }
