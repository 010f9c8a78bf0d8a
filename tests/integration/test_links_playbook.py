"""playbooks/links.yml through ansible-playbook and netmiko against the simulated town's routers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from netmiko import ConnectHandler

from tests.integration.simtown import Town, playbook, recap, running_town

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), 106, "--prefill-days", "0") as running:
        yield running


def router_cli(town: Town, router: str) -> ConnectHandler:
    cred = town.creds[router]
    return ConnectHandler(
        device_type="mikrotik_routeros",
        host=town.address(router),
        port=22,
        username=cred["username"],
        password=cred["password"],
        conn_timeout=10,
    )


def export(town: Town, router: str) -> str:
    """The router's /export without its first line (a timestamp)."""
    conn = router_cli(town, router)
    try:
        return str(conn.send_command("/export")).split("\n", 1)[1]
    finally:
        conn.disconnect()


def test_apply_then_nothing_to_do_then_audit_finds_a_hand_made_change(town: Town) -> None:
    routers = sorted(town.fleet.link_routers)
    before = export(town, "lr-03-01")

    check = playbook(town, "links.yml", "--check")
    assert check.returncode == 0, check.stdout[-3000:]
    assert export(town, "lr-03-01") == before  # the audit sends nothing
    # First contact pinned every simulated router's SSH host key beside the overlay, not in the town.
    pinned = [ln.split()[0] for ln in (town.state / "known_hosts").read_text().splitlines() if ln[:1] != "#"]
    assert sorted(pinned) == routers and not (town.folder / "known_hosts").exists()

    first = playbook(town, "links.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    hosts = recap(first.stdout)
    assert sorted(hosts) == routers
    assert all(h["changed"] == 1 and h["failed"] == 0 for h in hosts.values())
    applied = export(town, "lr-03-01")
    assert "name=wg-station" in applied and "camfleet: camera upstream share" in applied
    assert "private-key" not in first.stdout and town.creds["lr-03-01"]["password"] not in first.stdout

    second = playbook(town, "links.yml")
    assert second.returncode == 0
    assert all(h["changed"] == 0 for h in recap(second.stdout).values())

    # A technician changes the camera queue on one router by hand.
    conn = router_cli(town, "lr-03-01")
    try:
        conn.send_config_set(['/queue simple set [find where comment~"camfleet"] max-limit=50M/50M'])
    finally:
        conn.disconnect()
    audit = playbook(town, "links.yml", "--check", "--diff")
    assert audit.returncode == 0
    drifted = {h for h, r in recap(audit.stdout).items() if r["changed"]}
    assert drifted == {"lr-03-01"}
    assert re.search(r"max-limit=50M/50M", audit.stdout) and "private-key=" not in audit.stdout.replace(
        "private-key=<secret>", ""
    )
    assert "50M/50M" in export(town, "lr-03-01")  # check mode repaired nothing

    repair = playbook(town, "links.yml", "-l", "lr-03-01")
    assert recap(repair.stdout)["lr-03-01"]["changed"] == 1
    assert "50M/50M" not in export(town, "lr-03-01")


def test_a_router_that_is_down_fails_alone_naming_its_site_and_cameras(town: Town) -> None:
    cam = next(c for c in town.fleet.cameras.values() if c.network.link and c.status.value == "commissioned")
    assert cam.network.link is not None
    router = town.fleet.links[cam.network.link].router
    town.fault(router, "link_down")
    try:
        run = playbook(town, "links.yml")
    finally:
        town.fault(router, "link_down", "--clear")
    hosts = recap(run.stdout)
    assert run.returncode != 0
    assert [h for h, r in hosts.items() if r["failed"] or r["unreachable"]] == [router]
    site = town.fleet.link_routers[router].site
    failure = run.stdout.split(f"fatal: [{router}]", 1)[1].split("\n\n", 1)[0]
    failure = " ".join(failure.split())  # the YAML callback folds long messages
    assert f"site {site}" in failure and cam.id in failure
    assert "Traceback" not in run.stdout
