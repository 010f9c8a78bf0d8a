"""Picture size (and frame rate, when signalled) from an H.264 or H.265 sequence parameter set.

The stream probe reports the resolution a camera really sends, not what its
configuration claims: the SPS is the encoder's own statement, taken from the
SDP (``sprop-parameter-sets`` / ``sprop-sps``) or from the first in-band SPS
when the SDP has none (Hikvision H.265). Only the fields before the size (and,
for H.264, the VUI timing) are decoded; nothing here touches picture data.

Sizes are the *displayed* ones: 1080 lines are coded as 1088 (68 macroblocks)
and 360 as 368, with frame cropping (H.264) or a conformance window (H.265)
removing the extra lines, so the cropping must be applied.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.media import *; from camfleet.probes.h264 import *; \\
        print(parse_h264_sps(clip_for(StreamSpec('h264', 1920, 1080, 25, 50, 4096)).sps))"
"""

from __future__ import annotations

from dataclasses import dataclass

#: profile_idc values whose SPS carries chroma format, bit depths and scaling matrices (H.264 7.3.2.1.1).
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
_EXTENDED_SAR = 255


class SpsError(ValueError):
    """The bytes are not a parameter set this module can read (truncated, wrong NAL type, out of range)."""


@dataclass(frozen=True)
class SpsInfo:
    """What the probe reports from a sequence parameter set."""

    codec: str  # 'h264' | 'h265'
    width: int
    height: int
    profile_idc: int
    level_idc: int
    fps: float | None = None  # from VUI timing info, when the encoder wrote it (H.264 only)


def unescape(nal: bytes) -> bytes:
    """Remove emulation-prevention bytes (``00 00 03`` → ``00 00``) so the RBSP bits can be read."""
    if b"\x00\x00\x03" not in nal:
        return nal
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class BitReader:
    """Big-endian bit reader with Exp-Golomb codes, over an RBSP (emulation bytes already removed)."""

    def __init__(self, data: bytes, start_byte: int = 0) -> None:
        self.value = int.from_bytes(data, "big")
        self.bits = len(data) * 8
        self.pos = start_byte * 8

    def u(self, n: int) -> int:
        """``n`` bits as an unsigned integer."""
        if n == 0:
            return 0
        end = self.pos + n
        if end > self.bits:
            raise SpsError("parameter set is truncated")
        self.pos = end
        return (self.value >> (self.bits - end)) & ((1 << n) - 1)

    def flag(self) -> bool:
        return self.u(1) == 1

    def skip(self, n: int) -> None:
        if self.pos + n > self.bits:
            raise SpsError("parameter set is truncated")
        self.pos += n

    def ue(self) -> int:
        """Unsigned Exp-Golomb code."""
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise SpsError("Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        """Signed Exp-Golomb code."""
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + r.se() + 256) % 256
        last = nxt or last


def parse_h264_sps(nal: bytes) -> SpsInfo:
    """Decode an H.264 SPS NAL unit (type 7, with its one-byte header) up to the VUI timing info."""
    if not nal or nal[0] & 0x1F != 7:
        raise SpsError("not an H.264 SPS (NAL type 7)")
    r = BitReader(unescape(nal), 1)
    profile_idc = r.u(8)
    r.skip(8)  # constraint_set flags + reserved
    level_idc = r.u(8)
    r.ue()  # seq_parameter_set_id
    chroma_format_idc, separate_planes = 1, False
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = r.ue()
        if chroma_format_idc > 3:
            raise SpsError(f"chroma_format_idc {chroma_format_idc} out of range")
        if chroma_format_idc == 3:
            separate_planes = r.flag()
        r.ue()  # bit_depth_luma_minus8
        r.ue()  # bit_depth_chroma_minus8
        r.skip(1)  # qpprime_y_zero_transform_bypass_flag
        if r.flag():  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if r.flag():
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif poc_type == 1:
        r.skip(1)
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()  # max_num_ref_frames
    r.skip(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_map_units = r.ue() + 1
    frame_mbs_only = r.flag()
    if not frame_mbs_only:
        r.skip(1)  # mb_adaptive_frame_field_flag
    r.skip(1)  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_map_units * 16
    if r.flag():  # frame_cropping_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        if chroma_format_idc == 0 or separate_planes:
            unit_x, unit_y = 1, 2 - frame_mbs_only
        else:
            sub_w = 1 if chroma_format_idc == 3 else 2
            sub_h = 2 if chroma_format_idc == 1 else 1
            unit_x, unit_y = sub_w, sub_h * (2 - frame_mbs_only)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    if width <= 0 or height <= 0:
        raise SpsError(f"cropping leaves no picture ({width}x{height})")
    return SpsInfo("h264", width, height, profile_idc, level_idc, _vui_fps(r))


def _vui_fps(r: BitReader) -> float | None:
    """Frame rate from the VUI timing info, or None (absent, or the SPS ends early)."""
    try:
        if not r.flag():  # vui_parameters_present_flag
            return None
        if r.flag() and r.u(8) == _EXTENDED_SAR:  # aspect_ratio_info_present_flag, aspect_ratio_idc
            r.skip(32)
        if r.flag():  # overscan_info_present_flag
            r.skip(1)
        if r.flag():  # video_signal_type_present_flag
            r.skip(4)
            if r.flag():  # colour_description_present_flag
                r.skip(24)
        if r.flag():  # chroma_loc_info_present_flag
            r.ue()
            r.ue()
        if not r.flag():  # timing_info_present_flag
            return None
        units, scale = r.u(32), r.u(32)
    except SpsError:
        return None
    # One frame is two fields' worth of ticks (H.264 E.2.1, for the usual fixed-rate progressive stream).
    return scale / (2 * units) if units else None


def _skip_profile_tier_level(r: BitReader, max_sub_layers_minus1: int) -> tuple[int, int]:
    """H.265 7.3.3; returns (general_profile_idc, general_level_idc)."""
    r.skip(3)  # general_profile_space, general_tier_flag
    profile_idc = r.u(5)
    r.skip(32 + 48)  # compatibility flags; progressive/interlaced/... and reserved bits
    level_idc = r.u(8)
    present = [(r.flag(), r.flag()) for _ in range(max_sub_layers_minus1)]
    if max_sub_layers_minus1 > 0:
        r.skip(2 * (8 - max_sub_layers_minus1))  # reserved_zero_2bits
    for profile_present, level_present in present:
        r.skip((88 if profile_present else 0) + (8 if level_present else 0))
    return profile_idc, level_idc


def parse_h265_sps(nal: bytes) -> SpsInfo:
    """Decode an H.265 SPS NAL unit (type 33, with its two-byte header) up to the conformance window."""
    if len(nal) < 2 or (nal[0] >> 1) & 0x3F != 33:
        raise SpsError("not an H.265 SPS (NAL type 33)")
    r = BitReader(unescape(nal), 2)
    r.skip(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = r.u(3)
    r.skip(1)  # sps_temporal_id_nesting_flag
    profile_idc, level_idc = _skip_profile_tier_level(r, max_sub_layers_minus1)
    r.ue()  # sps_seq_parameter_set_id
    chroma_format_idc = r.ue()
    if chroma_format_idc > 3:
        raise SpsError(f"chroma_format_idc {chroma_format_idc} out of range")
    separate_planes = r.flag() if chroma_format_idc == 3 else False
    width, height = r.ue(), r.ue()
    if r.flag():  # conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        if chroma_format_idc == 0 or separate_planes:
            sub_w = sub_h = 1
        else:
            sub_w = 1 if chroma_format_idc == 3 else 2
            sub_h = 2 if chroma_format_idc == 1 else 1
        width -= sub_w * (left + right)
        height -= sub_h * (top + bottom)
    if width <= 0 or height <= 0:
        raise SpsError(f"conformance window leaves no picture ({width}x{height})")
    return SpsInfo("h265", width, height, profile_idc, level_idc)


def parse_sps(codec: str, nal: bytes) -> SpsInfo:
    """Dispatch on the codec name the SDP gave ('h264' or 'h265')."""
    return parse_h264_sps(nal) if codec == "h264" else parse_h265_sps(nal)
