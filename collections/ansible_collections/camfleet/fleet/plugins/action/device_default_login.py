# Copyright: camfleet contributors
# Apache License 2.0
"""Runs camfleet.fleet.device_default_login inside the Ansible worker when the connection is local (see plugin_utils/inprocess.py)."""

from __future__ import annotations

from ansible_collections.camfleet.fleet.plugins.plugin_utils.inprocess import InProcessAction


class ActionModule(InProcessAction):
    MODULE = "device_default_login"
