"""The factory-password audit's decisions that need no device (issue 15 item 6): what it will not
try, and says so, instead of passing a device it never looked at. The tries themselves are in
tests/integration/test_audit_playbook.py, against the simulator."""

from __future__ import annotations

import pytest

from camfleet.inventory import load
from camfleet.jobs.base import JobError
from camfleet.jobs.default_logins import FACTORY_DEFAULTS, audit_default_login
from tests.conftest import TOWN


@pytest.fixture(scope="module")
def fleet():  # type: ignore[no-untyped-def]
    return load(TOWN, overlay=False).fleet


def test_a_community_camera_without_an_address_is_listed_as_not_audited(fleet) -> None:  # type: ignore[no-untyped-def]
    audit = audit_default_login(fleet, "cam-01-c02", None, timeout=1)  # Hikvision, the owner's
    assert (audit.outcome, audit.attempts, audit.community) == ("not_audited", 0, True)
    assert audit.reason.startswith("no address in the inventory; a community camera")


def test_an_onvif_camera_and_a_camera_without_a_device_are_not_audited(fleet) -> None:  # type: ignore[no-untyped-def]
    imou = audit_default_login(fleet, "cam-01-c01", None, timeout=1)  # read through ONVIF only: the owner's logins
    assert imou.outcome == "not_audited" and "read through ONVIF only, no factory login tried" in imou.reason
    assert imou.attempts == 0
    planned = next(c.id for c in fleet.cameras.values() if c.device is None)
    assert audit_default_login(fleet, planned, None, timeout=1).reason.startswith("no device recorded")


def test_an_unknown_device_is_a_job_error(fleet) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(JobError, match="cam-99-x99"):
        audit_default_login(fleet, "cam-99-x99", None, timeout=1)


def test_one_default_per_family_and_the_result_never_holds_a_password(fleet) -> None:  # type: ignore[no-untyped-def]
    assert {k: len(v) for k, v in FACTORY_DEFAULTS.items()} == {"hikvision": 1, "dahua": 1}
    result = audit_default_login(fleet, "cam-01-c02", None, timeout=1).as_dict()
    assert "password" not in result and "12345" not in str(result)
    assert "12345" not in repr(FACTORY_DEFAULTS)  # Credentials keep the password out of their repr
