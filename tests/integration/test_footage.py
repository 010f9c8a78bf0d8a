"""The investigator's path end to end on a simulated COPY of the reference town (--net 124): a request,
the search, the export of two cameras' ten minutes (one with a hole) into a signed package, checked
with ffprobe, ``sha256sum -c`` and ``camfleet footage verify``, then tampered with.

The copy's vault gets its own signing key; the repository's town is never written. The window is
the last ten whole minutes, so the test waits for the minute after a camera's outage to pass.

    .venv/bin/pytest tests/integration/test_footage.py -q
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from camfleet.inventory import load
from camfleet.inventory.vault import VaultFile
from camfleet.jobs.custody import verify_chain
from camfleet.jobs.evidence import SigningKey
from camfleet.jobs.media import probe
from camfleet.sim.footage import CLIP_S, minute_clip, read_times
from camfleet.sim.town.build import stream_config
from camfleet.sim.town.listeners import stream_spec
from tests.conftest import BIN, ROOT, TOWN
from tests.integration.simtown import Town, camfleet, playbook, recap

pytestmark = pytest.mark.slow

NET = 124
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
HOLED, STEADY = "cam-01-t01", "cam-01-t02"
OUTAGE_S = 12


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    folder = tmp_path_factory.mktemp("town") / "ngoc-lac"
    shutil.copytree(TOWN, folder)
    shutil.rmtree(folder / "custody", ignore_errors=True)
    _, seed = SigningKey.generate()
    VaultFile(folder / "vault" / "secrets.yml", folder / "vault-password.DEMO-ONLY").update(
        lambda data: data.__setitem__("vault_footage_signing_key", seed)
    )
    state = tmp_path_factory.mktemp("sim")
    camfleet("sim", "up", str(folder), "--state", str(state), "--net", str(NET), "--detach", "--prefill-days", "1")
    try:
        yield Town(state, folder)
    finally:
        camfleet("sim", "down", "--state", str(state), check=False)


def footage(town: Town, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "camfleet"), "footage", *args],
        cwd=ROOT,
        env={**os.environ, "CAMFLEET_OVERLAY": str(town.overlay)},
        capture_output=True,
        text=True,
        timeout=900,
    )


REQUEST = (
    "--authority", "ca-huyen-ngoc-lac", "--document", "CV 123/CAH-CSHS ngày 01/12/2026",
    "--requested-by", "dtv-01", "--approved-by", "cb-truong", "--purpose", "Điều tra vụ trộm xe máy",
)  # fmt: skip


def warm(town: Town, start: dt.datetime, minutes: int) -> threading.Thread:
    """Make the minutes the export will download while the test waits (the simulator shares the cache).

    Both cameras use the same main-stream profile, so each minute is made once for both."""
    specs = set()
    for cam in (HOLED, STEADY):
        spec = stream_spec(stream_config(town.fleet.profiles[town.fleet.cameras[cam].stream.main]))
        assert spec is not None
        specs.add(spec)
    first = int(start.timestamp()) // CLIP_S * CLIP_S

    def run() -> None:
        for k in range(minutes):
            for spec in specs:
                minute_clip(spec, first + k * CLIP_S, str(ZONE))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def package(town: Town, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime, dt.datetime, str]:
    soon = dt.datetime.now(ZONE).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    warming = warm(town, soon - dt.timedelta(minutes=10), 11)
    town.fault(HOLED, "offline")
    gone = dt.datetime.now(ZONE)
    time.sleep(OUTAGE_S)
    town.fault(HOLED, "offline", "--clear")
    back = dt.datetime.now(ZONE)
    end = back.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    time.sleep(max(0.0, (end - dt.datetime.now(ZONE)).total_seconds()) + 3)  # the window must be over
    start = end - dt.timedelta(minutes=10)
    warming.join(timeout=600)
    out = tmp_path_factory.mktemp("usb")
    run = footage(
        town, "export", str(town.folder), "--case", "VV-2026-0142", *REQUEST,
        "--from", start.strftime("%Y-%m-%d %H:%M"), "--to", end.strftime("%Y-%m-%d %H:%M"),
        "--camera", HOLED, "--camera", STEADY, "-o", str(out),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out / "VV-2026-0142", start, end, run.stdout + run.stderr + f"\n(gone {gone:%H:%M:%S}, back {back:%H:%M:%S})"


def manifest(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_the_package_holds_checked_clips_of_both_cameras(package: tuple[Path, dt.datetime, dt.datetime, str]) -> None:
    folder, *_, out = package
    m = manifest(folder)
    assert m["case"] == "VV-2026-0142" and m["authority"]["id"] == "ca-huyen-ngoc-lac"
    assert m["document"].startswith("CV 123") and m["approved_by"] == "cb-truong"
    clips = {c["camera"]: [] for c in m["clips"]}
    for c in m["clips"]:
        clips[c["camera"]].append(c)
    assert set(clips) == {HOLED, STEADY}, out
    steady = clips[STEADY]
    assert len(steady) == 1  # no hole: one clip for the whole window
    facts = probe(folder / steady[0]["file"])
    assert facts.codec == "h264" and (facts.width, facts.height) == (1920, 1080)
    assert 600 - 3 <= facts.duration_s <= 600 + 5  # ten minutes, a GOP of slack at each end
    assert steady[0]["recorder"] == "nvr-01" and steady[0]["recorder_serial"]
    assert abs(steady[0]["recorder_clock"]["before"]["offset_s"]) < 5
    assert (folder / "clips").is_dir() and folder.with_suffix(".zip").is_file()


def test_the_clips_show_the_requested_minutes(package: tuple[Path, dt.datetime, dt.datetime, str]) -> None:
    folder, start, end, _ = package
    clip = next(c for c in manifest(folder)["clips"] if c["camera"] == STEADY)
    times = read_times(folder / clip["file"], 1920)
    first, last = times[0][0], times[-1][0]
    assert start.timestamp() - 3 <= first <= start.timestamp() + 1, (first, start.timestamp())
    assert end.timestamp() - 2 <= last <= end.timestamp() + 2, (last, end.timestamp())
    seconds = [s for s, _ in times]
    assert seconds == sorted(seconds)  # in order, nothing repeated out of place


def test_a_hole_is_named_in_the_manifest_and_the_record(package: tuple[Path, dt.datetime, dt.datetime, str]) -> None:
    folder, _, _, out = package
    m = manifest(folder)
    holed = next(c for c in m["cameras"] if c["camera"] == HOLED)
    assert holed["status"] == "partial" and len(holed["gaps"]) == 1, out
    gap = holed["gaps"][0]
    a = dt.datetime.strptime(gap["from"], "%Y-%m-%d %H:%M:%S")
    b = dt.datetime.strptime(gap["to"], "%Y-%m-%d %H:%M:%S")
    said = re.search(r"\(gone (\d\d:\d\d:\d\d), back (\d\d:\d\d:\d\d)\)", out)
    assert said is not None
    gone, back = (dt.datetime.combine(a.date(), dt.time.fromisoformat(t)) for t in said.groups())
    # Where the camera really was off: the recorder notices within a tick or two, and records again
    # once it has reconnected to the camera (a few seconds more on a loaded machine).
    assert gone - dt.timedelta(seconds=2) <= a <= gone + dt.timedelta(seconds=3), (a, gone)
    assert back - dt.timedelta(seconds=2) <= b <= back + dt.timedelta(seconds=10), (b, back)
    assert (b - a).total_seconds() >= OUTAGE_S - 3
    assert len([c for c in m["clips"] if c["camera"] == HOLED]) == 2  # before and after the hole
    record = (folder / "bien-ban-ban-giao.html").read_text(encoding="utf-8")
    assert "Biên bản bàn giao dữ liệu hình ảnh" in record and f"{gap['from']} → {gap['to']}" in record
    assert "VV-2026-0142" in record and "khoảng trống / gap" in out


def test_sha256sum_openssl_and_verify_pass(package: tuple[Path, dt.datetime, dt.datetime, str], tmp_path: Path) -> None:
    folder, *_ = package
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    sig = tmp_path / "sig"
    sig.write_bytes(base64.b64decode((folder / "manifest.json.sig").read_bytes()))
    openssl = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "station-key.pem", "-rawin", "-in", "manifest.json",
         "-sigfile", str(sig)],
        cwd=folder, capture_output=True, text=True,
    )  # fmt: skip
    assert "Signature Verified Successfully" in openssl.stdout, openssl.stdout + openssl.stderr
    run = subprocess.run([str(BIN / "camfleet"), "footage", "verify", str(folder)], capture_output=True, text=True)
    assert run.returncode == 0 and "Nguyên vẹn / intact" in run.stdout, run.stderr


def tampered(package: tuple[Path, dt.datetime, dt.datetime, str], tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(package[0], copy)
    return copy


def verify_fails(folder: Path) -> str:
    run = subprocess.run([str(BIN / "camfleet"), "footage", "verify", str(folder)], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout
    return run.stderr


def test_a_flipped_byte_in_a_clip_is_found(package: tuple[Path, dt.datetime, dt.datetime, str], tmp_path: Path) -> None:
    folder = tampered(package, tmp_path)
    clip = manifest(folder)["clips"][0]["file"]
    data = bytearray((folder / clip).read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / clip).write_bytes(bytes(data))
    assert f"{clip}: changed" in verify_fails(folder)


def test_a_deleted_clip_is_found(package: tuple[Path, dt.datetime, dt.datetime, str], tmp_path: Path) -> None:
    folder = tampered(package, tmp_path)
    clip = manifest(folder)["clips"][-1]["file"]
    (folder / clip).unlink()
    assert f"{clip}: missing" in verify_fails(folder)


def test_an_edited_manifest_is_found(package: tuple[Path, dt.datetime, dt.datetime, str], tmp_path: Path) -> None:
    folder = tampered(package, tmp_path)
    text = (folder / "manifest.json").read_text(encoding="utf-8").replace("cb-truong", "cb-pho")
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    said = verify_fails(folder)
    assert "manifest.json.sig: the signature does not match manifest.json" in said


def test_an_edited_custody_line_is_found(package: tuple[Path, dt.datetime, dt.datetime, str], tmp_path: Path) -> None:
    folder = tampered(package, tmp_path)
    lines = (folder / "custody.jsonl").read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("dtv-01", "dtv-02")
    (folder / "custody.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    said = verify_fails(folder)
    assert "custody.jsonl: changed" in said and "custody.jsonl: line 2: its case_prev" in said


def test_the_towns_log_holds_every_step_and_its_chain_is_whole(
    package: tuple[Path, dt.datetime, dt.datetime, str], town: Town
) -> None:
    raw = (town.folder / "custody" / "footage.jsonl").read_bytes()
    assert verify_chain(raw) == []
    events = [json.loads(line)["event"] for line in raw.splitlines() if b'"VV-2026-0142"' in line]
    assert events == ["request", "approval", "search", "export"]
    said = footage(town, "log", str(town.folder))
    last = hashlib.sha256(raw.splitlines()[-1]).hexdigest()
    assert said.returncode == 0 and "Nhật ký nguyên vẹn / log intact" in said.stdout and last in said.stdout, said


def test_verify_with_the_town_finds_its_log_cut_after_the_package(
    package: tuple[Path, dt.datetime, dt.datetime, str], town: Town, tmp_path: Path
) -> None:
    folder, *_ = package
    copy = tmp_path / "footage.jsonl"
    shutil.copyfile(town.folder / "custody" / "footage.jsonl", copy)
    args = [str(BIN / "camfleet"), "footage", "verify", str(folder), "--town", str(town.folder), "--log", str(copy)]
    ok = subprocess.run([*args, "--by", "ksv-01"], capture_output=True, text=True)
    assert ok.returncode == 0 and "Nguyên vẹn / intact" in ok.stdout, ok.stderr
    anchor = manifest(folder)["custody_log"]
    lines = copy.read_bytes().splitlines(keepends=True)
    copy.write_bytes(b"".join(lines[: anchor["seq"] - 1]))  # the export entry and everything after it gone
    cut = subprocess.run(args, capture_output=True, text=True)
    assert cut.returncode == 1 and f"no entry seq {anchor['seq']}: the log was cut" in cut.stderr, cut.stderr


def test_the_signing_key_appears_nowhere(package: tuple[Path, dt.datetime, dt.datetime, str], town: Town) -> None:
    folder, *_, out = package
    seed = VaultFile(town.folder / "vault" / "secrets.yml", town.folder / "vault-password.DEMO-ONLY").read()[
        "vault_footage_signing_key"
    ]
    for path in [*folder.rglob("*"), folder.with_suffix(".zip"), town.folder / "custody" / "footage.jsonl"]:
        if path.is_file():
            assert seed.encode() not in path.read_bytes(), path
    assert seed not in out


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("--authority", "ca-tinh-xa-la"), "is not a competent authority"),
        (("--document", ""), "no legal document"),
        (("--approved-by", "cb-truc-ban"), "is not an officer of the station who approves"),
    ],
    ids=["unlisted authority", "no document", "no approver"],
)
def test_a_bad_request_is_refused_and_only_the_refusal_is_written(
    town: Town, tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    log = tmp_path / "custody.jsonl"
    args = list(REQUEST)
    i = args.index(change[0])
    args[i + 1] = change[1]
    out = tmp_path / "usb"
    run = footage(
        town, "export", str(town.folder), "--case", "VV-2026-0999", *args, "--log", str(log),
        "--from", "2026-01-01 10:00", "--to", "2026-01-01 10:10", "--camera", STEADY, "-o", str(out),
    )  # fmt: skip
    assert run.returncode == 1 and says in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not out.exists()
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in entries] == ["refusal"] and says in entries[0]["message"]


def test_a_household_without_a_commitment_is_refused(
    package: tuple[Path, dt.datetime, dt.datetime, str], town: Town, tmp_path: Path
) -> None:
    fleet = load(town.folder, overlay=False).fleet
    without = next(h.id for h in fleet.households.values() if not (h.consent.signed_on and h.consent.footage_handover))
    folder = tampered(package, tmp_path)
    before = (folder / "manifest.json").read_bytes()
    log = town.folder / "custody" / "footage.jsonl"
    lines = log.read_bytes().count(b"\n")
    clip = next(iter((folder / "clips").iterdir()))
    run = footage(
        town, "import", str(town.folder), str(folder), "--household", without, "--received-by", "cb-truc-ban",
        "--file", str(clip),
    )  # fmt: skip
    assert run.returncode == 1 and "no signed footage-handover commitment" in run.stderr
    assert (folder / "manifest.json").read_bytes() == before
    after = log.read_bytes().splitlines()
    assert len(after) == lines + 1 and json.loads(after[-1])["event"] == "refusal"


def test_household_files_are_added_with_their_provenance(
    package: tuple[Path, dt.datetime, dt.datetime, str], town: Town, tmp_path: Path
) -> None:
    fleet = load(town.folder, overlay=False).fleet
    signed, camera = next(
        (h.id, c.id)
        for c in fleet.cameras.values()
        if c.kind.value == "community" and (h := fleet.households[c.household or ""]).consent.footage_handover
        and h.consent.signed_on
    )  # fmt: skip
    folder = tampered(package, tmp_path)
    clip = next(iter((folder / "clips").iterdir()))
    given = tmp_path / "dau-ghi-ho-dan.mp4"
    shutil.copyfile(clip, given)
    run = footage(
        town, "import", str(town.folder), str(folder), "--household", signed, "--received-by", "cb-truc-ban",
        "--received-on", "2026-12-02", "--file", str(given),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    entry = next(c for c in manifest(folder)["clips"] if c["source"] == "household")
    assert entry["household"] == signed and entry["received_by"] == "cb-truc-ban" and entry["commitment"]
    assert entry["camera"] == camera and entry["street"] == fleet.cameras[camera].location.street
    assert entry["original_name"] == "dau-ghi-ho-dan.mp4"
    check = subprocess.run([str(BIN / "camfleet"), "footage", "verify", str(folder)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_playbook_audits_then_exports_and_minus_vvv_shows_no_secret(
    package: tuple[Path, dt.datetime, dt.datetime, str], town: Town, tmp_path: Path
) -> None:
    """playbooks/footage.yml: check mode searches (logged) and writes nothing; the run writes a package
    that verifies; the signing key and the recorders' passwords appear nowhere in either -vvv output."""
    _, start, _, _ = package
    case = tmp_path / "case.yml"
    case.write_text(
        json.dumps(
            {
                "footage_case": "VV-2026-0143", "footage_authority": "vks-huyen-ngoc-lac",
                "footage_document": "QĐ 7/VKS ngày 02/12/2026", "footage_requested_by": "ksv-01",
                "footage_approved_by": "cb-pho", "footage_purpose": "Kiểm sát điều tra",
                "footage_from": start.strftime("%Y-%m-%d %H:%M"),
                "footage_to": (start + dt.timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M"),
                "footage_cameras": [STEADY],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / "usb"
    audit = playbook(town, "footage.yml", "--check", "-vvv", "-e", f"@{case}")
    assert recap(audit.stdout)["localhost"]["failed"] == 0, audit.stdout[-3000:]
    assert f"{STEADY}: covered" in audit.stdout and not out.exists()
    run = playbook(town, "footage.yml", "-vvv", "-e", f"@{case}", "-e", f"footage_output={out}")
    assert recap(run.stdout)["localhost"]["changed"] == 1, run.stdout[-3000:]
    folder = out / "VV-2026-0143"
    check = subprocess.run([str(BIN / "camfleet"), "footage", "verify", str(folder)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    secrets = VaultFile(town.folder / "vault" / "secrets.yml", town.folder / "vault-password.DEMO-ONLY").read()
    words = [
        secrets["vault_footage_signing_key"],
        *(c["password"] for c in secrets["vault_device_credentials"].values()),
    ]
    for said in (audit.stdout + audit.stderr, run.stdout + run.stderr):
        assert not [w for w in words if w in said]
    events = [
        json.loads(line)["event"]
        for line in (town.folder / "custody" / "footage.jsonl").read_bytes().splitlines()
        if b'"VV-2026-0143"' in line
    ]
    assert events == ["request", "approval", "search", "request", "approval", "search", "export"]


def test_the_recorder_plays_its_footage_over_rtsp_from_the_time_asked(
    package: tuple[Path, dt.datetime, dt.datetime, str], town: Town, tmp_path: Path
) -> None:
    """RTSP playback on the recorder's own port, ``starttime`` as the search's playback URIs write it:
    ffmpeg copies three seconds and the burnt-in clock reads the asked second (a keyframe earlier at most)."""
    _, start, _, _ = package
    cam = town.fleet.cameras[STEADY]
    assert cam.recorder is not None
    nvr = yaml.safe_load(town.overlay.read_text())["devices"][cam.recorder.id]
    login = town.creds[cam.recorder.id]
    asked = start + dt.timedelta(seconds=37)
    when = asked.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    url = (
        f"rtsp://{login['username']}:{login['password']}@{nvr['address']}:{nvr['rtsp_port']}"
        f"/Streaming/tracks/{cam.recorder.channel}01?starttime={when}"
    )
    out = tmp_path / "playback.mp4"
    got = subprocess.run(
        ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-t", "3", "-c", "copy", "-y", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr
    profile = town.fleet.profiles[cam.stream.main]  # type: ignore[union-attr]
    seconds = [s for s, _ in read_times(out, profile.width)]
    gop_s = profile.gop / profile.fps
    assert asked.timestamp() - gop_s - 1 <= seconds[0] <= asked.timestamp(), (seconds[0], asked.timestamp())
    assert probe(out).codec == "h264"
