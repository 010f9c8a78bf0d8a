# Copyright: camfleet contributors
# Apache License 2.0
"""Options every camfleet device module takes (module_utils/fleet.py's DEVICE_ARGS).

``camfleet.fleet.device`` is the town and the device (DEVICE_ID_ARGS); ``camfleet.fleet.device.login``
adds the login (DEVICE_ARGS). Modules that read the device's credentials from the town's vault
themselves (device_user, camera_activate) take only the first. No module takes an address: the town says where each
device answers (the simulator's loopback address when CAMFLEET_OVERLAY is set). Both are plain
string literals because ansible-test's yamllint reads doc fragments without running them;
validate-modules catches either drifting from its argument spec::

    .venv/bin/ansible-doc camfleet.fleet.device_user
    make sanity
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  town:
    description: Town inventory folder.
    type: path
    required: true
  device:
    description:
      - Device id in the inventory. Where it answers comes from the inventory (with C(CAMFLEET_OVERLAY), the
        simulator's overlay; a device missing from it is refused, never reached at its real address).
    type: str
    required: true
  timeout:
    description: Seconds per request.
    type: float
    default: 10
"""

    LOGIN = r"""
options:
  username:
    description: Login.
    type: str
    required: true
  password:
    description: Password.
    type: str
    required: true
"""
