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
    """
    try:
        return load(town, overlay=False).fleet
    except InventoryError as exc:
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        more = f" (+{len(errors) - MAX_PROBLEMS} more; run camfleet validate)" if len(errors) > MAX_PROBLEMS else ""
        module.fail_json(msg=f"inventory {town} is invalid: " + "; ".join(errors[:MAX_PROBLEMS]) + more)
    raise AssertionError("unreachable")  # fail_json exits


def fail_device(module: Any, err: DriverError, **facts: Any) -> None:
    """A device failure as Ansible shows it: one line naming the device and what it said."""
    module.fail_json(msg=str(err), error=type(err).__name__, device_said=err.device_said, **facts)
