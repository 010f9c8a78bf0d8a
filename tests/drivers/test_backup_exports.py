"""What each camera family's ``config_export`` hands the backup job: a whole export passes
:func:`camfleet.jobs.backups.check_export`; with the simulator's ``malformed`` fault (every body cut in
the middle) the driver refuses the reply or the check refuses the export, never both pass.

    .venv/bin/pytest tests/drivers/test_backup_exports.py -q
"""

from __future__ import annotations

import pytest
from driver_sim import served
from test_contract import DAHUA, HIKVISION, PASSWORD, Family

from camfleet.drivers.errors import MalformedReply
from camfleet.jobs.backups import BadBackup, check_export
from camfleet.sim.faults import Fault


@pytest.mark.parametrize("family", [HIKVISION, DAHUA], ids=["hikvision", "dahua"])
def test_a_cut_export_never_passes_for_whole(family: Family) -> None:
    with served(family.app, family.camera()) as dev, dev.driver(family.driver, PASSWORD) as d:
        whole = d.config_export()
        check_export(family.vendor, whole)
        assert d.config_export() == whole  # a backup taken twice is the same: no change, no rewrite
        dev.faults.set(Fault.malformed)
        try:
            if family is DAHUA:  # each getConfig reply is checked whole by the driver
                with pytest.raises(MalformedReply, match="getConfig&name=General"):
                    d.config_export()
            else:  # configurationData is opaque to the driver: the job's check refuses it
                cut = d.config_export()
                assert len(cut) < len(whole)
                with pytest.raises(BadBackup, match=r"cut short|only"):
                    check_export(family.vendor, cut)
                with pytest.raises(BadBackup):
                    check_export(family.vendor, cut, whole)
        finally:
            dev.faults.clear()
        assert d.config_export() == whole
