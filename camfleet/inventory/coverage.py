"""What the cameras see of the town's routes: view cones, the covered share of each route, its gaps.

    .venv/bin/camfleet report coverage inventory/ngoc-lac --min-gap 50

A camera sees a cone: from its mounting point along ``bearing_deg``, ``angle_deg`` wide and
``range_m`` deep (its ``location.view``, else its model's ``view`` in the firmware catalogue, else
:data:`DEFAULT_VIEW`). A route is covered where it runs inside at least one counted camera's cone.

Geometry is done by shapely in a local metric plane: an equirectangular projection around the
centre of the town's bounding box (x east, y north, metres). Across a town (a few km) its distance
error is far below a metre per hundred; it is not meant for a province. Each route is cut into its
straight segments and each segment intersected with the cones an STRtree finds near it, all in
vectorised calls; on a straight segment a covered piece is an interval of distance, so no
projection onto a route that crosses itself can be ambiguous.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString

from camfleet.inventory.fleet import Fleet
from camfleet.model import Camera, CameraStatus, CameraView, Route

#: The view of a camera whose model has none in the catalogue: a 2 MP camera with a 3.6 mm lens.
DEFAULT_VIEW = CameraView(angle_deg=90, range_m=30)
#: Uncovered stretches shorter than this are not listed (metres).
DEFAULT_MIN_GAP_M = 50.0
#: Statuses counted by default: the cameras the inventory says are mounted and working.
COUNTED = frozenset({CameraStatus.installed, CameraStatus.commissioned})
#: Points on a cone's arc (a 90° cone: one every 2.8°, at most 4 cm off the true arc at 30 m).
ARC_POINTS = 33
#: Metres per degree of latitude on a sphere of the Earth's mean radius.
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180
#: Intervals this close (metres) are one.
_EPSILON = 1e-6


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection around (lat0, lon0): good to well under 1 % across a town."""

    lat0: float
    lon0: float

    @classmethod
    def for_fleet(cls, fleet: Fleet) -> Projection:
        box = fleet.town.bbox
        return cls((box.south + box.north) / 2, (box.west + box.east) / 2)

    @property
    def _kx(self) -> float:
        return METRES_PER_DEGREE * math.cos(math.radians(self.lat0))

    def xy(self, lat: np.ndarray | float, lon: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(lon) - self.lon0) * self._kx, (np.asarray(lat) - self.lat0) * METRES_PER_DEGREE

    def latlon(self, x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(y) / METRES_PER_DEGREE + self.lat0, np.asarray(x) / self._kx + self.lon0


def camera_view(fleet: Fleet, camera: Camera) -> CameraView:
    """The camera's own view, else its model's, else :data:`DEFAULT_VIEW`."""
    if camera.location.view is not None:
        return camera.location.view
    if camera.device is not None:
        entry = fleet.firmware_for(camera.device.vendor, camera.device.model)
        if entry is not None and entry.view is not None:
            return entry.view
    return DEFAULT_VIEW


def counted_cameras(fleet: Fleet) -> list[Camera]:
    """The cameras a plan's coverage counts: installed or commissioned (not planned, faulty or retired)."""
    return [c for c in fleet.cameras.values() if c.status in COUNTED]


def cone_rings(fleet: Fleet, cameras: list[Camera], projection: Projection) -> np.ndarray:
    """Each camera's view cone as a closed ring in the metric plane, shape (cameras, points, 2).

    A cone narrower than a full turn is apex, arc, apex; a full turn is the arc alone (a disc).
    """
    n = len(cameras)
    ring = np.empty((n, ARC_POINTS + 2, 2))
    if n == 0:
        return ring
    lat = np.array([c.location.lat for c in cameras])
    lon = np.array([c.location.lon for c in cameras])
    views = [camera_view(fleet, c) for c in cameras]
    angle = np.radians(np.array([v.angle_deg for v in views]))
    reach = np.array([v.range_m for v in views])
    bearing = np.radians(np.array([c.location.bearing_deg for c in cameras], dtype=float))
    x, y = projection.xy(lat, lon)
    steps = np.linspace(0.0, 1.0, ARC_POINTS)
    theta = bearing[:, None] - angle[:, None] / 2 + angle[:, None] * steps[None, :]  # compass: 0 north, clockwise
    ring[:, 1:-1, 0] = x[:, None] + reach[:, None] * np.sin(theta)
    ring[:, 1:-1, 1] = y[:, None] + reach[:, None] * np.cos(theta)
    ring[:, 0, 0] = ring[:, -1, 0] = x
    ring[:, 0, 1] = ring[:, -1, 1] = y
    disc = angle >= 2 * math.pi - 1e-9
    if disc.any():  # no apex: the arc closes on itself
        ring[disc, 0] = ring[disc, -2]
        ring[disc, -1] = ring[disc, -2]
    return ring


def cones(fleet: Fleet, cameras: list[Camera], projection: Projection) -> np.ndarray:
    """The cameras' view cones as shapely polygons in the metric plane (same order)."""
    if not cameras:
        return np.empty(0, dtype=object)
    return np.asarray(shapely.polygons(cone_rings(fleet, cameras, projection)), dtype=object)


@dataclass(frozen=True)
class Gap:
    """An uncovered stretch of a route: from ``start_m`` to ``end_m`` metres from the route's start."""

    start_m: float
    end_m: float
    lat: float  # the stretch's middle
    lon: float

    @property
    def length_m(self) -> float:
        return self.end_m - self.start_m


@dataclass(frozen=True)
class RouteCoverage:
    route: Route
    length_m: float
    covered_m: float
    gaps: list[Gap]  # uncovered stretches longer than the threshold, in order along the route

    @property
    def share(self) -> float:
        return self.covered_m / self.length_m if self.length_m > 0 else 0.0


@dataclass(frozen=True)
class Coverage:
    routes: list[RouteCoverage]
    cameras: list[str]  # the cameras counted
    min_gap_m: float
    projection: Projection = field(repr=False)

    @property
    def length_m(self) -> float:
        return sum(r.length_m for r in self.routes)

    @property
    def covered_m(self) -> float:
        return sum(r.covered_m for r in self.routes)

    @property
    def share(self) -> float:
        total = self.length_m
        return self.covered_m / total if total > 0 else 0.0


def coverage(
    fleet: Fleet,
    cameras: Iterable[Camera] | None = None,
    *,
    min_gap_m: float = DEFAULT_MIN_GAP_M,
) -> Coverage:
    """Each route's covered length and its uncovered stretches longer than ``min_gap_m``.

    ``cameras``: the cameras that count (default :func:`counted_cameras`; the exporter passes the
    ones that are up now).
    """
    projection = Projection.for_fleet(fleet)
    counted = list(cameras) if cameras is not None else counted_cameras(fleet)
    routes = list(fleet.routes.values())

    # Every straight segment of every route, with where it starts along its route.
    starts_xy: list[np.ndarray] = []
    ends_xy: list[np.ndarray] = []
    seg_route: list[np.ndarray] = []
    seg_offset: list[np.ndarray] = []
    lengths: list[float] = []
    lines: list[LineString] = []
    for index, route in enumerate(routes):
        pts = np.array(route.points, dtype=float)
        x, y = projection.xy(pts[:, 0], pts[:, 1])
        xy = np.column_stack([x, y])
        seg_len = np.hypot(*(xy[1:] - xy[:-1]).T)
        starts_xy.append(xy[:-1])
        ends_xy.append(xy[1:])
        seg_route.append(np.full(len(seg_len), index))
        seg_offset.append(np.concatenate([[0.0], np.cumsum(seg_len)[:-1]]))
        lengths.append(float(seg_len.sum()))
        lines.append(LineString(xy))
    if not routes:
        return Coverage([], [c.id for c in counted], min_gap_m, projection)
    a = np.concatenate(starts_xy)
    b = np.concatenate(ends_xy)
    owner = np.concatenate(seg_route)
    offset = np.concatenate(seg_offset)
    seg_len = np.hypot(*(b - a).T)
    direction = np.divide(b - a, seg_len[:, None], out=np.zeros_like(a), where=seg_len[:, None] > 0)

    intervals: list[list[tuple[float, float]]] = [[] for _ in routes]
    polygons = cones(fleet, counted, projection)
    if len(polygons):
        segments = np.asarray(shapely.linestrings(np.stack([a, b], axis=1)), dtype=object)
        tree = shapely.STRtree(polygons)
        seg_idx, cone_idx = tree.query(segments, predicate="intersects")
        pieces = shapely.intersection(segments[seg_idx], polygons[cone_idx])
        parts, part_of = shapely.get_parts(pieces, return_index=True)
        coords, coord_of = shapely.get_coordinates(parts, return_index=True)
        if len(coords):
            seg_of_coord = seg_idx[part_of[coord_of]]
            t = np.einsum("ij,ij->i", coords - a[seg_of_coord], direction[seg_of_coord])
            lo = np.full(len(parts), np.inf)
            hi = np.full(len(parts), -np.inf)
            np.minimum.at(lo, coord_of, t)
            np.maximum.at(hi, coord_of, t)
            part_seg = seg_idx[part_of]
            keep = hi - lo > _EPSILON  # a cone touching a segment at a point covers nothing
            lo = np.clip(lo[keep], 0, seg_len[part_seg[keep]]) + offset[part_seg[keep]]
            hi = np.clip(hi[keep], 0, seg_len[part_seg[keep]]) + offset[part_seg[keep]]
            for route_index, start, end in zip(owner[part_seg[keep]].tolist(), lo.tolist(), hi.tolist(), strict=True):
                intervals[route_index].append((start, end))

    out = []
    for index, route in enumerate(routes):
        merged = _merge(intervals[index])
        covered = sum(end - start for start, end in merged)
        gaps = []
        cursor = 0.0
        for start, end in [*merged, (lengths[index], lengths[index])]:
            if start - cursor > min_gap_m:
                middle = lines[index].interpolate((cursor + start) / 2)
                lat, lon = projection.latlon(middle.x, middle.y)
                gaps.append(Gap(cursor, start, float(lat), float(lon)))
            cursor = max(cursor, end)
        out.append(RouteCoverage(route, lengths[index], min(covered, lengths[index]), gaps))
    return Coverage(out, [c.id for c in counted], min_gap_m, projection)


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + _EPSILON:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def cone_lonlat(fleet: Fleet, cameras: list[Camera]) -> list[list[list[float]]]:
    """Each camera's view cone as a GeoJSON ring of [lon, lat] (6 decimals: 10 cm)."""
    projection = Projection.for_fleet(fleet)
    rings = cone_rings(fleet, cameras, projection)
    lat, lon = projection.latlon(rings[..., 0], rings[..., 1])
    return np.round(np.stack([lon, lat], axis=-1), 6).tolist()  # type: ignore[no-any-return]


#: How far around its cameras and routes a khu phố's drawn area reaches (metres).
SITE_MARGIN_M = 40.0


def site_areas(fleet: Fleet) -> dict[str, list[list[float]]]:
    """Each khu phố's area for a map, as a GeoJSON ring of [lon, lat]: the inventory has no surveyed
    boundary, so it is the convex hull of its cameras and its routes' points, widened by
    :data:`SITE_MARGIN_M` (an approximation, drawn as one)."""
    projection = Projection.for_fleet(fleet)
    points: dict[str, list[tuple[float, float]]] = {site: [] for site in fleet.sites}
    for camera in fleet.cameras.values():
        if camera.site in points:
            points[camera.site].append((camera.location.lat, camera.location.lon))
    for route in fleet.routes.values():
        for site in route.sites:
            if site in points:
                points[site].extend(route.points)
    out = {}
    for site, found in points.items():
        if not found:
            continue
        lat, lon = np.array(found).T
        x, y = projection.xy(lat, lon)
        hull = shapely.MultiPoint(np.column_stack([x, y])).convex_hull.buffer(SITE_MARGIN_M, quad_segs=4)
        ring = np.array(hull.exterior.coords)
        hlat, hlon = projection.latlon(ring[:, 0], ring[:, 1])
        out[site] = np.round(np.column_stack([hlon, hlat]), 6).tolist()
    return out
