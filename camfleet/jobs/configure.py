"""A camera to its baseline: the inventory's settings (:mod:`camfleet.config.camera`) read, diffed and
written where they differ, in one call per camera; in check mode, the drift audit.

    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/ansible-playbook playbooks/configure.yml --check --diff
"""

from __future__ import annotations

from camfleet.config.camera import desired_camera_config
from camfleet.drivers import NOT_MANAGED, speaks_onvif_only
from camfleet.drivers.base import ConfigChange, ConfigurableCamera
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.base import Credentials, JobError, connect


def configure_camera(fleet: Fleet, camera_id: str, login: Credentials, *, check: bool, timeout: float) -> ConfigChange:
    """Make the camera's managed settings match the inventory (or, with ``check``, say what differs)."""
    camera = fleet.cameras.get(camera_id)
    if camera is None:
        what = "a recorder" if camera_id in fleet.recorders else "not a camera of the inventory"
        raise JobError(f"thiết bị không phải camera / {camera_id} is {what}; camera_config configures cameras")
    try:
        desired = desired_camera_config(fleet, camera)
    except ValueError as err:
        raise JobError(f"{camera_id}: {err}") from None
    if speaks_onvif_only(camera):  # a shared camera: watched through ONVIF, its settings are its owner's
        return ConfigChange(False, {}, {}, (), check=check, notes=(f"{camera_id}: {NOT_MANAGED}",))
    with connect(fleet, camera_id, login, timeout=timeout) as driver:
        if not isinstance(driver, ConfigurableCamera):
            raise JobError(
                f"{camera_id}: trình điều khiển không cấu hình được camera / its driver cannot configure a camera"
            )
        return driver.apply_config(desired, check=check)
