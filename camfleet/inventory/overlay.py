"""The address overlay: device id → loopback address and ports, written by ``camfleet sim up``.

The real inventory keeps the town's real addresses (VPN and station LAN). A
simulated town gives each device a 127.x.y.z address instead; loading with an
overlay swaps those in after validation, so the same inventory, playbooks and
exporter work against the simulator unchanged.

    CAMFLEET_OVERLAY=.state/overlay.yml .venv/bin/ansible-inventory --host cam-01-t01
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from camfleet.inventory.checks import dotted
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.loader import explain
from camfleet.inventory.problems import InventoryError, Problem
from camfleet.inventory.yamlfiles import YamlSyntaxError, read_yaml
from camfleet.model import IPv4, Port, Strict

ENV = "CAMFLEET_OVERLAY"


class DeviceAddress(Strict):
    """Where one device answers in the simulated town."""

    address: IPv4 = Field(description="Loopback address of the device.")
    http_port: Port | None = Field(default=None, description="HTTP API port.")
    rtsp_port: Port | None = Field(default=None, description="RTSP port.")
    ssh_port: Port | None = Field(default=None, description="SSH port (link routers).")

    @field_validator("address")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        # A simulated town must never send a packet off this machine.
        if not ipaddress.ip_address(value).is_loopback:
            raise ValueError(f"{value} is not a loopback address; the simulator only uses 127.0.0.0/8")
        return value


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
        first = exc.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        message = first["msg"] if first["type"] == "value_error" else explain(first, Overlay, loc)
        raise InventoryError([Problem(path, None, dotted(*loc) or "(overlay)", message)]) from None


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
