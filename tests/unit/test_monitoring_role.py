"""roles/monitoring's defaults say the same as camfleet.monitoring (jobs and alert grace periods).

The role renders the same templates/prometheus/*.j2 through Ansible, so only the values could
drift; the playbook's output is compared with the Python rendering in
tests/integration/test_monitoring_playbook.py.

    .venv/bin/pytest tests/unit/test_monitoring_role.py -q
"""

from __future__ import annotations

import yaml

from camfleet.monitoring import DEFAULT_FOR, DEFAULT_JOBS
from tests.conftest import ROOT

DEFAULTS = yaml.safe_load((ROOT / "roles" / "monitoring" / "defaults" / "main.yml").read_text(encoding="utf-8"))


def test_role_jobs_are_the_default_jobs() -> None:
    jobs = [(j["module"], j["interval"], j["timeout"], j["comment"]) for j in DEFAULTS["monitoring_jobs"]]
    assert jobs == [(j.module, j.interval, j.timeout, j.comment) for j in DEFAULT_JOBS]


def test_role_grace_periods_are_the_default_ones() -> None:
    assert DEFAULTS["monitoring_alert_for"] == DEFAULT_FOR


def test_every_exporter_module_has_a_job() -> None:
    config = yaml.safe_load((ROOT / "exporters" / "camfleet.yml").read_text(encoding="utf-8"))
    assert {j["module"] for j in DEFAULTS["monitoring_jobs"]} == set(config["modules"])
