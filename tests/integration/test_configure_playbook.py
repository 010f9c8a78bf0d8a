"""playbooks/configure.yml (the drift audit) and playbooks/backup.yml through ansible-playbook on the simulated town."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from defusedxml import ElementTree

from camfleet.jobs.backups import decrypt_backup
from camfleet.model import CameraStatus
from tests.conftest import TOWN
from tests.integration.simtown import Town, local, playbook, recap, running_town

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), 109, "--prefill-days", "0") as running:
        yield running


def commissioned(town: Town, vendor: str) -> list[str]:
    return sorted(
        c.id
        for c in town.fleet.cameras.values()
        if c.status is CameraStatus.commissioned and c.is_managed and c.device and c.device.vendor.value == vendor
    )


def hik_fps(town: Town, camera: str) -> str:
    with town.http(camera) as client:
        doc = client.get("/ISAPI/Streaming/channels/101").text
    return re.search(r"<maxFrameRate>(\d+)</maxFrameRate>", doc).group(1)  # type: ignore[union-attr]


def test_audit_finds_hand_made_changes_and_apply_repairs_them(town: Town) -> None:
    hik, dah = commissioned(town, "hikvision")[0], commissioned(town, "dahua")[0]
    with town.http(hik) as client:  # a technician raises the main stream to 25 fps in the web UI
        doc = client.get("/ISAPI/Streaming/channels/101").text
        assert (
            client.put(
                "/ISAPI/Streaming/channels/101",
                content=re.sub(r"<maxFrameRate>\d+</maxFrameRate>", "<maxFrameRate>2500</maxFrameRate>", doc),
            ).status_code
            == 200
        )
    with town.http(dah) as client:  # ... and switches the P2P cloud back on
        reply = client.get("/cgi-bin/configManager.cgi", params={"action": "setConfig", "T2UServer.Enable": "true"})
        assert reply.status_code == 200 and "OK" in reply.text
    changed_fps = hik_fps(town, hik)

    audit = playbook(town, "configure.yml", "--check", "--diff")
    assert audit.returncode == 0
    drifted = {h for h, r in recap(audit.stdout).items() if r["changed"]}
    assert drifted == {hik, dah}  # a town started as the inventory says has no other drift
    said = " ".join(audit.stdout.split())  # YAML output wraps long lines
    assert re.search(r"2/\d+ camera sẽ được chỉnh theo inventory / 2 of \d+ cameras differ from the inventory", said)
    assert "(check mode: nothing written) and would be changed" in said
    assert re.search(rf"{hik}: .*main\.fps: 25 -> \d+", audit.stdout)
    assert re.search(rf"{dah}: .*services\.p2p: true -> false", audit.stdout)
    assert hik_fps(town, hik) == changed_fps  # the audit wrote nothing

    apply = playbook(town, "configure.yml")
    assert {h for h, r in recap(apply.stdout).items() if r["changed"]} == {hik, dah}
    again = playbook(town, "configure.yml")
    assert all(r["changed"] == 0 for r in recap(again.stdout).values())


def test_a_date_time_overlay_switched_off_is_drift_and_apply_switches_it_back_on(town: Town) -> None:
    """The clock burnt into the picture is evidence: switched off in a camera's web UI (here by raw HTTP,
    as the web UI sends it), the audit names it and the apply puts it back (issue 13)."""
    hik, dah = commissioned(town, "hikvision")[0], commissioned(town, "dahua")[0]
    with town.http(hik) as client:
        doc = client.get("/ISAPI/System/Video/inputs/channels/1/overlays").text
        off = re.sub(r"(<DateTimeOverlay>\s*<enabled>)true(</enabled>)", r"\1false\2", doc)
        assert (
            off != doc and client.put("/ISAPI/System/Video/inputs/channels/1/overlays", content=off).status_code == 200
        )
    with town.http(dah) as client:
        reply = client.get(
            "/cgi-bin/configManager.cgi",
            params={"action": "setConfig", "VideoWidget[0].TimeTitle.EncodeBlend": "false"},
        )
        assert reply.status_code == 200 and "OK" in reply.text

    audit = playbook(town, "configure.yml", "--check", "--diff", "-l", "cameras")
    assert audit.returncode == 0, audit.stdout[-3000:]
    assert {h for h, r in recap(audit.stdout).items() if r["changed"]} == {hik, dah}
    for cam in (hik, dah):
        assert re.search(rf"{cam}: .*osd_time\.enabled: false -> true", audit.stdout)

    apply = playbook(town, "configure.yml", "-l", "cameras")
    assert {h for h, r in recap(apply.stdout).items() if r["changed"]} == {hik, dah}
    with town.http(hik) as client:
        assert re.search(
            r"<DateTimeOverlay>\s*<enabled>true</enabled>",
            client.get("/ISAPI/System/Video/inputs/channels/1/overlays").text,
        )
    again = playbook(town, "configure.yml", "--check", "-l", "cameras")
    assert all(r["changed"] == 0 for r in recap(again.stdout).values())


#: camfleet modules normally run inside Ansible's worker (plugins/plugin_utils/inprocess.py); this
#: turns that off, so a test can prove the module launched as its own process behaves the same.
AS_PROCESS = {"CAMFLEET_INPROCESS": "0"}


def test_module_launched_as_a_process_reports_what_in_process_does(town: Town) -> None:
    hik = commissioned(town, "hikvision")[6]
    with town.http(hik) as client:  # a technician renames the camera in the web UI
        doc = client.get("/ISAPI/System/deviceInfo").text
        renamed = re.sub(r"<deviceName>[^<]*</deviceName>", "<deviceName>IPCAMERA</deviceName>", doc)
        assert client.put("/ISAPI/System/deviceInfo", content=renamed).status_code == 200
    try:
        runs = [
            playbook(town, "configure.yml", "--check", "--diff", "-l", "cameras", env=env) for env in ({}, AS_PROCESS)
        ]
    finally:
        with town.http(hik) as client:
            assert client.put("/ISAPI/System/deviceInfo", content=doc).status_code == 200
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:]
        assert {h for h, r in recap(run.stdout).items() if r["changed"]} == {hik}
    summaries = [re.findall(rf"{hik}: .*", run.stdout) for run in runs]
    assert summaries[0] and summaries[0] == summaries[1]
    assert "device_name: ''IPCAMERA'' -> ''" in summaries[0][0]


@pytest.mark.parametrize("env", [{}, AS_PROCESS], ids=["in-process", "as-process"])
def test_a_failing_camera_fails_alone_with_one_line(town: Town, env: dict[str, str]) -> None:
    cams = commissioned(town, "hikvision")
    offline, locked, malformed, hung, slow = cams[1], cams[2], cams[3], cams[4], cams[5]
    faults = ((offline, "offline"), (locked, "locked"), (malformed, "malformed"), (hung, "hang"), (slow, "slow"))
    for cam, fault in faults:
        town.fault(cam, fault, *(("--param", "delay_s=0.5") if fault == "slow" else ()))
    try:
        run = playbook(town, "configure.yml", "-e", "camera_config_timeout=3", env=env)
    finally:
        for cam, fault in faults:
            town.fault(cam, fault, "--clear")
    hosts = recap(run.stdout)
    assert {h for h, r in hosts.items() if r["failed"]} == {offline, locked, malformed, hung}  # slow but in time: fine
    assert sum(1 for r in hosts.values() if r["failed"] == 0) >= 20
    failures = {
        cam: run.stdout.split(f"fatal: [{cam}]", 1)[1].split("\n\n", 1)[0] for cam in (offline, locked, malformed)
    }
    assert f"{offline}:" in failures[offline] and "Unreachable" in failures[offline]
    assert "AuthError" in failures[locked] or "LockedOut" in failures[locked]
    assert "MalformedReply" in failures[malformed]
    assert "DeviceTimeout" in run.stdout.split(f"fatal: [{hung}]", 1)[1].split("\n\n", 1)[0]
    assert "Traceback" not in run.stdout


def test_backup_saves_every_device_once(town: Town, tmp_path: Path) -> None:
    dest = tmp_path / "backups"
    first = playbook(town, "backup.yml", "-e", f"backup_dir={dest}")
    assert first.returncode == 0, first.stdout[-2000:]
    files = {p.name for p in dest.iterdir()}
    dahua = commissioned(town, "dahua")[0]
    assert f"{dahua}.bin.vault" in files and "nvr-01.bin.vault" in files and "core-01.rsc.vault" in files
    assert len(files) == len(commissioned(town, "hikvision")) + len(commissioned(town, "dahua")) + len(
        town.fleet.recorders
    ) + len(town.fleet.link_routers)
    router = decrypt_backup(dest / "lr-01-01.rsc.vault", TOWN / "vault-password.DEMO-ONLY").decode()
    assert "/ip firewall filter" in router and town.creds["lr-01-01"]["password"] not in router
    some = ",".join(
        ["nvr-01", "core-01", "lr-01-01", commissioned(town, "hikvision")[0], commissioned(town, "dahua")[0]]
    )
    second = playbook(town, "backup.yml", "-e", f"backup_dir={dest}", "-l", some)
    hosts = recap(second.stdout)
    assert len(hosts) == 5 and all(r["changed"] == 0 for r in hosts.values())


def test_recorders_recreate_a_deleted_channel_and_handle_a_replaced_disk(town: Town) -> None:
    cam = next(c for c in town.fleet.cameras_on_recorder("nvr-02") if c.status is CameraStatus.commissioned)
    assert cam.recorder is not None
    with town.http("nvr-02") as nvr:  # someone deletes a channel at the recorder's screen
        assert nvr.delete(f"/ISAPI/ContentMgmt/InputProxy/channels/{cam.recorder.channel}").status_code == 200
    run = playbook(town, "recorders.yml")
    assert run.returncode == 0, run.stdout[-2000:]
    assert recap(run.stdout)["nvr-02"]["changed"] == 1 and recap(run.stdout)["nvr-01"]["changed"] == 0
    assert all(r["changed"] == 0 for r in recap(playbook(town, "recorders.yml").stdout).values())

    town.fault("nvr-02", "disk_failed", "--param", "slot=3")
    failed = playbook(town, "recorders.yml", "-l", "nvr-02")
    assert failed.returncode != 0 and "disk 3 failed (error)" in " ".join(failed.stdout.split())
    town.fault("nvr-02", "disk_failed", "--clear")  # the technician fits a new, unformatted disk in slot 3
    refused = playbook(town, "recorders.yml", "-l", "nvr-02", "-e", "recorders_format_disk=1")
    assert refused.returncode != 0 and "formatting loses its footage" in " ".join(refused.stdout.split())
    formatted = playbook(town, "recorders.yml", "-l", "nvr-02", "-e", "recorders_format_disk=3")
    assert formatted.returncode == 0, formatted.stdout[-2000:]
    assert "format disk 3" in formatted.stdout or recap(formatted.stdout)["nvr-02"]["changed"] == 1
    with town.http("nvr-02") as nvr:
        assert local(ElementTree.fromstring(nvr.get("/ISAPI/ContentMgmt/Storage/hdd").content), "status")[2] == "ok"


def test_camera_facts_reads_identity_and_finds_no_mismatch(town: Town) -> None:
    import json
    import subprocess

    from tests.conftest import BIN, ROOT, TOWN
    from tests.integration.simtown import ansible_env

    cam = commissioned(town, "dahua")[0]
    args = (
        f"town={TOWN} device={{{{ inventory_hostname }}}} "
        "username={{ vault_device_credentials[inventory_hostname].username }} "
        "password={{ vault_device_credentials[inventory_hostname].password }}"
    )
    out = subprocess.run(
        [
            str(BIN / "ansible"),
            cam,
            "-m",
            "camfleet.fleet.camera_facts",
            "-a",
            args,
            "-e",
            f"@{TOWN}/vault/secrets.yml",
            "-o",
        ],
        cwd=ROOT,
        env={**ansible_env(town), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    result = json.loads(out.stdout.split(" => ", 1)[1])  # -o: "host | SUCCESS => {json}"
    device = town.fleet.cameras[cam].device
    assert device is not None
    assert result["ansible_facts"]["camfleet_device"]["serial"] == device.serial and result["mismatches"] == []


def test_snapshots_photograph_a_khu_pho_and_name_the_camera_that_did_not_answer(town: Town, tmp_path: Path) -> None:
    site = sorted(c for c in commissioned(town, "hikvision") if town.fleet.cameras[c].site == "kp-02")
    offline = site[0]
    town.fault(offline, "offline")
    try:
        first = playbook(town, "snapshots.yml", "-l", "site_kp_02", "-e", f"snapshots_dir={tmp_path}")
    finally:
        town.fault(offline, "offline", "--clear")
    hosts = recap(first.stdout)
    assert {h for h, r in hosts.items() if r["failed"]} == {offline}
    taken = sorted(p.stem for p in tmp_path.glob("*.jpg"))
    assert offline not in taken and set(site) - {offline} <= set(taken)
    assert all((tmp_path / f"{cam}.jpg").read_bytes()[:2] == b"\xff\xd8" for cam in taken)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Kiểm tra góc quay camera" in page and f'<img src="{taken[0]}.jpg"' in page
    assert re.search(rf"No picture: {offline}: .*</p>\s*<figcaption><b>{offline}</b>", page)
    assert "hh-" not in page  # streets and khu phố only, never a household
    assert re.search(
        rf"{len(taken)} of {len(hosts)} cameras photographed .* - missing: {offline}", " ".join(first.stdout.split())
    )

    again = playbook(town, "snapshots.yml", "-l", "site_kp_02", "-e", f"snapshots_dir={tmp_path}")
    assert {h for h, r in recap(again.stdout).items() if r["changed"]} == {offline}  # only the new picture
