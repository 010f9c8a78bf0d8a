"""Dahua's DHAV container (the ``.dav`` files of its recorders), written as a simulated recorder stores it.

Why a muxer of our own: a real Dahua NVR hands out its stored ``.dav`` file as it is
(``RPC_Loadfile``, docs/reference/footage.md §4.2), and the export has to remux it with ffmpeg;
so the simulated recorder writes the same layout, one chunk per picture, and Debian's ffmpeg 5.1
reads it with its ``dhav`` demuxer. The layout is taken from that demuxer, FFmpeg's
``libavformat/dhav.c`` (``dhav_probe``, ``read_chunk``, ``parse_ext``, ``get_timeinfo``,
``get_duration``, ``get_pts``, ``dhav_read_packet``), and checked here with ``ffprobe -f dhav``:

====== ===== ==========================================================================
offset bytes field (little-endian)
====== ===== ==========================================================================
0      4     ``DHAV``
4      1     type: ``0xFD`` video keyframe, ``0xFC`` other video, ``0xF0`` audio, ``0xF1``
             auxiliary (the demuxer skips the whole chunk)
5      1     subtype (0 here [?])
6      1     channel (0-based here [?])
7      1     frame sub-number (0)
8      4     frame number (counts the pictures of the file here [?])
12     4     chunk length: this header, the extension, the payload and the trailer
16     4     date: seconds | minutes << 6 | hours << 12 | day << 17 | month << 22 |
             (year - 2000) << 26, the recorder's wall clock (local time [?]); the demuxer reads
             it as UTC to start each second's time stamps
20     2     a millisecond clock (wraps at 65536); time stamps within a second advance by it
22     1     extension length
23     1     checksum (the demuxer ignores it; here the low byte of the sum of bytes 0-22 [?])
24     ext   extension records: ``0x81 _ codec fps`` (codec 2, 4 or 8 = H.264, 0x0C = H.265),
             ``0x82 _ _ _ width height`` (16-bit each); written on keyframes here
…      n     the picture: H.264 Annex B, one access unit
end-8  8     trailer ``dhav`` + the chunk length again (how the demuxer finds the last chunk)
====== ===== ==========================================================================

Each chunk's time stamp is its date's second (as UTC) plus the millisecond clock's advance since
the first chunk of that second: pictures whose clock and date agree come out evenly spaced. The
demuxer computes a file's duration from the date of its first chunk and of its last one (found
through the trailer). A simulated file therefore ends with one auxiliary chunk dated the file's
end: ffprobe then reads the file's whole length, and the recorder pads the file to the size its
search announces (``Length``) without an encoder run: the padding is that auxiliary chunk's
payload, which every reader skips. Real files end in a picture, and whether real recorders pad
files is not known [?].

    .venv/bin/python -c "from camfleet.sim.dahua.dhav import *; import datetime as dt; \\
        print(chunk(VIDEO_KEY, 0, 1, pack_date(dt.datetime(2026, 12, 1, 19, 40)), 0, b'', b'\\0\\0\\0\\1\\x09\\x10')[:24].hex())"
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterator

from camfleet.sim.footage import access_units
from camfleet.sim.media import StreamSpec

VIDEO_KEY, VIDEO, AUDIO, AUX = 0xFD, 0xFC, 0xF0, 0xF1
HEADER = 24
TRAILER = 8
#: Codec numbers of the ``0x81`` record; ffmpeg reads 2, 4 and 8 as H.264 and 0x0C as H.265 [V: dhav.c].
CODECS = {"h264": 0x08, "h265": 0x0C}
#: ``0x81`` (codec, frame rate) and ``0x82`` (width, height): what a keyframe chunk carries.
EXT_LEN = 12
#: The smallest chunk: header and trailer, nothing between.
MIN_CHUNK = HEADER + TRAILER


def pack_date(when: dt.datetime) -> int:
    """The 32-bit date of a chunk (a naive wall-clock time; years 2000-2063)."""
    if not 2000 <= when.year < 2064:
        raise ValueError("a DHAV date holds the years 2000-2063")
    return (
        when.second | when.minute << 6 | when.hour << 12 | when.day << 17 | when.month << 22 | (when.year - 2000) << 26
    )


def unpack_date(value: int) -> dt.datetime:
    """The wall-clock time a chunk's date holds (what ``get_timeinfo`` reads)."""
    return dt.datetime(
        2000 + (value >> 26 & 0x3F),
        value >> 22 & 0x0F,
        value >> 17 & 0x1F,
        value >> 12 & 0x1F,
        value >> 6 & 0x3F,
        value & 0x3F,
    )


def chunk(kind: int, channel: int, number: int, date: int, millis: int, ext: bytes, payload: bytes) -> bytes:
    """One DHAV chunk: header, extension, payload, trailer."""
    length = HEADER + len(ext) + len(payload) + TRAILER
    head = b"DHAV" + bytes([kind, 0, channel & 0xFF, 0])
    head += struct.pack("<IIIH", number & 0xFFFFFFFF, length, date, millis & 0xFFFF) + bytes([len(ext)])
    head += bytes([sum(head) & 0xFF])
    return head + ext + payload + b"dhav" + struct.pack("<I", length)


def video_ext(spec: StreamSpec) -> bytes:
    """The extension records of a keyframe chunk: codec and frame rate, width and height."""
    return bytes([0x81, 0, CODECS[spec.codec], spec.fps & 0xFF, 0x82, 0, 0, 0]) + struct.pack(
        "<HH", spec.width, spec.height
    )


def is_keyframe(unit: bytes) -> bool:
    """Whether an access unit holds an IDR picture (NAL type 5) or a sequence parameter set (7)."""
    return any(part and (part[0] & 0x1F) in (5, 7) for part in unit.split(b"\x00\x00\x01")[1:])


class DhavWriter:
    """One ``.dav`` file written a picture at a time; it counts the bytes it gave out.

    ``offset_s`` turns UTC into the recorder's wall clock (the chunk dates).
    """

    def __init__(self, spec: StreamSpec, channel: int, offset_s: int) -> None:
        self.spec = spec
        self.channel = channel
        self.offset_s = offset_s
        self.pictures = 0
        self.written = 0

    def _date(self, utc_s: int) -> int:
        return pack_date(dt.datetime.fromtimestamp(utc_s + self.offset_s, dt.UTC).replace(tzinfo=None))

    def pictures_of(self, clip: bytes, epoch: int, first: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The chunks of pictures ``first``..``stop`` of the minute clip that starts at ``epoch`` (UTC)."""
        fps = self.spec.fps
        ext = video_ext(self.spec)
        for i, unit in enumerate(access_units(clip)[first:stop], first):
            key = is_keyframe(unit)
            millis = epoch * 1000 + i * 1000 // fps
            out = chunk(
                VIDEO_KEY if key else VIDEO,
                self.channel,
                self.pictures,
                self._date(epoch + i // fps),
                millis,
                ext if key else b"",
                unit,
            )
            self.pictures += 1
            self.written += len(out)
            yield out

    def padding(self, size: int, end_utc: int) -> bytes:
        """The auxiliary chunk that ends the file: dated ``end_utc``, ``size`` bytes in all."""
        if size < MIN_CHUNK:
            raise ValueError(f"a padding chunk needs {MIN_CHUNK} bytes at least, not {size}")
        out = chunk(AUX, self.channel, self.pictures, self._date(end_utc), end_utc * 1000, b"", bytes(size - MIN_CHUNK))
        self.written += len(out)
        return out


def size_bound(spec: StreamSpec, frames: int, keyframes: int) -> int:
    """The most bytes the chunks of ``frames`` consecutive pictures of one minute clip can take.

    The minutes are encoded at a constant bit rate with a one-second buffer (``nal-hrd=cbr``,
    ``-bufsize`` = the rate, :func:`~camfleet.sim.footage.ffmpeg_command`), so no stretch of n
    pictures holds more than n/fps + 1 seconds of the rate; each chunk adds its header and
    trailer, each keyframe its extension, and 4 KiB cover the encoder's first headers.
    """
    rate = spec.bitrate_kbps * 125  # bytes a second
    return frames * MIN_CHUNK + keyframes * EXT_LEN + -(-rate * frames // spec.fps) + rate + 4096
