"""Real H.264/H.265 clips for the simulated cameras, made at run time by Debian's ffmpeg.

A camera's RTSP stream must be video that real clients (ffprobe, the stream
probe, an NVR) decode, so the simulator never fakes NAL units: it asks ffmpeg
for a short clip of the ``testsrc2`` pattern encoded to the stream profile
(size, fps, GOP, bitrate), splits the Annex-B output into access units once,
and loops it. Nothing is downloaded.

Clips are cached on disk (``$CAMFLEET_CACHE_DIR/media`` or
``~/.cache/camfleet/media``), keyed by the spec, and memoised in the process:
every camera with the same profile shares one immutable :class:`Clip`, which
keeps a 1,000-camera town to a handful of clips in memory.

Reproduce by hand (what :func:`clip_for` runs for a 640x360 sub stream)::

    ffmpeg -f lavfi -i testsrc2=size=640x360:rate=10 -frames:v 40 -c:v libx264 \\
        -preset superfast -profile:v main -pix_fmt yuv420p -g 20 -keyint_min 20 \\
        -sc_threshold 0 -bf 0 -b:v 256k -maxrate 256k -bufsize 256k -x264-params vbv-init=0.5 -f h264 sub.h264
    .venv/bin/python -c "from camfleet.sim.media import *; \\
        print(clip_for(StreamSpec('h264', 640, 360, 10, 20, 256)).sprop_parameter_sets)"
"""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

#: Bump when the command line or the parser changes, so old cached files are not reused.
_CACHE_VERSION = 2
#: A clip may carry at most this much over its profile's bitrate (what the RTSP stream sends, looped);
#: above it, it is encoded once more at a target scaled down by the overshoot.
BITRATE_TOLERANCE = 1.02
#: A clip lasts at least this long (and at least two GOPs), so the loop is not obvious at once.
_MIN_SECONDS = 2
_FFMPEG_TIMEOUT_S = 300

SUPPORTED_CODECS = ("h264", "h265")


class MediaError(RuntimeError):
    """The clip could not be made (ffmpeg missing, failed, or gave unusable output)."""


@dataclass(frozen=True)
class StreamSpec:
    """What one RTSP stream carries; the key under which its clip is cached and shared."""

    codec: str
    width: int
    height: int
    fps: int
    gop: int
    bitrate_kbps: int

    def __post_init__(self) -> None:
        if self.codec not in SUPPORTED_CODECS:
            raise MediaError(f"codec {self.codec!r} is not simulated; use one of {', '.join(SUPPORTED_CODECS)}")
        for name in ("width", "height", "fps", "gop", "bitrate_kbps"):
            if getattr(self, name) <= 0:
                raise MediaError(f"{name} must be positive, got {getattr(self, name)}")
        if self.width % 2 or self.height % 2:
            raise MediaError(f"{self.width}x{self.height}: width and height must be even for 4:2:0 video")

    @property
    def key(self) -> str:
        """File-name-safe cache key."""
        return (
            f"{self.codec}-{self.width}x{self.height}-{self.fps}fps-g{self.gop}-{self.bitrate_kbps}k-v{_CACHE_VERSION}"
        )

    @property
    def frame_count(self) -> int:
        """Whole GOPs only, so the IDR cadence stays regular when the clip loops."""
        gops = max(2, math.ceil(_MIN_SECONDS * self.fps / self.gop))
        return gops * self.gop


@dataclass(frozen=True)
class AccessUnit:
    """One coded picture: its VCL NAL units (no start codes, no parameter sets, no SEI)."""

    nals: tuple[bytes, ...]
    keyframe: bool


@dataclass(frozen=True, eq=False)
class Clip:
    """A parsed, loopable clip; immutable and shared by every stream with the same spec.

    ``eq=False`` keeps identity hashing, so caches keyed by a clip never hash its frames.
    """

    spec: StreamSpec
    frames: tuple[AccessUnit, ...]
    sps: bytes
    pps: bytes
    vps: bytes | None = None  # H.265 only

    @property
    def parameter_sets(self) -> tuple[bytes, ...]:
        """What a decoder needs before a keyframe, in sending order."""
        return (self.sps, self.pps) if self.vps is None else (self.vps, self.sps, self.pps)

    @property
    def encoding_name(self) -> str:
        """The SDP ``a=rtpmap`` encoding name."""
        return "H264" if self.spec.codec == "h264" else "H265"

    @property
    def sprop_parameter_sets(self) -> str:
        """Base64 SPS,PPS as SDP's ``sprop-parameter-sets`` (RFC 6184)."""
        return f"{_b64(self.sps)},{_b64(self.pps)}"

    @property
    def profile_level_id(self) -> str:
        """H.264 profile_idc, constraint flags and level_idc as six hex digits (e.g. ``4D001E``)."""
        return self.sps[1:4].hex().upper()

    @property
    def fmtp(self) -> str:
        """The ``a=fmtp:96`` parameters a device puts in its SDP."""
        if self.vps is None:
            return (
                f"packetization-mode=1;profile-level-id={self.profile_level_id};"
                f"sprop-parameter-sets={self.sprop_parameter_sets}"
            )
        return f"sprop-vps={_b64(self.vps)};sprop-sps={_b64(self.sps)};sprop-pps={_b64(self.pps)}"

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.spec.fps

    @property
    def bitrate_kbps(self) -> float:
        """What the looped stream carries: every picture, and the parameter sets before each keyframe."""
        params = sum(map(len, self.parameter_sets))
        octets = sum(len(n) for f in self.frames for n in f.nals) + params * sum(f.keyframe for f in self.frames)
        return octets * 8 / self.duration_s / 1000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def default_cache_dir() -> Path:
    """``$CAMFLEET_CACHE_DIR/media``, else ``~/.cache/camfleet/media``."""
    root = os.environ.get("CAMFLEET_CACHE_DIR")
    return Path(root) / "media" if root else Path.home() / ".cache" / "camfleet" / "media"


_clips: dict[StreamSpec, Clip] = {}
_clips_lock = threading.Lock()


def clip_for(spec: StreamSpec, cache_dir: Path | None = None) -> Clip:
    """The shared clip for ``spec``: from memory, else from the disk cache, else made by ffmpeg.

    Blocking (ffmpeg may run for a second or more); async callers should warm the
    cache up front or call it through ``asyncio.to_thread``.
    """
    with _clips_lock:
        clip = _clips.get(spec)
        if clip is None:
            path = (cache_dir or default_cache_dir()) / f"{spec.key}.{spec.codec}"
            if not path.exists():
                _encode(spec, path)
            clip = parse_annexb(spec, path.read_bytes())
            _clips[spec] = clip
        return clip


def cached_clip(spec: StreamSpec) -> Clip | None:
    """The clip if it is already in memory (never blocks on ffmpeg)."""
    return _clips.get(spec)


def ffmpeg_command(spec: StreamSpec, out: Path, target_kbps: int | None = None) -> list[str]:
    """The ffmpeg command line that encodes ``spec`` into a raw Annex-B file.

    Rate control as a camera's cap: the VBV buffer holds one second at the cap and starts half
    full. A clip is a few seconds long and loops, so the encoder's default (a buffer of two
    seconds, 90 % full at the start) let it spend the surplus on the first GOP and the loop ran
    ~20 % over the profile (1,820 kbit/s for a 1,536 cap).
    """
    kbps = target_kbps or spec.bitrate_kbps
    rate = f"{kbps}k"
    command = [
        *("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
        *("-f", "lavfi", "-i", f"testsrc2=size={spec.width}x{spec.height}:rate={spec.fps}"),
        *("-frames:v", str(spec.frame_count), "-pix_fmt", "yuv420p"),
        *("-b:v", rate, "-maxrate", rate, "-bufsize", rate),
    ]
    if spec.codec == "h264":
        command += [
            *("-c:v", "libx264", "-preset", "superfast", "-profile:v", "main", "-x264-params", "vbv-init=0.5"),
            *("-g", str(spec.gop), "-keyint_min", str(spec.gop), "-sc_threshold", "0", "-bf", "0"),
            *("-f", "h264", str(out)),
        ]
    else:
        x265 = f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:vbv-init=0.5:info=0:log-level=error"
        command += [
            *("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", x265),
            *("-f", "hevc", str(out)),
        ]
    return command


def _encode(spec: StreamSpec, path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        raise MediaError("ffmpeg not found on PATH: install the Debian package 'ffmpeg' (apt-get install ffmpeg)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a crash or a second process never leaves half a clip.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _run_ffmpeg(spec, tmp, None)
        measured = parse_annexb(spec, tmp.read_bytes()).bitrate_kbps
        if measured > spec.bitrate_kbps * BITRATE_TOLERANCE:  # still over the cap: once more, aimed lower
            _run_ffmpeg(spec, tmp, max(1, int(spec.bitrate_kbps * spec.bitrate_kbps / measured)))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _run_ffmpeg(spec: StreamSpec, out: Path, target_kbps: int | None) -> None:
    result = subprocess.run(
        ffmpeg_command(spec, out, target_kbps), capture_output=True, text=True, timeout=_FFMPEG_TIMEOUT_S, check=False
    )
    if result.returncode != 0 or not out.exists():
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise MediaError(f"ffmpeg could not encode {spec.key}: {last}")


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B byte stream, start codes removed."""
    nals: list[bytes] = []
    start = data.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        nxt = data.find(b"\x00\x00\x01", begin)
        end = len(data) if nxt < 0 else nxt
        nal = data[begin:end]
        # A four-byte start code leaves a trailing zero on the previous NAL (trailing_zero_8bits).
        nals.append(nal.rstrip(b"\x00") if nxt >= 0 else nal)
        start = nxt
    return [nal for nal in nals if nal]


def parse_annexb(spec: StreamSpec, data: bytes) -> Clip:
    """Group NAL units into access units and pull out the parameter sets."""
    h264 = spec.codec == "h264"
    params: dict[str, bytes] = {}
    frames: list[AccessUnit] = []
    current: list[bytes] = []
    key = False

    def flush() -> None:
        nonlocal current, key
        if current:
            frames.append(AccessUnit(tuple(current), key))
        current, key = [], False

    for nal in split_annexb(data):
        if h264:
            kind = nal[0] & 0x1F
            vcl, idr, first = 1 <= kind <= 5, kind == 5, len(nal) > 1 and bool(nal[1] & 0x80)
            names = {7: "sps", 8: "pps"}
        else:
            kind = (nal[0] >> 1) & 0x3F
            vcl, idr, first = kind < 32, 16 <= kind <= 21, len(nal) > 2 and bool(nal[2] & 0x80)
            names = {32: "vps", 33: "sps", 34: "pps"}
        if kind in names:
            params.setdefault(names[kind], nal)
            flush()
        elif vcl:
            if first:
                flush()
            current.append(nal)
            key = key or idr
        # SEI, AUD and filler are dropped: the encoder's SEI names x264/x265, which no camera sends.
    flush()

    missing = [name for name in (("sps", "pps") if h264 else ("vps", "sps", "pps")) if name not in params]
    if missing or not frames:
        raise MediaError(f"{spec.key}: encoder output has no {' '.join(missing) or 'frames'}")
    if not frames[0].keyframe:
        raise MediaError(f"{spec.key}: clip does not start with a keyframe")
    return Clip(spec, tuple(frames), params["sps"], params["pps"], params.get("vps"))
