"""H.264+/H.265+ in the stream profiles (the retention plan counts the average it keeps) and the town's
date/time overlay policy in every camera's baseline (issue 13).

    .venv/bin/pytest tests/unit/test_smart_codec_and_clock.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camfleet.config.camera import desired_camera_config
from camfleet.drivers.desired import OsdTime
from camfleet.inventory import load
from camfleet.inventory.plans import recorder_plans
from camfleet.inventory.problems import InventoryError
from tests.conftest import TOWN

MAIN_1080P = """- id: main-1080p
  codec: h264
  width: 1920
  height: 1080
  fps: 12
  bitrate_kbps: 1536
  bitrate_mode: vbr
  gop: 24
"""


def with_profile(town: Path, extra: str) -> None:
    profiles = town / "profiles.yml"
    text = profiles.read_text(encoding="utf-8")
    assert MAIN_1080P in text
    profiles.write_text(text.replace(MAIN_1080P, MAIN_1080P + extra), encoding="utf-8")


def test_smart_codec_lengthens_the_retention_by_what_the_average_saves(town_copy: Path) -> None:
    before = {p.recorder.id: p for p in recorder_plans(load(TOWN).fleet)}
    with_profile(town_copy, "  smart_codec: true\n  average_kbps: 768\n")  # H.264+ keeping half the cap
    after = {p.recorder.id: p for p in recorder_plans(load(town_copy).fleet)}
    fleet = load(town_copy).fleet
    for rec_id, plan in after.items():
        old = before[rec_id]
        on_1080p = sum(
            1
            for c in fleet.cameras_on_recorder(rec_id)
            if c.stream is not None and c.stream.main == "main-1080p" and c.status.value != "retired"
        )
        assert plan.bitrate_kbps == old.bitrate_kbps - on_1080p * 768  # stored: the average, not the cap
        assert plan.cap_kbps == old.bitrate_kbps  # what may arrive at once: still the caps
        if on_1080p and plan.bitrate_kbps:
            assert plan.retention_days > old.retention_days
            ratio = plan.retention_days / old.retention_days
            assert ratio == pytest.approx(old.bitrate_kbps / plan.bitrate_kbps)
    assert any(after[r].retention_days > before[r].retention_days for r in after)  # the town has such cameras


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("  smart_codec: true\n", "smart_codec needs average_kbps"),
        ("  average_kbps: 768\n", "average_kbps means something only with smart_codec: true"),
        ("  smart_codec: true\n  average_kbps: 2048\n", "above the cap bitrate_kbps 1536"),
    ],
)
def test_an_average_without_smart_codec_or_above_the_cap_is_refused_at_its_line(
    town_copy: Path, extra: str, said: str
) -> None:
    with_profile(town_copy, extra)
    with pytest.raises(InventoryError) as err:
        load(town_copy)
    assert said in str(err.value) and "profiles.yml" in str(err.value)


def test_the_baseline_carries_the_clock_on_at_the_top_left_and_a_town_may_change_it(town_copy: Path) -> None:
    fleet = load(TOWN).fleet
    cam = next(c for c in fleet.cameras.values() if c.stream is not None)
    assert desired_camera_config(fleet, cam).osd_time == OsdTime(True, "YYYY-MM-DD", "24h", False, 0.0, 0.0556)
    town_file = town_copy / "town.yml"
    town_file.write_text(
        town_file.read_text(encoding="utf-8").replace(
            "  storage:\n", "  osd_clock:\n    date_format: DD-MM-YYYY\n    show_week: true\n    y: 0.9\n  storage:\n"
        ),
        encoding="utf-8",
    )
    fleet = load(town_copy).fleet
    assert desired_camera_config(fleet, fleet.cameras[cam.id]).osd_time == OsdTime(
        True, "DD-MM-YYYY", "24h", True, 0.0, 0.9
    )


def test_a_smart_codec_profile_reaches_the_baseline_with_its_average(town_copy: Path) -> None:
    with_profile(town_copy, "  smart_codec: true\n  average_kbps: 768\n")
    fleet = load(town_copy).fleet
    cam = next(c for c in fleet.cameras.values() if c.stream is not None and c.stream.main == "main-1080p")
    main = desired_camera_config(fleet, cam).main
    assert (main.smart_codec, main.average_kbps, main.bitrate_kbps) == (True, 768, 1536)
