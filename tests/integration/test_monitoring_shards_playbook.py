"""``playbooks/monitoring.yml -e monitoring_shards=N -e monitoring_shard_index=I -e monitoring_remote_write_url=URL``
writes shard I's Prometheus config with remote_write, the very file ``render_prometheus_config(shard=...,
remote_write=...)`` renders, which promtool accepts; a shard index outside the shards is refused in one line.

    .venv/bin/pytest -q -p no:cacheprovider tests/integration/test_monitoring_shards_playbook.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from camfleet.config.prometheus import RemoteWrite, Shard, render_prometheus_config
from tests.integration.simtown import recap
from tests.integration.test_monitoring_playbook import PROMTOOL, run, without_header

pytestmark = pytest.mark.slow

URL = "http://127.0.0.1:8428/api/v1/write"


def test_the_role_renders_shard_one_of_two_with_remote_write(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    out = run(
        etc,
        *("-e", "monitoring_shards=2", "-e", "monitoring_shard_index=1", "-e", f"monitoring_remote_write_url={URL}"),
        *("-e", "monitoring_remote_write_token_file=/etc/prometheus/store.token"),
        *("-e", '{"monitoring_external_labels": {"district": "ngoc-lac-district"}}'),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert recap(out.stdout)["localhost"]["failed"] == 0
    prom = etc / "prometheus"
    config = (prom / "prometheus.yml").read_text(encoding="utf-8")
    assert without_header(config) == render_prometheus_config(
        "127.0.0.1:9830",
        town="ngoc-lac",
        rule_files=[str(prom / "camfleet-alerts.yml")],
        alertmanagers=["127.0.0.1:9093"],
        shard=Shard(1, 2),
        remote_write=RemoteWrite(URL, bearer_token_file="/etc/prometheus/store.token"),
        external_labels={"district": "ngoc-lac-district"},
    )
    parsed = yaml.safe_load(config)
    assert parsed["global"]["external_labels"] == {"town": "ngoc-lac", "shard": "1", "district": "ngoc-lac-district"}
    import subprocess

    check = subprocess.run([PROMTOOL, "check", "config", str(prom / "prometheus.yml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_shard_index_outside_the_shards_is_refused_in_one_line(tmp_path: Path) -> None:
    out = run(tmp_path / "etc", "-e", "monitoring_shards=2", "-e", "monitoring_shard_index=2")
    assert out.returncode != 0
    assert "monitoring_shard_index=2 phải từ 0 đến monitoring_shards - 1 (2) / " in out.stdout
    assert not (tmp_path / "etc" / "prometheus" / "prometheus.yml").exists()
