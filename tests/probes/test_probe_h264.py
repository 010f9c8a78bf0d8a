"""SPS parsing on the parameter sets of real encoder output (the simulator's ffmpeg clips), no sockets.

360 and 1080 lines are not multiples of 16, so these sizes only come out right
when frame cropping (H.264) or the conformance window (H.265) is applied.

    .venv/bin/pytest tests/probes/test_probe_h264.py -q
"""

from __future__ import annotations

import pytest

from camfleet.probes.h264 import BitReader, SpsError, parse_h264_sps, parse_h265_sps, parse_sps, unescape
from camfleet.sim.media import StreamSpec, clip_for

SIZES = [(640, 360), (1280, 720), (1920, 1080)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_h264_sps_size_and_vui_fps(width: int, height: int) -> None:
    clip = clip_for(StreamSpec("h264", width, height, 10, 20, 256))
    info = parse_h264_sps(clip.sps)
    assert (info.width, info.height) == (width, height)
    assert info.codec == "h264"
    assert info.profile_idc == 77  # -profile:v main
    assert info.level_idc == clip.sps[3]
    assert info.fps == pytest.approx(10.0)


def test_h264_1080_is_coded_as_1088_and_cropped() -> None:
    sps = clip_for(StreamSpec("h264", 1920, 1080, 10, 20, 256)).sps
    r = BitReader(unescape(sps), 1)
    assert r.u(8) == 77
    # Walk the Main-profile fields by hand to the coded size, which the parser must then crop.
    r.skip(16)
    r.ue()  # sps id
    r.ue()  # log2_max_frame_num
    if r.ue() == 0:
        r.ue()
    r.ue()
    r.skip(1)
    assert (r.ue() + 1, r.ue() + 1) == (120, 68)  # 1920x1088 coded


@pytest.mark.parametrize(("width", "height"), [(640, 360), (1920, 1080)])
def test_h265_sps_size(width: int, height: int) -> None:
    clip = clip_for(StreamSpec("h265", width, height, 10, 20, 256))
    info = parse_sps("h265", clip.sps)
    assert (info.codec, info.width, info.height) == ("h265", width, height)
    assert info.profile_idc == 1  # Main


def test_wrong_nal_type_and_truncation_raise_sps_error() -> None:
    clip = clip_for(StreamSpec("h264", 640, 360, 10, 20, 256))
    with pytest.raises(SpsError, match="type 7"):
        parse_h264_sps(clip.pps)
    with pytest.raises(SpsError, match="truncated"):
        parse_h264_sps(clip.sps[:6])
    with pytest.raises(SpsError, match="type 33"):
        parse_h265_sps(clip.sps)


def test_emulation_prevention_bytes_are_removed() -> None:
    assert unescape(b"\x67\x00\x00\x03\x01\x00\x00\x03\x00") == b"\x67\x00\x00\x01\x00\x00\x00"
    assert unescape(b"\x67\x42") == b"\x67\x42"


def test_exp_golomb() -> None:
    # bits: 1 | 010 | 011 | 00100 | 00101  → ue 0, 1, 2, 3; then se of 4 → -2
    r = BitReader(bytes([0b10100110, 0b01000010, 0b10000000]))
    assert [r.ue(), r.ue(), r.ue(), r.ue()] == [0, 1, 2, 3]
    r = BitReader(bytes([0b00101000]))
    assert r.se() == -2
