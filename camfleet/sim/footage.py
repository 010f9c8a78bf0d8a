"""Footage the simulated recorders hand out: H.264 whose every frame shows when it was recorded.

A real recorder's file is whatever its camera saw; a test needs to know *which minute* a clip
shows. So each minute of simulated footage is made once by ffmpeg (and cached on disk, shared by
every camera with the same stream settings): the recording time written on the picture (the
camera's OSD, in the town's time zone) and, for machines, a strip of 40 black or white blocks
along the top — 32 bits of the UNIX second, 8 bits of the frame within it — that
:func:`read_times` decodes from any copy of the video (remuxed, cut, zipped) without OCR.
The bitrate is held constant (x264's CBR with filler), so a simulated hour is as big as a real one;
the picture is a plain background (a 1080p minute costs ~4 CPU-s of x264 as it is), so tests warm
the minutes they will ask for (:func:`minute_clip` with the simulator's cache) while they wait.

A download is a Hikvision-style MPEG program stream (:func:`program_stream`): the 40-byte
``IMKH`` media header real devices send (docs/reference/footage.md §2.1), pack headers, a program
stream map naming H.264, and one PES packet per picture with its 90 kHz time stamp — written
from the access units as they are needed, never a whole file in memory.

    .venv/bin/python -c "from camfleet.sim.footage import *; from camfleet.sim.media import StreamSpec; \\
        s = StreamSpec('h264', 640, 360, 12, 24, 384); open('/tmp/m.h264', 'wb').write(minute_clip(s, 29_000_000, 'Asia/Ho_Chi_Minh'))"
"""

from __future__ import annotations

import os
import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from camfleet.sim.media import MediaError, StreamSpec, default_cache_dir

CLIP_S = 60
STRIP_BLOCKS = 40
STRIP_HEIGHT = 16
#: What Hikvision devices put before their program stream (their SDP's ``Media_header``: H.264 video,
#: G.711 A-law audio described; this simulator sends no audio) [V: the ISAPI guide's capture].
IMKH = bytes.fromhex("494D4B48020100000200000111710110401F000000FA000000000000000000000000000000000000")
AUD = b"\x00\x00\x00\x01\x09"
PES_MAX = 65_000
PTS_HZ = 90_000
#: ffmpeg runs at once (two cores): a burst of downloads must not start dozens.
_RUNS = threading.BoundedSemaphore(2)
_MAKING: dict[Path, threading.Lock] = {}
_MAKING_LOCK = threading.Lock()


@dataclass(frozen=True)
class Footage:
    """What a recorder's files show: each channel's stream (the camera's main stream, None when the
    channel has no camera the simulator knows) and the zone its burnt-in clock is written in."""

    spec_of: Callable[[int], StreamSpec | None]
    zone: str = "UTC"


def _strip_filter(spec: StreamSpec, epoch: int) -> str:
    """``geq`` drawing the block strip: block k < 32 is bit 31-k of the second, the rest the frame."""
    block = max(8, spec.width // STRIP_BLOCKS)
    fps = spec.fps
    second = f"({epoch}+floor(N/{fps}))"
    frame = f"mod(N,{fps})"
    k = f"floor(X/{block})"
    lum = (
        f"if(lt({k},32),255*mod(floor({second}/pow(2,31-{k})),2),"
        f"if(lt({k},40),255*mod(floor({frame}/pow(2,39-{k})),2),128))"
    )
    return (
        f"color=c=gray:s={block * STRIP_BLOCKS}x{STRIP_HEIGHT}:r={fps},geq=lum='{lum}':cb=128:cr=128,"
        "format=yuv420p[bits]"
    )


def ffmpeg_command(spec: StreamSpec, epoch: int, zone: str, out: Path) -> list[str]:
    """The ffmpeg run that makes the minute starting at ``epoch`` (UNIX seconds)."""
    if spec.codec != "h264":
        raise MediaError("simulated footage is H.264 only")
    font = max(12, spec.height // 24)
    text = f"%{{pts\\:localtime\\:{epoch}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}}"
    graph = (
        _strip_filter(spec, epoch) + ";"
        f"[0:v][bits]overlay=0:0:shortest=1,drawtext=font='DejaVu Sans Mono':fontsize={font}:fontcolor=white:"
        f"box=1:boxcolor=black:x=10:y={STRIP_HEIGHT + 8}:text='{text}'[v]"
    )
    rate = spec.bitrate_kbps
    return [
        "ffmpeg",
        *("-nostdin", "-v", "error", "-f", "lavfi"),
        *("-i", f"color=c=0x33475b:s={spec.width}x{spec.height}:r={spec.fps}:d={CLIP_S}"),
        *("-filter_complex", graph, "-map", "[v]"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-profile:v", "main"),
        *("-g", str(spec.gop), "-keyint_min", str(spec.gop), "-sc_threshold", "0"),
        *("-b:v", f"{rate}k", "-minrate", f"{rate}k", "-maxrate", f"{rate}k", "-bufsize", f"{rate}k"),
        *("-x264-params", "nal-hrd=cbr:force-cfr=1:aud=1"),
        *("-bsf:v", "h264_mp4toannexb", "-f", "h264", "-y", str(out)),
    ]


def minute_clip(spec: StreamSpec, epoch: int, zone: str, cache_dir: Path | None = None) -> bytes:
    """Annex-B H.264 of the minute starting at ``epoch`` (a multiple of 60), made once and cached."""
    if epoch % CLIP_S:
        raise ValueError("a minute clip starts on a whole minute")
    folder = (cache_dir or default_cache_dir()) / "footage" / f"{spec.key}-{zone.replace('/', '_')}"
    path = folder / f"{epoch}.h264"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    with _MAKING_LOCK:
        making = _MAKING.setdefault(path, threading.Lock())
    with making, _RUNS:  # each minute made once, two at a time
        if path.exists():
            return path.read_bytes()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{epoch}.{os.getpid()}.h264"
        env = {**os.environ, "TZ": zone}
        try:
            out = subprocess.run(
                ffmpeg_command(spec, epoch, zone, tmp),
                capture_output=True,
                text=True,
                timeout=300,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise MediaError("ffmpeg is not installed (make setup installs Debian's ffmpeg)") from None
        if out.returncode != 0 or not tmp.exists():
            tmp.unlink(missing_ok=True)
            raise MediaError(f"ffmpeg could not make the footage for {epoch}: {out.stderr.strip()[-300:]}")
        tmp.replace(path)
    return path.read_bytes()


def access_units(clip: bytes) -> list[bytes]:
    """A clip's pictures, each with its access-unit delimiter (the encoder writes one before each)."""
    return [AUD + part for part in clip.split(AUD) if part]


# --------------------------------------------------------------------------- the program stream


def _pts(value: int, prefix: int = 0x2) -> bytes:
    v = value & ((1 << 33) - 1)
    return bytes(
        [
            (prefix << 4) | (((v >> 30) & 0x07) << 1) | 1,
            (v >> 22) & 0xFF,
            (((v >> 15) & 0x7F) << 1) | 1,
            (v >> 7) & 0xFF,
            ((v & 0x7F) << 1) | 1,
        ]
    )


def pack_header(scr: int, mux_rate: int = 20_000) -> bytes:
    """An MPEG-2 pack header carrying the system clock reference (90 kHz, no extension)."""
    s = scr & ((1 << 33) - 1)
    head = bytes(
        [
            0x44 | (((s >> 30) & 0x07) << 3) | ((s >> 28) & 0x03),
            (s >> 20) & 0xFF,
            (((s >> 15) & 0x1F) << 3) | 0x04 | ((s >> 13) & 0x03),
            (s >> 5) & 0xFF,
            ((s & 0x1F) << 3) | 0x04,
            0x01,
        ]
    )
    rate = ((mux_rate & 0x3FFFFF) << 2) | 0x03
    return b"\x00\x00\x01\xba" + head + rate.to_bytes(3, "big") + b"\xf8"


def _crc32_mpeg(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def program_stream_map() -> bytes:
    """The PSM: one elementary stream, H.264 (stream type 0x1B) as stream id 0xE0."""
    streams = struct.pack(">BBH", 0x1B, 0xE0, 0)
    body = bytes([0x80 | 0x01, 0xFF]) + struct.pack(">H", 0) + struct.pack(">H", len(streams)) + streams
    length = len(body) + 4
    head = b"\x00\x00\x01\xbc" + struct.pack(">H", length)
    return head + body + struct.pack(">I", _crc32_mpeg(head + body))


def pes(payload: bytes, pts: int) -> Iterator[bytes]:
    """A picture as PES packets of stream 0xE0, the first carrying its presentation time."""
    first = True
    for offset in range(0, len(payload), PES_MAX):
        chunk = payload[offset : offset + PES_MAX]
        header = bytes([0x84 if first else 0x80, 0x80 if first else 0x00, 5 if first else 0])
        header += _pts(pts) if first else b""
        yield b"\x00\x00\x01\xe0" + struct.pack(">H", len(header) + len(chunk)) + header + chunk
        first = False


class ProgramStream:
    """A program stream written a picture at a time: the ``IMKH`` header first, then each picture's pack
    header, a program stream map before each keyframe, and its PES packets; time stamps run on from
    clip to clip, starting at 1 s as a recorder's clock does."""

    def __init__(self, fps: int) -> None:
        self.fps = fps
        self.pictures = 0

    def header(self) -> bytes:
        return IMKH

    def pictures_of(self, clip: bytes, first: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The bytes of pictures ``first``..``stop`` of a minute clip."""
        for unit in access_units(clip)[first:stop]:
            pts = PTS_HZ + self.pictures * PTS_HZ // self.fps
            out = bytearray(pack_header(max(0, pts - PTS_HZ // 10)))
            if _is_keyframe(unit):
                out += program_stream_map()
            for packet in pes(unit, pts):
                out += packet
            yield bytes(out)
            self.pictures += 1


def program_stream(clips: Iterator[bytes], fps: int) -> Iterator[bytes]:
    """Whole clips (consecutive minutes of one stream) as one program stream."""
    writer = ProgramStream(fps)
    yield writer.header()
    for clip in clips:
        yield from writer.pictures_of(clip)


def _is_keyframe(unit: bytes) -> bool:
    """Whether an access unit holds an IDR picture (NAL type 5) or parameter sets (7)."""
    return any(part and (part[0] & 0x1F) in (5, 7) for part in unit.split(b"\x00\x00\x01")[1:])


# --------------------------------------------------------------------------- reading the time back


def read_times(path: Path | str, width: int) -> list[tuple[int, int]]:
    """(UNIX second, frame within it) of every picture of a video made from these minutes."""
    block = max(8, width // STRIP_BLOCKS)
    strip = block * STRIP_BLOCKS
    row_y = STRIP_HEIGHT // 2  # one row through the middle of the blocks: 1 byte per pixel of it per picture
    raw = subprocess.run(
        [
            "ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough",
            "-vf", f"format=gray,crop={strip}:1:0:{row_y}", "-f", "rawvideo", "-pix_fmt", "gray", "-",
        ],
        capture_output=True,
        check=True,
        timeout=600,
    ).stdout  # fmt: skip
    out = []
    for k in range(len(raw) // strip):
        row = raw[k * strip : (k + 1) * strip]
        bits = ["1" if row[i * block + block // 2] >= 128 else "0" for i in range(STRIP_BLOCKS)]
        out.append((int("".join(bits[:32]), 2), int("".join(bits[32:]), 2)))
    return out
