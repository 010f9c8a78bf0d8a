"""``recorder``: disks, channels and the footage an NVR really keeps.

What the recorder knows is the second, free hop of the stream diagnosis: "the camera answers
us" (``stream``) against "the recorder receives and records it" (``online``/``recording``),
without one more byte on the household uplink. Retention is measured, not planned: the newest
minus the oldest recording of each channel, against the town's target.

``camfleet_recorder_channel_identity_ok`` says whether a channel records the inventory's camera at
all (the serial the recorder learnt from the device at the channel's address): a swapped or
re-addressed camera is online and recording, and 0 here.

Channel series carry the camera id and its link router (from the inventory), so alert rules
can fold a channel alert under its link's outage.

Sample output (``curl '127.0.0.1:9830/probe?target=nvr-01&module=recorder'``)::

    camfleet_recorder_disk_capacity_bytes{slot="1"} 4.0e+12
    camfleet_recorder_disk_free_bytes{slot="1"} 0.0
    camfleet_recorder_disk_healthy{slot="1"} 1.0
    camfleet_recorder_disk_status_info{slot="1",status="ok"} 1.0
    camfleet_recorder_channel_online{camera="cam-01-t01",channel="1",link_router="lr-01-01"} 1.0
    camfleet_recorder_channel_recording{camera="cam-01-t01",channel="1",link_router="lr-01-01"} 1.0
    camfleet_recorder_channel_identity_ok{camera="cam-01-t01",channel="1"} 1.0
    camfleet_recorder_oldest_recording_timestamp_seconds{camera="cam-01-t01",channel="1",...} 1.79e+09
    camfleet_recorder_newest_recording_timestamp_seconds{camera="cam-01-t01",channel="1",...} 1.79e+09
    camfleet_recorder_retention_days{camera="cam-01-t01",channel="1",link_router="lr-01-01"} 50.7
    camfleet_recorder_retention_target_days 30.0
"""

from __future__ import annotations

import time

from camfleet.drivers import open_driver
from camfleet.drivers.base import RecorderDriver, RecordingRange
from camfleet.drivers.errors import DriverError, Unsupported
from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest, driver_failure, driver_timeout, run_blocking
from camfleet.jobs.recorders import identity_ok

HEALTHY = frozenset({"ok", "normal", "idle", "sleeping"})
DAY_S = 86400.0

#: Each channel's last searched recording range, by (recorder, recorder's address, channel): (monotonic time
#: of the search, the range). The searches are most of a recorder probe's cost (a search from 2000 and the
#: last page of a recent window, per channel); the module's ``search_every_s`` says how long a range stands.
_RANGES: dict[tuple[str, str, int], tuple[float, RecordingRange]] = {}


def _channel_labels(req: ProbeRequest) -> dict[int, dict[str, str]]:
    """Channel number → camera id and link router, from the inventory."""
    out: dict[int, dict[str, str]] = {}
    for cam in req.fleet.cameras_on_recorder(req.target.id):
        if cam.recorder is None:
            continue
        link = req.fleet.links.get(cam.network.link or "")
        out[cam.recorder.channel] = {"camera": cam.id, "link_router": link.router if link else ""}
    return out


async def _identities(req: ProbeRequest, nvr: RecorderDriver, out: Metrics, known: dict[int, dict[str, str]]) -> None:
    """``camfleet_recorder_channel_identity_ok``: 1 when the device a channel pulls (as the recorder
    reports it) is the inventory's camera, 0 when it is another; absent where either side does not say."""
    try:
        seen = await run_blocking(req, nvr.channel_identities)
    except Unsupported:
        return
    for number, ident in sorted(seen.items()):
        camera = known.get(number, {}).get("camera")
        ok = identity_ok(req.fleet, camera, ident) if camera else None
        if ok is not None:
            out.gauge(
                "camfleet_recorder_channel_identity_ok",
                "1 if the channel records the inventory's camera (serial, else MAC, else model and address).",
                ok,
                channel=str(number),
                camera=camera or "",
            )


async def _recording_range(req: ProbeRequest, nvr: RecorderDriver, channel: int) -> RecordingRange:
    """The channel's oldest and newest recording: searched again once the last search is older than the
    module's ``search_every_s``, else the last search's answer (retention moves by minutes a day)."""
    key = (req.key, req.endpoint.host, channel)
    now = time.monotonic()
    kept = _RANGES.get(key)
    if kept is not None and now - kept[0] < req.module.search_every_s:
        return kept[1]
    found = await run_blocking(req, lambda: nvr.search_recordings(channel))
    _RANGES[key] = (now, found)
    return found


async def probe(req: ProbeRequest, out: Metrics) -> Outcome:
    nvr = open_driver(req.fleet, req.target.id, req.username, req.password, timeout=driver_timeout(req))
    assert isinstance(nvr, RecorderDriver), req.target.id
    out.gauge(
        "camfleet_recorder_retention_target_days",
        "Days of recording the town must keep (inventory storage policy).",
        req.fleet.town.storage.retention_days,
    )
    try:
        disks = await run_blocking(req, nvr.disks)
        for disk in disks:
            slot = str(disk.slot)
            out.gauge("camfleet_recorder_disk_capacity_bytes", "Disk capacity.", disk.capacity_bytes, slot=slot)
            out.gauge("camfleet_recorder_disk_free_bytes", "Free space on the disk.", disk.free_bytes, slot=slot)
            out.gauge(
                "camfleet_recorder_disk_healthy",
                "1 if the disk reports a healthy status.",
                disk.status.lower() in HEALTHY,
                slot=slot,
            )
            out.gauge(
                "camfleet_recorder_disk_status_info",
                "Disk status as the NVR words it.",
                1,
                slot=slot,
                status=disk.status,
            )
        known = _channel_labels(req)
        await _identities(req, nvr, out, known)
        states = await run_blocking(req, nvr.channel_status)
        for number, state in states.items():
            labels = {"channel": str(number), **known.get(number, {"camera": "", "link_router": ""})}
            if state.online is not None:
                out.gauge(
                    "camfleet_recorder_channel_online", "1 if the NVR receives the camera.", state.online, **labels
                )
            if state.recording is not None:
                out.gauge(
                    "camfleet_recorder_channel_recording", "1 if the channel records now.", state.recording, **labels
                )
        for number in states:
            labels = {"channel": str(number), **known.get(number, {"camera": "", "link_router": ""})}
            oldest, newest = await _recording_range(req, nvr, number)
            if oldest is None or newest is None:
                out.gauge(
                    "camfleet_recorder_retention_days", "Newest minus oldest recording of the channel.", 0, **labels
                )
                continue
            out.gauge(
                "camfleet_recorder_oldest_recording_timestamp_seconds",
                "Start of the oldest recording kept.",
                oldest.timestamp(),
                **labels,
            )
            out.gauge(
                "camfleet_recorder_newest_recording_timestamp_seconds",
                "End of the newest recording.",
                newest.timestamp(),
                **labels,
            )
            out.gauge(
                "camfleet_recorder_retention_days",
                "Newest minus oldest recording of the channel.",
                (newest - oldest).total_seconds() / DAY_S,
                **labels,
            )
    except DriverError as err:
        return driver_failure(err)
    finally:
        nvr.close()
    return Outcome.ok()
