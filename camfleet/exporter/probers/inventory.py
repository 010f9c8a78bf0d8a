"""``inventory``: what the inventory says of every camera, for dashboards (rollout, the map).

Why a probe and not ``/metrics``: ``/metrics`` is the exporter's own health only; the town's
plan (which camera is planned, surveyed, installed, commissioned, faulty; where it stands) is
data about the fleet, so it rides the same multi-target path with the town id as the target
(``/probe?target=ngoc-lac&module=inventory``). No device is contacted and no login is needed;
it succeeds whenever the inventory loaded.

Coordinates are the public street position of the pole or wall a camera hangs on; street names
are public too. Household ids, landmarks, mounting addresses, names and phones are never
emitted. Latitude and longitude are values (not labels) so a Grafana geomap reads them as numbers.

Sample output (``curl '127.0.0.1:9830/probe?target=ngoc-lac&module=inventory'``)::

    camfleet_camera_info{camera="cam-01-t01",kind="town",site="kp-01",status="commissioned",street="Đường Lê Lợi"} 1.0
    camfleet_camera_latitude_degrees{camera="cam-01-t01"} 20.0912
    camfleet_camera_shared{camera="cam-05-c01"} 1.0
    camfleet_camera_longitude_degrees{camera="cam-01-t01"} 105.3701
    camfleet_site_info{site="kp-01",site_name="Khu phố 1"} 1.0
"""

from __future__ import annotations

from camfleet.exporter.probers import coverage
from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest
from camfleet.model import CameraKind, CameraStatus


async def probe(req: ProbeRequest, out: Metrics) -> Outcome:
    if req.module.coverage:
        return await coverage.probe(req, out)
    fleet = req.fleet
    for site in fleet.sites.values():
        out.gauge("camfleet_site_info", "A khu phố of the town and its name.", 1, site=site.id, site_name=site.name)
    for cam in fleet.cameras.values():
        if cam.status is CameraStatus.retired:
            continue
        out.gauge(
            "camfleet_camera_info",
            "A camera of the inventory: khu phố, kind, lifecycle status, street.",
            1,
            camera=cam.id,
            site=cam.site,
            kind=cam.kind.value,
            status=cam.status.value,
            street=cam.location.street,
        )
        if cam.kind is CameraKind.community:  # the map and dashboards show a shared one as "shared"
            out.gauge(
                "camfleet_camera_shared",
                "1 if the owner shares this community camera's stream with the station (managed: true, read "
                "through ONVIF); 0 if the station does not see it.",
                cam.is_managed,
                camera=cam.id,
            )
        out.gauge("camfleet_camera_latitude_degrees", "Camera latitude (WGS84).", cam.location.lat, camera=cam.id)
        out.gauge("camfleet_camera_longitude_degrees", "Camera longitude (WGS84).", cam.location.lon, camera=cam.id)
    return Outcome.ok()
