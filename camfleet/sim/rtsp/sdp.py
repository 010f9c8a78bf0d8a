"""The SDP a simulated camera answers DESCRIBE with, in its vendor's style (device-apis.md §4.2).

Why: clients read codec, size and parameter sets from it, and the two vendors differ in ways
clients trip on: Hikvision writes absolute control URLs, ``x-dimensions`` and a ``Media_header``,
and for H.265 often no ``fmtp`` at all (parameter sets come in-band, before every keyframe);
Dahua writes relative ``trackID=0`` and ``a=range:npt=now-``.

Reproduce by hand (the server of ``python -m camfleet.sim.rtsp``)::

    ffprobe -v debug -rtsp_transport tcp rtsp://admin:Passw0rd-1@127.0.0.9:8554/Streaming/Channels/101 2>&1 | grep -A20 'SDP:'
"""

from __future__ import annotations

from typing import Literal

from camfleet.sim.media import Clip
from camfleet.sim.rtsp.rtp import CLOCK_RATE, PAYLOAD_TYPE

Style = Literal["hikvision", "dahua"]
_HIK_MEDIA_HEADER = "494D4B48010100000400000100000000000000000000000000000000000000000000000000000000"


def build_sdp(clip: Clip, base: str, style: Style, session_id: str, host: str) -> str:
    """An SDP in the vendor's style (device-apis.md §4.2); ``base`` ends with ``/``."""
    spec = clip.spec
    rtpmap = f"a=rtpmap:{PAYLOAD_TYPE} {clip.encoding_name}/{CLOCK_RATE}"
    if style == "dahua":
        lines = [
            "v=0",
            f"o=- {session_id} {session_id} IN IP4 {host}",
            "s=Media Server",
            "c=IN IP4 0.0.0.0",
            "t=0 0",
            "a=control:*",
            "a=packetization-supported:DH",
            "a=rtppayload-supported:DH",
            "a=range:npt=now-",
            f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
            "a=control:trackID=0",
            f"a=framerate:{spec.fps:.6f}",
            rtpmap,
            f"a=fmtp:{PAYLOAD_TYPE} {clip.fmtp}",
            "a=recvonly",
        ]
    else:
        # Hikvision: absolute control URLs, x-dimensions; its H.265 SDPs often carry no fmtp at all,
        # so clients must take VPS/SPS/PPS from the stream (which is sent before every keyframe).
        if clip.vps is None:
            fmtp = [
                f"a=fmtp:{PAYLOAD_TYPE} profile-level-id={clip.profile_level_id}; packetization-mode=1; "
                f"sprop-parameter-sets={clip.sprop_parameter_sets}"
            ]
        else:
            fmtp = []
        lines = [
            "v=0",
            f"o=- {session_id} {session_id} IN IP4 {host}",
            "s=Media Presentation",
            "e=NONE",
            f"b=AS:{spec.bitrate_kbps + 50}",
            "t=0 0",
            f"a=control:{base}",
            f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
            "c=IN IP4 0.0.0.0",
            f"b=AS:{spec.bitrate_kbps}",
            "a=recvonly",
            f"a=x-dimensions:{spec.width},{spec.height}",
            f"a=framerate:{spec.fps}",
            f"a=control:{base}trackID=1",
            rtpmap,
            *fmtp,
            f"a=Media_header:MEDIAINFO={_HIK_MEDIA_HEADER};",
            "a=appversion:1.0",
        ]
    return "\r\n".join(lines) + "\r\n"
