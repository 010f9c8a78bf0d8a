# Copyright: camfleet contributors
# Apache License 2.0
"""Runs camfleet.fleet.alert_silence inside the Ansible worker when the connection is local (see plugin_utils/inprocess.py)."""

from __future__ import annotations

from ansible_collections.camfleet.fleet.plugins.plugin_utils.inprocess import InProcessAction


class ActionModule(InProcessAction):
    MODULE = "alert_silence"
