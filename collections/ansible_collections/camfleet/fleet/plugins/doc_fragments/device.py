# Copyright: camfleet contributors
# Apache License 2.0
"""Options every camfleet device module takes (module_utils/fleet.py's DEVICE_ARGS)."""

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
