"""The address overlay: device id → loopback address and ports, written by ``camfleet sim up``.

The real inventory keeps the town's real addresses (VPN and station LAN). A
simulated town gives each device a 127.x.y.z address instead; loading with an
overlay swaps those in after validation, so the same inventory, playbooks and
exporter work against the simulator unchanged.

    CAMFLEET_OVERLAY=.state/overlay.yml .venv/bin/ansible-inventory --host cam-01-t01
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from camfleet.inventory.fleet import Endpoint, EndpointError, Fleet
from camfleet.inventory.messages import dotted, explain
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


def overlay_paths(explicit: Path | str | None = None) -> list[Path]:
    """Every overlay named: the argument or ``$CAMFLEET_OVERLAY``, one path or several joined with ``os.pathsep``
    (an exporter shard over several simulated towns: each overlay names its town)."""
    chosen = explicit if explicit is not None else os.environ.get(ENV)
    return [Path(p) for p in str(chosen).split(os.pathsep) if p] if chosen else []


def overlay_for(town_id: str, explicit: Path | str | None = None) -> Path | None:
    """The overlay to apply to town ``town_id``: the only one named, or among several the one written for it.
    Several named and none for this town: refused (never reached at the town's real addresses)."""
    paths = overlay_paths(explicit)
    if len(paths) <= 1:
        return paths[0] if paths else None
    for path in paths:
        if read_overlay(path).town == town_id:
            return path
    raise InventoryError(
        [
            Problem(
                paths[0],
                None,
                "town",
                f"không overlay nào trong ${ENV} dành cho '{town_id}' / none of the overlays in ${ENV} is for town "
                f"'{town_id}'; start its simulator (camfleet sim up) and add its overlay",
            )
        ]
    )


def read_overlay(path: Path) -> Overlay:
    """The overlay file, validated; parsed once per file version (a playbook's every task asks)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InventoryError(
            [Problem(path, None, "(overlay)", f"no overlay file; start the simulator (camfleet sim up) or unset {ENV}")]
        ) from None
    key = _stat_key(path, st)
    held = _READ.get(key[0])
    if held is not None and held[0] == key:
        return held[1]
    overlay = _parse(path)
    _READ[key[0]] = (key, overlay)
    return overlay


def _stat_key(path: Path, st: os.stat_result) -> tuple[str, int, int, int]:
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


_READ: dict[str, tuple[tuple[str, int, int, int], Overlay]] = {}
#: Fleets already reached through an overlay: (id of the town, overlay version) → (the town, the result).
#: A playbook's every in-process task asks for the same pair; the town is kept so its id is not reused.
_APPLIED: dict[tuple[int, tuple[str, int, int, int]], tuple[Fleet, Fleet]] = {}


def _parse(path: Path) -> Overlay:
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


def apply_overlay(fleet: Fleet, path: Path) -> Fleet:
    """The fleet reached through the overlay's addresses and ports (:meth:`Fleet.endpoint`).

    The entries keep the town's real addresses: configurations rendered from them (RouterOS leases,
    peers) are the real town's. A port the overlay leaves out is the inventory's.
    """
    overlay = read_overlay(path)
    key = (id(fleet), _stat_key(path, path.stat()))
    held = _APPLIED.get(key)
    if held is not None and held[0] is fleet:
        return held[1]
    if overlay.town != fleet.town.id:
        raise InventoryError(
            [Problem(path, None, "town", f"overlay is for town '{overlay.town}', the inventory is '{fleet.town.id}'")]
        )
    real = dataclasses.replace(fleet, overlay=None, overlay_file=None)
    endpoints: dict[str, Endpoint] = {}
    for device_id, where in overlay.devices.items():
        try:
            base = real.endpoint(device_id)
        except EndpointError:
            if device_id not in fleet.cameras:
                raise InventoryError(
                    [
                        Problem(
                            path,
                            None,
                            f"devices.{device_id}",
                            "the inventory has no such device; restart the simulator for this inventory",
                        )
                    ]
                ) from None
            base = Endpoint(device_id, where.address)  # a camera the inventory has no address for yet
        ports = {p: getattr(where, p) for p in ("http_port", "rtsp_port", "ssh_port") if getattr(where, p)}
        endpoints[device_id] = dataclasses.replace(base, host=where.address, **ports)
    applied = fleet.with_overlay(endpoints, path)
    if len(_APPLIED) > 8:
        _APPLIED.clear()
    _APPLIED[key] = (fleet, applied)
    return applied
