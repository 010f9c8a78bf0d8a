"""Firmware files the simulated devices accept, one per line of a town's catalogue.

The reference town's catalogue (``inventory/ngoc-lac/firmware.yml``) carries the SHA-256 of these
files, so the rollout's file check passes against the simulator exactly as it would with the
vendor's file on a real station::

    .venv/bin/camfleet firmware fetch-sim inventory/ngoc-lac --store firmware/
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from camfleet.inventory.fleet import Fleet
from camfleet.sim.devices import make_firmware


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sim_images(fleet: Fleet) -> dict[str, bytes]:
    """The simulator's firmware file for every catalogue line, by file name."""

    return {line.approved.file: make_firmware(line.model, line.approved.build) for line in fleet.firmware.values()}


def fetch_sim(fleet: Fleet, store: Path) -> list[Path]:
    """Write the simulator's approved files into ``store``; their SHA-256 is what the reference
    town's catalogue approves (a catalogue whose digests differ is reported by :func:`verify_store`).
    """
    written = []
    for name, data in sorted(sim_images(fleet).items()):
        write_atomically(store / name, data)
        written.append(store / name)
    return written
