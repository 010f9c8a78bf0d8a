"""The jobs installers, technicians and operators run: what the Ansible modules and the CLI call.

Each job takes a loaded town (:class:`camfleet.inventory.Fleet`), a device id and the logins it
needs, talks to the devices through :mod:`camfleet.drivers`, and returns a result or raises
:class:`~camfleet.jobs.base.JobError` (one line, the device named). Check mode goes through the
same code as the apply: a job is told ``check=True`` and writes nothing.

- :mod:`.configure` — a camera to its baseline (the drift audit in check mode);
- :mod:`.recorders` — one channel engine (:func:`~.recorders.ensure_channel`): a camera on its
  recorder channel, a recorder's channels, schedules and disks;
- :mod:`.provision` — activating a factory-fresh camera, proving it works, its commissioning record;
- :mod:`.firmware` — the verified file, the flash, the health gate;
- :mod:`.passwords` — generated passwords and a rotation that never locks a device out;
- :mod:`.links` — a link router's RouterOS configuration, section by section;
- :mod:`.devices` — read-only jobs on one device: identity, snapshot, configuration backup;
- :mod:`.backups` — a backup checked whole before it replaces the last good one, encrypted at rest;
- :mod:`.status` — ``camfleet status``, the fleet's health now.
"""

from __future__ import annotations

import importlib

from camfleet.drivers import preload as preload_drivers

#: Every job module: what the Ansible modules import in a worker.
JOBS = ("configure", "recorders", "provision", "firmware", "passwords", "links", "devices", "status")


def preload() -> None:
    """Import the jobs and the drivers now (``ansible-playbook`` does, through the inventory plugin),
    so each worker it forks to run a camfleet module inherits them instead of importing them again."""
    preload_drivers()
    for name in JOBS:
        importlib.import_module(f"camfleet.jobs.{name}")
