# Copyright: camfleet contributors
# Apache License 2.0
"""Options every camfleet device module takes (module_utils/fleet.py's DEVICE_ARGS).

``camfleet.fleet.device`` is all of them; ``camfleet.fleet.device.address`` is the part without the
login (DEVICE_ADDRESS_ARGS), for modules that read the device's credentials from the town's vault
themselves (device_user). Both are plain string literals because ansible-test's yamllint reads doc
fragments without running them; validate-modules catches either drifting from its argument spec::

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
    description: Device id in the inventory.
    type: str
    required: true
  host:
    description: Address to reach the device at (from hostvars, so the simulator's overlay applies).
    type: str
    required: true
  port:
    description: HTTP port (default the inventory's).
    type: int
  username:
    description: Login.
    type: str
    required: true
  password:
    description: Password.
    type: str
    required: true
  timeout:
    description: Seconds per request.
    type: float
    default: 10
"""

    ADDRESS = r"""
options:
  town:
    description: Town inventory folder.
    type: path
    required: true
  device:
    description: Device id in the inventory.
    type: str
    required: true
  host:
    description: Address to reach the device at (from hostvars, so the simulator's overlay applies).
    type: str
    required: true
  port:
    description: HTTP port (default the inventory's).
    type: int
  timeout:
    description: Seconds per request.
    type: float
    default: 10
"""
