"""The simulated encoder keeps to its profile's bitrate, as ffprobe measures it: retention figures
tested against the simulator mean something only if a 1,536 kbit/s camera sends ~1,536, not 1,820.

    .venv/bin/pytest tests/sim/test_sim_bitrate.py -q
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfleet.sim.faults import Faults
from camfleet.sim.media import StreamSpec, clip_for
from camfleet.sim.rtsp import RtspServer, hikvision_resolver
from tests.sim import test_rtsp

rtsp_loop = test_rtsp.rtsp_loop  # the in-process RTSP servers' loop fixture, shared by name

#: The reference town's profiles (inventory/ngoc-lac/profiles.yml).
MAIN_1080P = StreamSpec("h264", 1920, 1080, 12, 24, 1536)
SUB_360P = StreamSpec("h264", 640, 360, 12, 24, 384)
SUB_H265 = StreamSpec("h265", 640, 360, 12, 48, 256)  # x265 at 1080p takes ~14 s here: a small one


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh cache, so the clips are encoded by this code, not read from an older run."""
    return tmp_path_factory.mktemp("media")


def kbps(sizes: list[int], frames: int, fps: int) -> float:
    return sum(sizes) * 8 / (frames / fps) / 1000


def packet_sizes(source: str, frames: int, *extra: str) -> list[int]:
    command = ["ffprobe", "-v", "error", *extra, "-show_entries", "packet=size", "-of", "json"]
    command += ["-read_intervals", f"%+#{frames}", source]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    sizes = [int(p["size"]) for p in json.loads(result.stdout)["packets"]]
    assert len(sizes) == frames, len(sizes)
    return sizes


@pytest.fixture
def camera_1080p(media_dir: Path, rtsp_loop: asyncio.AbstractEventLoop) -> Iterator[str]:
    clip_for(MAIN_1080P, media_dir)
    host = f"127.77.{secrets.randbelow(254) + 1}.{secrets.randbelow(254) + 1}"
    server = RtspServer(host, 0, "1868cb21d4df", lambda: {"admin": "pw-1"}, hikvision_resolver(MAIN_1080P), Faults())
    test_rtsp._on(rtsp_loop, server.start())
    yield f"rtsp://admin:pw-1@{host}:{server.port}/Streaming/Channels/101"
    test_rtsp._on(rtsp_loop, server.stop())


def test_the_1080p_camera_streams_at_its_profile_cap(camera_1080p: str) -> None:
    frames = MAIN_1080P.frame_count  # one whole loop of the clip: every GOP counted once
    sizes = packet_sizes(camera_1080p, frames, "-rtsp_transport", "tcp", "-timeout", "5000000")
    measured = kbps(sizes, frames, MAIN_1080P.fps)
    assert 0.6 * MAIN_1080P.bitrate_kbps <= measured <= 1.05 * MAIN_1080P.bitrate_kbps, measured


@pytest.mark.parametrize("spec", [SUB_360P, SUB_H265], ids=lambda s: s.key)
def test_clips_keep_to_the_cap(media_dir: Path, spec: StreamSpec) -> None:
    clip = clip_for(spec, media_dir)
    source = media_dir / f"{spec.key}.{spec.codec}"
    sizes = packet_sizes(str(source), spec.frame_count, "-f", "h264" if spec.codec == "h264" else "hevc")
    measured = kbps(sizes, spec.frame_count, spec.fps)
    assert 0.6 * spec.bitrate_kbps <= measured <= 1.05 * spec.bitrate_kbps, measured
    assert clip.bitrate_kbps <= spec.bitrate_kbps * 1.05  # what the simulator says it sends agrees
