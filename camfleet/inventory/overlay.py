"""The address overlay: device id → loopback address and ports, written by ``camfleet sim up``.

The real inventory keeps the town's real addresses (VPN and station LAN). A
simulated town gives each device a 127.x.y.z address instead; loading with an
overlay swaps those in after validation, so the same inventory, playbooks and
exporter work against the simulator unchanged.

    CAMFLEET_OVERLAY=.state/overlay.yml .venv/bin/ansible-inventory --host cam-01-t01
"""

from __future__ import annotations

import os
from ipaddress import IPv4Address
from pathlib import Path

from pydantic import Field, ValidationError

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.problems import InventoryError, Problem
from camfleet.inventory.yamlfiles import YamlSyntaxError, read_yaml
from camfleet.model import Port, Strict

ENV = "CAMFLEET_OVERLAY"


class DeviceAddress(Strict):
    """Where one device answers in the simulated town."""

    address: IPv4Address = Field(description="Loopback address of the device.")
    http_port: Port | None = Field(default=None, description="HTTP API port.")
    rtsp_port: Port | None = Field(default=None, description="RTSP port.")
    ssh_port: Port | None = Field(default=None, description="SSH port (link routers).")


class Overlay(Strict):
    """An overlay file."""

    town: str = Field(description="Town id the overlay was written for.")
    devices: dict[str, DeviceAddress] = Field(description="Device id → address and ports.")


def overlay_path(explicit: Path | str | None = None) -> Path | None:
    """The overlay to apply: the argument, else ``$CAMFLEET_OVERLAY``, else none."""
    chosen = explicit if explicit is not None else os.environ.get(ENV)
    return Path(chosen) if chosen else None


def read_overlay(path: Path) -> Overlay:
    try:
        return Overlay.model_validate(read_yaml(path))
    except FileNotFoundError:
        raise InventoryError(
            [Problem(path, None, "(overlay)", f"no overlay file; start the simulator (camfleet sim up) or unset {ENV}")]
        ) from None
    except YamlSyntaxError as exc:
        raise InventoryError([Problem(path, exc.line, "(overlay)", exc.message)]) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InventoryError([Problem(path, None, field or "(overlay)", first["msg"])]) from None


def apply_overlay(fleet: Fleet, path: Path) -> None:
    """Swap the overlay's addresses and ports into the fleet, in place."""
    overlay = read_overlay(path)
    if overlay.town != fleet.town.id:
        raise InventoryError(
            [Problem(path, None, "town", f"overlay is for town '{overlay.town}', the inventory is '{fleet.town.id}'")]
        )
    for device_id, where in overlay.devices.items():
        if device_id in fleet.cameras:
            cam = fleet.cameras[device_id]
            network = cam.network.model_copy(update=_updates(where, "http_port", "rtsp_port"))
            fleet.cameras[device_id] = cam.model_copy(update={"network": network})
        elif device_id in fleet.recorders:
            rec = fleet.recorders[device_id]
            fleet.recorders[device_id] = rec.model_copy(update=_updates(where, "http_port", "rtsp_port"))
        elif device_id in fleet.link_routers:
            router = fleet.link_routers[device_id]
            fleet.link_routers[device_id] = router.model_copy(update=_updates(where, "ssh_port"))
        else:
            raise InventoryError(
                [
                    Problem(
                        path,
                        None,
                        f"devices.{device_id}",
                        "the inventory has no such device; restart the simulator for this inventory",
                    )
                ]
            )


def _updates(where: DeviceAddress, *ports: str) -> dict[str, object]:
    return {"address": where.address} | {p: getattr(where, p) for p in ports if getattr(where, p)}
