# Copyright: camfleet contributors
# Apache License 2.0
"""What every camfleet module shares: the town it works on, the logins it takes, and one-line failures.

A module is a thin adapter over one job of ``camfleet.jobs``: it takes the town folder, a device
id and the logins (never an address: where a device answers is the town's to say, through
``Fleet.endpoint`` — the simulator's loopback address when ``CAMFLEET_OVERLAY`` is set, the one
switch the inventory plugin, the modules, the exporter and the CLI all read), calls the job, and
turns its result or its error into Ansible's.
"""

from __future__ import annotations

from typing import Any

try:
    from camfleet.drivers.errors import DriverError
    from camfleet.inventory import Fleet, InventoryError, load
    from camfleet.jobs.base import Credentials, JobError

    HAS_CAMFLEET = True
    IMPORT_ERROR: Exception | None = None
except ImportError as exc:  # pragma: no cover - reported by require_camfleet()
    HAS_CAMFLEET = False
    IMPORT_ERROR = exc

MAX_PROBLEMS = 5

#: The town and the device a module works on (the ``camfleet.fleet.device`` doc fragment; modules
#: that read the device's login from the town's vault themselves take only these).
DEVICE_ID_ARGS: dict[str, dict[str, Any]] = {
    "town": {"type": "path", "required": True},
    "device": {"type": "str", "required": True},
    "timeout": {"type": "float", "default": 10.0},
}

#: ... and the device's login (the ``camfleet.fleet.device.login`` doc fragment too).
DEVICE_ARGS: dict[str, dict[str, Any]] = {
    **DEVICE_ID_ARGS,
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
}

#: Login of the camera's recorder, for modules that check or set its channel (the
#: ``camfleet.fleet.recorder`` doc fragment).
RECORDER_ARGS: dict[str, dict[str, Any]] = {
    "recorder_username": {"type": "str", "required": True},
    "recorder_password": {"type": "str", "required": True, "no_log": True},
}


def require_camfleet(module: Any) -> None:
    if not HAS_CAMFLEET:
        module.fail_json(
            msg=f"không nạp được camfleet / camfleet is not importable by {module._name}'s Python ({IMPORT_ERROR}); "
            "run Ansible from the project venv (.venv/bin/ansible-playbook)"
        )


def load_town(module: Any) -> Fleet:
    """The validated town of the task's ``town`` option (with the simulator's overlay when one is set),
    or a clean failure.

    Run in Ansible's worker (the in-process action plugins), this is the town the inventory plugin
    already validated in ``ansible-playbook``, unless a file changed since.
    """
    require_camfleet(module)
    town = module.params["town"]
    try:
        return load(town, reuse=True).fleet
    except InventoryError as exc:
        errors = [str(p) for p in exc.problems if p.severity == "error"]
        more = f" (+{len(errors) - MAX_PROBLEMS} more; run camfleet validate)" if len(errors) > MAX_PROBLEMS else ""
        module.fail_json(
            msg=f"dữ liệu địa bàn có lỗi / inventory {town} is invalid: " + "; ".join(errors[:MAX_PROBLEMS]) + more
        )
    raise AssertionError("unreachable")  # fail_json exits


def login(module: Any, prefix: str = "") -> Credentials:
    """The ``<prefix>username`` / ``<prefix>password`` options as a login."""
    return Credentials(module.params[f"{prefix}username"], module.params[f"{prefix}password"])


def fail(module: Any, err: Exception) -> None:
    """A job's failure as Ansible shows it: one line naming the device and what it said, plus what
    the job knew by then (steps done, site, progress...)."""
    if isinstance(err, DriverError):
        module.fail_json(msg=str(err), error=type(err).__name__, device_said=err.device_said, **err.facts)
    if isinstance(err, JobError):
        module.fail_json(msg=err.message, **err.facts)
    raise err


#: What a job raises for something a user or a device did (everything else is a bug in a module).
JOB_ERRORS: tuple[type[Exception], ...] = (DriverError, JobError) if HAS_CAMFLEET else ()
