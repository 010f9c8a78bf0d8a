# Copyright: camfleet contributors
# Apache License 2.0
"""Options of modules that also talk to the camera's recorder (module_utils/fleet.py's RECORDER_ARGS).

The recorder is the one the inventory gives the camera (C(recorder.id)); only its login is an option.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  recorder_username:
    description: Login of the camera's recorder (the inventory's C(recorder.id)).
    type: str
    required: true
  recorder_password:
    description: Its password.
    type: str
    required: true
"""
