"""Recording a device's firmware build back into the inventory: one line changes, comments stay."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from camfleet.inventory import load
from camfleet.inventory.edit import EditError, record_firmware, set_scalar


def test_a_cameras_build_is_rewritten_on_its_own_line(town_copy: Path) -> None:
    fleet = load(town_copy, overlay=False).fleet
    file = fleet.origin("cameras", "cam-01-t01").file
    before = file.read_text(encoding="utf-8").split("\n")
    assert record_firmware(fleet, "cam-01-t01", "V5.7.21 build 240816") is True
    after = file.read_text(encoding="utf-8").split("\n")
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("    firmware: V5.7.15 build 230519", "    firmware: V5.7.21 build 240816")]
    reloaded = load(town_copy, overlay=False).fleet
    assert reloaded.cameras["cam-01-t01"].device.firmware == "V5.7.21 build 240816"  # type: ignore[union-attr]
    assert record_firmware(reloaded, "cam-01-t01", "V5.7.21 build 240816") is False  # already so: untouched


def test_a_recorders_build_is_rewritten_and_the_town_stays_valid(town_copy: Path) -> None:
    fleet = load(town_copy, overlay=False).fleet
    assert record_firmware(fleet, "nvr-01", "V4.74.100 build 241010") is True
    assert load(town_copy, overlay=False).fleet.recorders["nvr-01"].firmware == "V4.74.100 build 241010"


def test_a_missing_key_is_added_inside_its_mapping_keeping_comments(tmp_path: Path) -> None:
    file = tmp_path / "cams.yml"
    file.write_text(
        "cameras:\n"
        "- id: cam-1  # by the market\n"
        "  device:\n"
        "    vendor: hikvision\n"
        "    model: DS-2CD1023G2-LIU\n"
        "  network:\n"
        "    address: 10.0.0.2\n"
        "- id: cam-2\n",
        encoding="utf-8",
    )
    assert set_scalar(file, ("cameras", 0, "device"), "firmware", "V5.7.15 build 230519") is True
    text = file.read_text(encoding="utf-8")
    assert "    model: DS-2CD1023G2-LIU\n    firmware: V5.7.15 build 230519\n  network:\n" in text
    assert "# by the market" in text
    assert set_scalar(file, ("cameras", 0), "status", "commissioned") is True
    assert file.read_text(encoding="utf-8").endswith("    address: 10.0.0.2\n  status: commissioned\n- id: cam-2\n")


def test_a_shape_it_does_not_know_is_refused_not_guessed(tmp_path: Path) -> None:
    file = tmp_path / "odd.yml"
    file.write_text("cameras:\n- {id: cam-1, device: {vendor: hikvision}}\n", encoding="utf-8")
    with pytest.raises(EditError, match="not a block mapping"):
        set_scalar(file, ("cameras", 0, "device"), "firmware", "x")
    with pytest.raises(EditError, match=r"no cameras\.3"):
        set_scalar(file, ("cameras", 3), "firmware", "x")


@pytest.mark.parametrize(
    "text",
    [
        # the entry ends in a nested list, then the next list item (indented list)
        "recorders:\n  - id: nvr-01\n    model: A\n    disks:\n      - slot: 1\n  - id: nvr-02\n    model: B\n",
        # ... in a nested mapping, then a comment for the next entry and the next entry
        "recorders:\n- id: nvr-01\n  cost:\n    amount_vnd: 5\n\n# the second recorder\n- id: nvr-02\n  model: B\n",
        # ... in a block scalar
        "recorders:\n- id: nvr-01\n  note: |\n    two\n    lines\n- id: nvr-02\n  model: B\n",
    ],
    ids=["indented-list", "nested-mapping", "block-scalar"],
)
def test_a_key_added_after_a_nested_block_lands_in_its_own_entry(tmp_path: Path, text: str) -> None:
    file = tmp_path / "station.yml"
    file.write_text(text, encoding="utf-8")
    assert set_scalar(file, ("recorders", 0), "firmware", "V1") is True
    after = yaml.safe_load(file.read_text(encoding="utf-8"))
    assert after["recorders"][0]["firmware"] == "V1" and "firmware" not in after["recorders"][1]
    assert "# the second recorder" not in text or "firmware: V1\n\n# the second recorder" in file.read_text("utf-8")
