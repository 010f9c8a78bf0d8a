"""Video files for evidence: remux a recorder's download to MP4 without re-encoding, cut it to a window
on keyframes, and read what ffprobe says of the result.

Why ``-c copy`` only: footage handed to a court must be the recorder's own pictures, bit for bit;
re-encoding would change every frame. A Hikvision download is an MPEG program stream (with the
40-byte ``IMKH`` header), a Dahua one a ``.dav`` file; both carry H.264/H.265 that MP4 holds as is.
Their audio (G.711 A-law) cannot be copied into MP4 by ffmpeg 5.1, so clips keep the video only
(docs/reference/footage.md §2.1). A cut starts on the keyframe at or before the window's start,
so a clip may begin up to one GOP early; the manifest records the clip's real start and end.

    .venv/bin/python -c "from camfleet.jobs.media import probe; print(probe('clip.mp4'))"
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
#: Codecs a clip may carry: what the town's cameras record.
VIDEO_CODECS = frozenset({"h264", "hevc"})


class MediaError(Exception):
    """ffmpeg or ffprobe refused the file; the message quotes them in one line."""


@dataclass(frozen=True)
class MediaFacts:
    """What ffprobe reads of a file's first video stream."""

    codec: str
    width: int
    height: int
    duration_s: float
    frames: int
    start_s: float
    format_name: str

    def as_dict(self) -> dict[str, object]:
        return {
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "duration_s": round(self.duration_s, 3),
            "frames": self.frames,
            "format": self.format_name,
        }


def _run(args: list[str], what: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        out = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise MediaError(f"{args[0]} is not installed (Debian's ffmpeg: make setup installs it)") from None
    except subprocess.TimeoutExpired:
        raise MediaError(f"{what}: {Path(args[0]).name} took longer than {timeout:g} s") from None
    if out.returncode != 0:
        said = " ".join(out.stderr.decode("utf-8", "replace").split())[-300:]
        raise MediaError(f"{what}: {Path(args[0]).name} failed ({said or 'no message'})")
    return out


def probe(path: Path | str, *, timeout: float = 120.0) -> MediaFacts:
    """The first video stream of ``path``: codec, size, duration, counted frames (ffprobe reads every packet)."""
    out = _run(
        [
            FFPROBE,
            *("-v", "error", "-select_streams", "v:0", "-count_packets"),
            *("-show_entries", "stream=codec_name,width,height,nb_read_packets:format=duration,start_time,format_name"),
            *("-of", "json", str(path)),
        ],
        f"ffprobe {Path(path).name}",
        timeout,
    )
    try:
        data = json.loads(out.stdout)
        stream = data["streams"][0]
        fmt = data["format"]
        return MediaFacts(
            codec=str(stream["codec_name"]),
            width=int(stream["width"]),
            height=int(stream["height"]),
            duration_s=float(fmt.get("duration") or 0.0),
            frames=int(stream.get("nb_read_packets") or 0),
            start_s=float(fmt.get("start_time") or 0.0),
            format_name=str(fmt.get("format_name", "")),
        )
    except (ValueError, KeyError, IndexError, TypeError):
        raise MediaError(f"ffprobe {Path(path).name}: no video stream") from None


def remux(
    sources: list[Path], target: Path, *, start_s: float = 0.0, duration_s: float | None = None, timeout: float = 3600.0
) -> None:
    """``sources`` (consecutive recorder files) as one MP4, video copied, then cut to ``start_s`` for
    ``duration_s`` (seconds from the first source's start) on keyframes.

    Two passes when a cut is needed: the program stream has no index to seek on, the MP4 has; the
    cut then starts on the keyframe at or before ``start_s``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    joined = target.with_name(f".{target.name}.joined.mp4")
    part = target.with_name(f".{target.name}.part.mp4")
    listing = target.with_name(f".{target.name}.list")
    try:
        if len(sources) == 1:
            inputs = ["-i", str(sources[0])]
        else:
            listing.write_text("".join(f"file '{_concat_path(s)}'\n" for s in sources), encoding="utf-8")
            inputs = ["-f", "concat", "-safe", "0", "-i", str(listing)]
        _run(
            [FFMPEG, "-nostdin", "-v", "error", *inputs, "-map", "0:v:0", "-c", "copy", "-movflags", "+faststart",
             "-f", "mp4", "-y", str(joined)],
            f"remuxing {sources[0].name}" + (f" and {len(sources) - 1} more" if len(sources) > 1 else ""),
            timeout,
        )  # fmt: skip
        if start_s <= 0 and duration_s is None:
            joined.replace(target)
            return
        length = ["-t", f"{duration_s:.3f}"] if duration_s is not None else []
        _run(
            [FFMPEG, "-nostdin", "-v", "error", "-ss", f"{max(0.0, start_s):.3f}", "-i", str(joined), *length,
             "-map", "0:v:0", "-c", "copy", "-movflags", "+faststart", "-avoid_negative_ts", "make_zero",
             "-f", "mp4", "-y", str(part)],
            f"cutting {target.name}",
            timeout,
        )  # fmt: skip
        part.replace(target)
    finally:
        for leftover in (joined, part, listing):
            leftover.unlink(missing_ok=True)


def _concat_path(path: Path) -> str:
    """A path as the concat demuxer's list takes it (single quotes escaped)."""
    return str(path.resolve()).replace("'", "'\\''")
