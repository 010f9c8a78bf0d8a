"""Sharded Prometheus configs and remote_write (issue 14): promtool accepts every shard, the shards' ``hashmod``
rules keep each target of a generated 10,000-camera province on exactly one shard, and the central store's
remote_write names only files, never a secret.

Real Prometheus checks the same hash against its own ``/api/v1/targets`` in tests/integration/test_province.py.

    .venv/bin/pytest -q -p no:cacheprovider tests/prometheus/test_shards.py
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from camfleet.config.prometheus import RemoteWrite, Shard, render_prometheus_config, shard_of
from tests.conftest import BIN

SHARDS = 3
TOWNS = {f"town-{k}": f"127.0.0.1:{9830 + k}" for k in range(1, 6)}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd, check=False)


def rendered(index: int) -> dict:
    return yaml.safe_load(
        render_prometheus_config(
            "",
            town="province",
            rule_files=(),
            exporters=TOWNS,
            shard=Shard(index, SHARDS),
            remote_write=RemoteWrite(
                "http://127.0.0.1:8428/api/v1/write", bearer_token_file="/etc/prometheus/vm.token"
            ),
        )
    )


def keeps(job: dict, town: str, device: str) -> bool:
    """Apply a job's hashmod/keep rules as Prometheus does (only those two actions, the ones the shard adds)."""
    labels = {"__meta_camfleet_town": town, "__param_target": device}
    for rule in job["relabel_configs"]:
        if rule.get("action") == "hashmod":
            value = ";".join(labels.get(name, "") for name in rule["source_labels"])
            assert value == f"{town};{device}"
            labels[rule["target_label"]] = str(shard_of(town, device, rule["modulus"]))
        elif rule.get("action") == "keep":
            value = ";".join(labels.get(name, "") for name in rule["source_labels"])
            if not re.fullmatch(rule["regex"], value):
                return False
    return True


def test_every_target_of_a_10000_camera_province_is_kept_by_exactly_one_shard() -> None:
    configs = [rendered(i) for i in range(SHARDS)]
    targets = [(town, f"cam-{n:05d}") for town in TOWNS for n in range(2000)]
    for job_name in {j["job_name"] for j in configs[0]["scrape_configs"]} - {"camfleet_exporter"}:
        jobs = [next(j for j in c["scrape_configs"] if j["job_name"] == job_name) for c in configs]
        per_shard = Counter()
        for town, device in targets:
            kept_by = [i for i, job in enumerate(jobs) if keeps(job, town, device)]
            assert len(kept_by) == 1, (job_name, town, device, kept_by)
            per_shard[kept_by[0]] += 1
        # Even enough that N shards share the load: each within 5 % of a third.
        assert all(abs(n - len(targets) / SHARDS) < 0.05 * len(targets) / SHARDS for n in per_shard.values()), per_shard


def test_shard_of_is_prometheus_hashmod() -> None:
    """Prometheus' hashmod (relabel.go): md5 of the joined values, its last 8 bytes big-endian, mod N.
    The real Prometheus agrees on every target in tests/integration/test_province.py."""
    import hashlib

    digest = hashlib.md5(b"town-1;cam-00001").hexdigest()  # noqa: S324 - Prometheus' choice, not security
    assert shard_of("town-1", "cam-00001", 1000) == int(digest[16:], 16) % 1000
    assert shard_of("town-1", "cam-00001", 1) == 0


def test_every_shard_passes_promtool_and_has_the_province_labels(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(BIN / "python"),
            *("-m", "camfleet.config.prometheus", "shards", str(SHARDS)),
            *(arg for town, address in TOWNS.items() for arg in ("--exporter", f"{town}={address}")),
            *("--remote-write", "http://127.0.0.1:8428/api/v1/write", "--out", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for index in range(SHARDS):
        check = promtool("check", "config", "prometheus.yml", cwd=tmp_path / str(index))
        assert check.returncode == 0, check.stdout + check.stderr
        config = yaml.safe_load((tmp_path / str(index) / "prometheus.yml").read_text(encoding="utf-8"))
        assert config["global"]["external_labels"] == {"town": "province", "shard": str(index)}
        assert config["remote_write"][0]["url"] == "http://127.0.0.1:8428/api/v1/write"
        stream = next(j for j in config["scrape_configs"] if j["job_name"] == "camfleet_stream")
        assert [c["url"] for c in stream["http_sd_configs"]] == [f"http://{a}/sd?module=stream" for a in TOWNS.values()]
        assert {"source_labels": ["__meta_camfleet_town"], "target_label": "town"} in stream["relabel_configs"]


def test_remote_write_names_the_token_file_and_queues_for_an_outage(tmp_path: Path) -> None:
    config = rendered(0)
    remote = config["remote_write"][0]
    assert remote["authorization"] == {"credentials_file": "/etc/prometheus/vm.token"}
    assert remote["queue_config"]["max_backoff"] == "1m"  # keeps retrying: never gives a sample up
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    check = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_one_town_unsharded_config_is_unchanged_by_the_new_options() -> None:
    plain = render_prometheus_config("127.0.0.1:9830", town="ngoc-lac")
    assert "hashmod" not in plain and "remote_write" not in plain and "__meta_camfleet_town" not in plain
    assert yaml.safe_load(plain)["global"]["external_labels"] == {"town": "ngoc-lac"}


@pytest.mark.parametrize(("index", "count"), [(2, 2), (-1, 2), (0, 0)])
def test_a_shard_index_outside_the_count_is_refused(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="shard index"):
        Shard(index, count)


def test_external_labels_must_be_label_names_and_not_shadow_town() -> None:
    with pytest.raises(ValueError, match="external label"):
        render_prometheus_config("127.0.0.1:9830", external_labels={"town": "x"})
    with pytest.raises(ValueError, match="external label"):
        render_prometheus_config("127.0.0.1:9830", external_labels={"bad-name": "x"})
    config = yaml.safe_load(render_prometheus_config("127.0.0.1:9830", external_labels={"district": "Ngọc Lặc"}))
    assert config["global"]["external_labels"]["district"] == "Ngọc Lặc"


def test_an_exporter_serving_several_towns_is_asked_once(tmp_path: Path) -> None:
    """An exporter shard over several towns (``--inventory`` per town) is one address for many towns: one /sd per
    job and one self-scrape, or every target would be scraped once per town it shares the exporter with."""
    towns = {"town-1": "127.0.0.1:9830", "town-2": "127.0.0.1:9830", "town-3": "127.0.0.1:9831"}
    text = render_prometheus_config("", town="province", rule_files=(), exporters=towns, shard=Shard(0, 2))
    (tmp_path / "prometheus.yml").write_text(text, encoding="utf-8")
    check = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    config = yaml.safe_load(text)
    for job in config["scrape_configs"]:
        if job["job_name"] == "camfleet_exporter":
            assert job["static_configs"] == [
                {"targets": ["127.0.0.1:9830"]},
                {"targets": ["127.0.0.1:9831"], "labels": {"town": "town-3"}},
            ]
        else:
            urls = [c["url"] for c in job["http_sd_configs"]]
            assert len(urls) == len(set(urls)) == 2, urls
            addresses = {
                r["regex"]: r["replacement"] for r in job["relabel_configs"] if r.get("target_label") == "__address__"
            }
            assert addresses == {
                r"town\-1": "127.0.0.1:9830",
                r"town\-2": "127.0.0.1:9830",
                r"town\-3": "127.0.0.1:9831",
            }
