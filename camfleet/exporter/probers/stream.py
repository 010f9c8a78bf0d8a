"""``stream``: does the camera really send pictures? RTSP PLAY until a keyframe arrives.

Uses :func:`camfleet.probes.rtsp.probe_stream` (≈1 ms CPU a probe, no ffprobe). The sub stream
by default: a main-stream keyframe is 100-500 KB on a household uplink of a few Mbit/s that
already carries the recorder's main stream; ``stream_main`` (``stream: main``, ``measure_s: 0``)
checks the main stream, less often.

Sample output (``curl '127.0.0.1:9830/probe?target=cam-01-t01&module=stream'``)::

    camfleet_stream_up 1.0
    camfleet_stream_info{codec="h264",stream="sub"} 1.0
    camfleet_stream_width_pixels 640.0
    camfleet_stream_height_pixels 360.0
    camfleet_stream_resolution_matches_profile 1.0
    camfleet_stream_fps 12.0
    camfleet_stream_bitrate_bits_per_second 574288.0
    camfleet_stream_first_frame_seconds 0.0008
    camfleet_stream_connect_seconds 0.001
    camfleet_stream_packets_lost 0.0

A shared community camera read through ONVIF (``device.driver: onvif``) gives its URL by
``GetStreamUri`` (the ONVIF driver, through the blocking-call pool; kept :data:`ONVIF_URL_TTL_S`,
forgotten when a probe fails); a refused ONVIF login is ``reason="auth"``.

A frozen camera (answers PLAY, sends nothing) gives ``camfleet_stream_up 0`` and
``camfleet_probe_failure_info{reason="no_frames"} 1``.
"""

from __future__ import annotations

import asyncio
import functools

from camfleet.drivers import onvif_stream_url, speaks_onvif_only, stream_url
from camfleet.drivers.errors import DriverError
from camfleet.drivers.http import DEADLINE_FACTOR
from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest, driver_failure, driver_timeout, run_blocking
from camfleet.exporter.probers.coverage import STREAMS
from camfleet.probes.rtsp import probe_stream

#: How long an ONVIF camera's stream URL is reused before it is asked again (a failed probe forgets it).
ONVIF_URL_TTL_S = 600.0
#: (camera, main|sub) -> (loop time it expires, RTSP URL): GetStreamUri is three SOAP round trips.
_ONVIF_URLS: dict[tuple[str, str], tuple[float, str]] = {}


async def _url(req: ProbeRequest, which: str) -> str:
    """The camera's live RTSP URL: fixed vendor paths, or what a shared ONVIF camera says (cached)."""
    if not speaks_onvif_only(req.target.camera):
        return stream_url(req.fleet, req.target.id, sub=which == "sub")
    key, now = (req.key, which), asyncio.get_running_loop().time()
    cached = _ONVIF_URLS.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    url = await run_blocking(
        req,
        functools.partial(
            onvif_stream_url,
            req.fleet,
            req.target.id,
            req.username,
            req.password,
            sub=which == "sub",
            timeout=driver_timeout(req) / DEADLINE_FACTOR,  # its deadline (factor × timeout) within the budget
        ),
    )
    _ONVIF_URLS[key] = (now + ONVIF_URL_TTL_S, url)
    return url


async def probe(req: ProbeRequest, out: Metrics) -> Outcome:
    camera = req.target.camera
    which = req.module.stream
    try:
        url = await _url(req, which)
    except DriverError as err:
        STREAMS.record(req.key, False)
        out.gauge("camfleet_stream_up", "1 if video frames (a keyframe at least) arrived within the budget.", False)
        return driver_failure(err)
    result = await probe_stream(
        url,
        req.username,
        req.password,
        timeout=max(0.05, req.remaining()),
        frames=req.module.frames,
        measure_s=req.module.measure_s,
    )
    STREAMS.record(req.key, result.success)  # what the coverage module counts as up
    out.gauge(
        "camfleet_stream_up", "1 if video frames (a keyframe at least) arrived within the budget.", result.success
    )
    if result.codec:
        out.gauge("camfleet_stream_info", "Codec of the probed stream.", 1, codec=result.codec, stream=which)
    if result.width and result.height:
        out.gauge("camfleet_stream_width_pixels", "Picture width from the SPS.", result.width)
        out.gauge("camfleet_stream_height_pixels", "Picture height from the SPS.", result.height)
        profile_id = (
            camera.stream.main if camera.stream and which == "main" else camera.stream.sub if camera.stream else None
        )
        profile = req.fleet.profiles.get(profile_id or "")
        if profile is not None:
            match = (result.width, result.height) == (profile.width, profile.height)
            out.gauge(
                "camfleet_stream_resolution_matches_profile",
                "1 if the picture size is the inventory profile's.",
                match,
            )
    if result.fps_measured is not None:
        out.gauge("camfleet_stream_fps", "Frames per second measured from RTP timestamps.", result.fps_measured)
    if result.bitrate_bps_measured is not None:
        out.gauge(
            "camfleet_stream_bitrate_bits_per_second",
            "Video payload bitrate measured over the probe.",
            result.bitrate_bps_measured,
        )
    if result.time_to_first_frame_s is not None:
        out.gauge(
            "camfleet_stream_first_frame_seconds",
            "PLAY sent to the first complete keyframe.",
            result.time_to_first_frame_s,
        )
    if result.connect_s is not None:
        out.gauge("camfleet_stream_connect_seconds", "TCP connect to the RTSP port.", result.connect_s)
    out.gauge("camfleet_stream_packets_lost", "RTP sequence gaps seen during this probe.", result.packets_lost)
    if result.success:
        return Outcome.ok()
    _ONVIF_URLS.pop((req.key, which), None)  # the camera may hand out another URL now (a reboot)
    return Outcome.fail(str(result.reason or "bad_reply"), result.detail)
