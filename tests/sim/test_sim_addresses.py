"""Stable simulator addresses: a device added to the inventory (or a restart) never moves another
device, so a recorder's channel keeps pointing at its own camera.

The plan is built as ``camfleet sim up`` builds it (``SimTown.plan``, the overlay it writes), with no
socket opened.

    .venv/bin/pytest tests/sim/test_sim_addresses.py -q
"""

from __future__ import annotations

import itertools
from pathlib import Path

from camfleet.inventory import load
from camfleet.inventory.vault import device_credentials
from camfleet.sim.town import SimTown
from camfleet.sim.town.plan import allocate, home_slot, write_overlay

NET = 223
ADDED = "cam-05-t02"  # a camera in the middle of the town's sorted ids


def planned(town: Path, state: Path) -> dict[str, str]:
    fleet = load(town).fleet
    assert fleet is not None
    sim = SimTown(fleet, device_credentials(town), state, net=NET)
    plan = sim.plan()
    state.mkdir(parents=True, exist_ok=True)
    write_overlay(state, plan.overlay)  # what `sim up` leaves for the next run
    return {d.id: d.address for d in plan.devices}


def set_status(town: Path, camera: str, old: str, new: str) -> None:
    """Edit one camera's ``status:`` line in its khu phố file (``planned``: not yet up)."""
    for file in (town / "sites").glob("*.yml"):
        text = file.read_text(encoding="utf-8")
        head = f"- id: {camera}\n"
        if head in text:
            start = text.index(head)
            end = text.find("\n- id: ", start + 1)
            end = len(text) if end < 0 else end
            block = text[start:end]
            assert f"  status: {old}\n" in block, block
            file.write_text(text[:start] + block.replace(f"status: {old}", f"status: {new}") + text[end:])
            return
    raise AssertionError(f"{camera} not in {town}")


def test_adding_a_camera_in_the_middle_moves_no_other_device(town_copy: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    set_status(town_copy, ADDED, "commissioned", "planned")
    before = planned(town_copy, state)  # the earlier run, its overlay left in the state folder
    assert ADDED not in before
    ids = sorted(i for i in before if i.startswith("cam-"))
    assert ids[0] < ADDED < ids[-1]  # really in the middle: a numbering by position would shift the rest

    set_status(town_copy, ADDED, "planned", "commissioned")  # the camera goes up
    fresh = planned(town_copy, tmp_path / "fresh")  # from scratch (the hash alone)
    restarted = planned(town_copy, state)  # after the earlier run (its overlay)
    again = planned(town_copy, state)  # and one more restart

    assert ADDED in fresh and ADDED in restarted
    for device_id, addr in before.items():
        assert fresh[device_id] == restarted[device_id] == addr, device_id
    assert again == restarted
    assert len(set(fresh.values())) == len(fresh)  # no two devices on one address
    for device_id, addr in fresh.items():
        role = 0 if device_id.startswith("cam-") else 1 if device_id.startswith("nvr-") else 2
        assert addr.startswith(f"127.{NET + role}."), (device_id, addr)


def test_a_colliding_newcomer_moves_itself_not_the_device_already_there() -> None:
    # Two ids on one slot, found deterministically; the one sorting first arrives second.
    seen: dict[int, str] = {}
    first = second = ""
    for n in itertools.count():
        device_id = f"cam-{n:05d}"
        slot = home_slot(device_id)
        if slot in seen:
            first, second = device_id, seen[slot]  # swap: make the newcomer sort *before* the incumbent
            if first > second:
                first, second = second, first
            break
        seen[slot] = device_id
    incumbent, newcomer = second, first
    alone = allocate(NET, "camera", [incumbent])
    both_fresh = allocate(NET, "camera", [incumbent, newcomer])
    both_kept = allocate(NET, "camera", [incumbent, newcomer], previous=alone)
    assert both_fresh[newcomer] == alone[incumbent]  # from scratch the slot goes by sorted id...
    assert both_kept[incumbent] == alone[incumbent]  # ...but after a run the incumbent keeps it
    assert both_kept[newcomer] != both_kept[incumbent]
    # A previous address outside the role's range (another --net) is not kept.
    moved = allocate(NET + 3, "camera", [incumbent], previous=alone)
    assert moved[incumbent].startswith(f"127.{NET + 3}.")
