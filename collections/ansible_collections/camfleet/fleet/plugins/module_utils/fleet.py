# Copyright: camfleet contributors
# Apache License 2.0
"""What every camfleet module shares: loading the town, and turning library errors into one-line failures."""

from __future__ import annotations

from typing import Any

try:
    from camfleet.drivers.errors import DriverError
    from camfleet.inventory import Fleet, InventoryError, load

    HAS_CAMFLEET = True
    IMPORT_ERROR: Exception | None = None
except ImportError as exc:  # pragma: no cover - reported by require_camfleet()
    HAS_CAMFLEET = False
    IMPORT_ERROR = exc

MAX_PROBLEMS = 5


def require_camfleet(module: Any) -> None:
    if not HAS_CAMFLEET:
        module.fail_json(
            msg=f"camfleet is not importable by {module._name}'s Python ({IMPORT_ERROR}); "
            "run Ansible from the project venv (.venv/bin/ansible-playbook)"
        )


def load_town(module: Any, town: str) -> Fleet:
    """The validated fleet as the inventory says, or a clean failure.

    Never with the simulator's address overlay: what a module renders (subnets, leases, peers) is
    the town's real configuration; where to reach a device comes from the task's ``host``/``port``.
    Run in Ansible's worker (the in-process action plugins), this is the town the inventory plugin
    already validated in ``ansible-playbook``, unless a file changed since.
    """
    try:
        return load(town, overlay=False, reuse=True).fleet
    except InventoryError as exc:
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        more = f" (+{len(errors) - MAX_PROBLEMS} more; run camfleet validate)" if len(errors) > MAX_PROBLEMS else ""
        module.fail_json(msg=f"inventory {town} is invalid: " + "; ".join(errors[:MAX_PROBLEMS]) + more)
    raise AssertionError("unreachable")  # fail_json exits


#: Where a device is: the options of a device module short of the login (the device's address comes
#: from hostvars, so the simulator's overlay reaches the modules through the inventory plugin).
#: Documented by the ``camfleet.fleet.device.address`` doc fragment.
DEVICE_ADDRESS_ARGS: dict[str, dict[str, Any]] = {
    "town": {"type": "path", "required": True},
    "device": {"type": "str", "required": True},
    "host": {"type": "str", "required": True},
    "port": {"type": "int"},
    "timeout": {"type": "float", "default": 10.0},
}

#: Connection options every device module takes (the ``camfleet.fleet.device`` doc fragment).
DEVICE_ARGS: dict[str, dict[str, Any]] = {
    **DEVICE_ADDRESS_ARGS,
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
}


#: Login options of the camera's recorder, for modules that check or set its channel (the
#: ``camfleet.fleet.recorder`` doc fragment).
RECORDER_ARGS: dict[str, dict[str, Any]] = {
    "recorder_host": {"type": "str", "required": True},
    "recorder_port": {"type": "int"},
    "recorder_username": {"type": "str", "required": True},
    "recorder_password": {"type": "str", "required": True, "no_log": True},
}


def device_entry(module: Any, fleet: Fleet, device: str) -> Any:
    """The camera or recorder ``device`` of the inventory, or a clean failure."""
    entry = fleet.cameras.get(device) or fleet.recorders.get(device)
    if entry is None:
        module.fail_json(msg=f"{device}: no camera or recorder with this id in the inventory")
    return entry


def connect(module: Any, entry: Any) -> Any:
    """The entry's driver, connected to the task's host and port with the task's login."""
    return connect_with(module, entry, module.params["username"], module.params["password"])


def connect_with(
    module: Any, entry: Any, username: str, password: str, host: str | None = None, port: int | None = None
) -> Any:
    """The entry's driver at ``host:port`` (default the task's) with the given login."""
    from camfleet.drivers import driver_for

    p = module.params
    try:
        cls = driver_for(entry)
    except ValueError as err:
        module.fail_json(msg=f"{entry.id}: {err}")
    default_port = entry.network.http_port if hasattr(entry, "network") else entry.http_port
    return cls(
        entry.id, host or p["host"], port or p.get("port") or default_port, username, password, timeout=p["timeout"]
    )


def fail_device(module: Any, err: DriverError, **facts: Any) -> None:
    """A device failure as Ansible shows it: one line naming the device and what it said."""
    module.fail_json(msg=str(err), error=type(err).__name__, device_said=err.device_said, **facts)
