"""roles/monitoring's defaults say the same as camfleet.config.prometheus (jobs, grace periods) and its argument_specs.

The role renders the same templates/prometheus/*.j2 through Ansible, so only the values could
drift; the playbook's output is compared with the Python rendering in
tests/integration/test_monitoring_playbook.py.

    .venv/bin/pytest tests/unit/test_monitoring_role.py -q
"""

from __future__ import annotations

import yaml

from camfleet.config.prometheus import DEFAULT_FOR, DEFAULT_JOBS
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


def test_every_default_is_in_the_argument_specs_with_its_value() -> None:
    specs = yaml.safe_load((ROOT / "roles" / "monitoring" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = specs["argument_specs"]["main"]["options"]
    assert set(options) == set(DEFAULTS)
    for name, spec in options.items():
        if "default" in spec:  # templated defaults ("{{ ... }}") are described, not repeated
            assert spec["default"] == DEFAULTS[name], name


def test_service_manager_default_is_systemd_and_grafana_is_opt_in() -> None:
    assert DEFAULTS["monitoring_service_manager"] == "systemd"
    assert DEFAULTS["monitoring_state"] == "started"
    assert DEFAULTS["monitoring_grafana_install"] is False
