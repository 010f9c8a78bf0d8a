"""Which stream an RTSP URL asks for, in each vendor's URL family: a resolver maps a URL's path and
query to a :class:`~camfleet.sim.media.StreamSpec`, or None (404).

Why apart: the town builds a resolver per camera from its current stream settings, and the
server asks it on every DESCRIBE and SETUP; the URL rules (device-apis.md §4.1) are the one
vendor-specific thing about the paths.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.rtsp import *; from camfleet.sim.media import StreamSpec; \\
        r = dahua_resolver(StreamSpec('h264', 1280, 720, 15, 30, 1024)); print(r('/cam/realmonitor?channel=1&subtype=0'))"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from camfleet.sim.media import Clip, StreamSpec

#: What a URL asks for: a live stream's spec (its shared, looping clip), or a function that makes the
#: clip a playback URL asks for (a recorder's footage; run off the event loop), or None (404).
Source = StreamSpec | Callable[[], Clip]
Resolver = Callable[[str], Source | None]


def hikvision_resolver(main: StreamSpec, sub: StreamSpec | None = None, channel: int = 1) -> Resolver:
    """Hikvision live URLs: ``/Streaming/Channels/101`` (main, also ``/1``), ``/102`` (sub).

    Case-insensitive, an ``/ISAPI`` prefix and a query such as ``?transportmode=unicast``
    are tolerated, as are the legacy ``/h264/ch1/main/av_stream`` and ``/h264/ch1/sub/av_stream``.
    Playback URLs (``/Streaming/tracks/101?starttime=...``, what an NVR's search returns)
    play the same clip: the simulator has no recorded footage, only a stream a client can read.
    """
    # ``/Streaming/Channels/1`` is the main stream too, as real firmware takes it (and clients ask for it).
    streams = {channel: main, channel * 100 + 1: main, **({channel * 100 + 2: sub} if sub else {})}
    legacy = {"main": main, **({"sub": sub} if sub else {})}
    channels = re.compile(r"^(?:/isapi)?/streaming/(?:channels|tracks)/(\d+)/?$")
    old = re.compile(rf"^/h264/ch{channel}/(main|sub)/av_stream/?$")

    def resolve(target: str) -> StreamSpec | None:
        path = urlsplit(target).path.lower()
        if m := channels.match(path):
            return streams.get(int(m.group(1)))
        if m := old.match(path):
            return legacy.get(m.group(1))
        return None

    return resolve


def dahua_resolver(main: StreamSpec, sub: StreamSpec | None = None, channel: int = 1) -> Resolver:
    """Dahua live URLs: ``/cam/realmonitor?channel=1&subtype=0`` (main), ``subtype=1`` (sub).

    ``subtype`` defaults to 0; extra parameters (``unicast=true&proto=Onvif``) are ignored.
    Playback (``/cam/playback?channel=1&starttime=...``) plays the same clip as live.
    """
    streams = {"0": main, **({"1": sub} if sub else {})}

    def resolve(target: str) -> StreamSpec | None:
        parts = urlsplit(target)
        if parts.path.rstrip("/").lower() not in ("/cam/realmonitor", "/cam/playback"):
            return None
        query = {k.lower(): v[-1].strip("/") for k, v in parse_qs(parts.query).items()}
        if query.get("channel") != str(channel):
            return None
        return streams.get(query.get("subtype", "0"))

    return resolve
