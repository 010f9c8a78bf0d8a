# Copyright: camfleet contributors
# Apache License 2.0
"""Options of modules that also talk to the camera's recorder (module_utils/fleet.py's RECORDER_ARGS)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  recorder_host:
    description: Address to reach the camera's recorder at.
    type: str
    required: true
  recorder_port:
    description: Recorder HTTP port (default the inventory's).
    type: int
  recorder_username:
    description: Recorder administrator login.
    type: str
    required: true
  recorder_password:
    description: Recorder administrator password.
    type: str
    required: true
"""
