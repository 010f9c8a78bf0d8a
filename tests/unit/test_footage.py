"""The investigator's path without devices: the request's checks and refusals, the window in the
town's time, which cameras a point and a radius choose (and which face it), coverage and holes,
the custody log's chain, the package's seal and what ``verify`` finds, the handover record's
escaping. The whole path against the simulated town is tests/integration/test_footage.py.

    .venv/bin/pytest tests/unit/test_footage.py -q
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import pytest

from camfleet.drivers.base import Recording
from camfleet.inventory import load
from camfleet.inventory.fleet import Fleet
from camfleet.jobs import footage
from camfleet.jobs.custody import GENESIS, CustodyError, CustodyLog, line_hash, verify_case_chain, verify_chain
from camfleet.jobs.evidence import (
    SIGNING_KEY_VAR,
    EvidenceError,
    SigningKey,
    fingerprint,
    manifest_bytes,
    public_key_text,
    seal,
    verify,
)
from camfleet.jobs.footage import Coverage, Refused, Selection, Window
from camfleet.jobs.media import MediaFacts
from camfleet.reports.handover import handover_html
from tests.conftest import TOWN

ZONE = "Asia/Ho_Chi_Minh"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load(TOWN).fleet


# --------------------------------------------------------------------------- the window and the cameras


def test_a_window_is_read_in_the_towns_time_and_kept_as_utc() -> None:
    w = Window.parse("2026-12-01 19:40", "2026-12-01 20:10", ZONE)
    assert w.start == dt.datetime(2026, 12, 1, 12, 40, tzinfo=dt.UTC) and w.seconds == 1800
    assert w.as_dict()["from"] == "2026-12-01 19:40" and w.as_dict()["from_utc"].startswith("2026-12-01T12:40")
    for start, end, says in [
        ("19:40", "20:10", "write times as 'YYYY-MM-DD HH:MM'"),
        ("2026-12-01 20:10", "2026-12-01 19:40", "ends before it starts"),
        ("2026-12-01 00:00", "2026-12-09 00:00", "longer than 7 days"),
    ]:
        with pytest.raises(ValueError, match=says):
            Window.parse(start, end, ZONE)


def _point_ahead(lat: float, lon: float, bearing: float, metres: float) -> tuple[float, float]:
    d = metres / footage.EARTH_RADIUS_M
    b, p1, l1 = math.radians(bearing), math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


def test_a_point_and_radius_choose_the_cameras_near_it_and_say_which_face_it(fleet: Fleet) -> None:
    cam = fleet.cameras["cam-01-t01"]
    loc = cam.location
    ahead = _point_ahead(loc.lat, loc.lon, loc.bearing_deg, 40)
    behind = _point_ahead(loc.lat, loc.lon, (loc.bearing_deg + 180) % 360, 40)
    assert abs(footage.distance_m(loc.lat, loc.lon, *ahead) - 40) < 0.1
    chosen = {c.camera: c for c in footage.choose_cameras(fleet, Selection(near=(*ahead, 60)))}
    assert chosen["cam-01-t01"].faces_point is True and 39 <= (chosen["cam-01-t01"].distance_m or 0) <= 41
    others = [c for c in fleet.cameras.values() if c.id != cam.id]
    for other in others:  # every camera chosen is within the radius; every one within it is chosen
        near = footage.distance_m(*ahead, other.location.lat, other.location.lon) <= 60
        assert (other.id in chosen) == (near and other.status.value not in ("retired", "planned", "surveyed"))
    back = {c.camera: c for c in footage.choose_cameras(fleet, Selection(near=(*behind, 60)))}
    assert back["cam-01-t01"].faces_point is False
    ordered = [c.distance_m for c in footage.choose_cameras(fleet, Selection(near=(loc.lat, loc.lon, 400)))]
    assert ordered == sorted(ordered) and ordered[0] == 0


def test_cameras_by_id_street_and_khu_pho_and_the_names_the_town_lacks(fleet: Fleet) -> None:
    street = fleet.cameras["cam-01-t01"].location.street
    by_street = {c.camera for c in footage.choose_cameras(fleet, Selection(streets=(street.upper(),)))}
    assert "cam-01-t01" in by_street and all(fleet.cameras[c].location.street == street for c in by_street)
    site = fleet.cameras["cam-01-t01"].site
    by_site = {c.camera for c in footage.choose_cameras(fleet, Selection(sites=(site,)))}
    assert by_site and all(fleet.cameras[c].site == site for c in by_site)
    with pytest.raises(ValueError, match="no camera 'cam-99' in the inventory"):
        footage.choose_cameras(fleet, Selection(cameras=("cam-99",)))
    with pytest.raises(ValueError, match="no khu phố 'kp-99'"):
        footage.choose_cameras(fleet, Selection(sites=("kp-99",)))
    with pytest.raises(ValueError, match="no working camera matches within 5 m"):
        footage.choose_cameras(fleet, Selection(near=(0.0, 0.0, 5)))


# --------------------------------------------------------------------------- the request


ASK = {
    "case": "VV-2026-0001",
    "authority": "ca-huyen-ngoc-lac",
    "document": "CV 12/CAH ngày 01/12/2026",
    "requested_by": "dtv-01",
    "approved_by": "cb-truong",
    "purpose": "Điều tra",
    "window_from": "2026-12-01 19:40",
    "window_to": "2026-12-01 20:10",
    "selection": Selection(cameras=("cam-01-t01",)),
}


def test_a_request_is_logged_as_a_request_and_its_approval(fleet: Fleet, tmp_path: Path) -> None:
    log = CustodyLog(tmp_path / "custody.jsonl")
    req = footage.request(fleet, log, **ASK)  # type: ignore[arg-type]
    assert [c.camera for c in req.chosen] == ["cam-01-t01"]
    entries = [json.loads(line) for line in log.read().splitlines()]
    assert [(e["event"], e["actor"]) for e in entries] == [("request", "dtv-01"), ("approval", "cb-truong")]
    assert entries[0]["window"]["from"] == "2026-12-01 19:40" and verify_chain(log.read()) == []


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("case", "../etc", "case number '../etc'"),
        ("authority", "ca-tinh-xa-la", "'ca-tinh-xa-la' is not a competent authority"),
        ("document", "  ", "no legal document"),
        ("approved_by", "cb-truc-ban", "cb-truc-ban is not an officer of the station who approves"),
        ("approved_by", "dtv-01", "dtv-01 is not an officer of the station who approves"),
        ("requested_by", "ksv-01", "ksv-01 is not an officer of ca-huyen-ngoc-lac or of the station"),
        ("purpose", "", "no purpose"),
        ("window_from", "2099-01-01 10:00", "ends before it starts"),
        ("selection", Selection(cameras=("cam-99",)), "no camera 'cam-99'"),
    ],
)
def test_a_bad_request_is_refused_and_only_the_refusal_is_logged(
    fleet: Fleet, tmp_path: Path, field: str, value: object, says: str
) -> None:
    log = CustodyLog(tmp_path / "custody.jsonl")
    with pytest.raises(Refused, match=says) as err:
        footage.request(fleet, log, **{**ASK, field: value})  # type: ignore[arg-type]
    assert str(err.value).startswith("từ chối / refused: ") and "\n" not in str(err.value)
    (entry,) = [json.loads(line) for line in log.read().splitlines()]
    assert entry["event"] == "refusal" and says in entry["message"]


def test_a_window_in_the_future_is_refused(fleet: Fleet, tmp_path: Path) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    ask = {**ASK, "window_from": f"{later:%Y-%m-%d} 10:00", "window_to": f"{later:%Y-%m-%d} 11:00"}
    with pytest.raises(Refused, match="in the future"):
        footage.request(fleet, CustodyLog(tmp_path / "c.jsonl"), **ask)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- coverage


def _rec(a: str, b: str) -> Recording:
    return Recording(1, dt.datetime.fromisoformat(a + "+00:00"), dt.datetime.fromisoformat(b + "+00:00"), handle="x")


def test_coverage_merges_seams_and_names_the_holes() -> None:
    w = Window.parse("2026-12-01 19:00", "2026-12-01 20:00", ZONE)  # 12:00-13:00 UTC
    files = [
        _rec("2026-12-01T11:00:00", "2026-12-01T12:10:00"),
        _rec("2026-12-01T12:10:01", "2026-12-01T12:20:00"),  # a 1 s seam between files: not a gap
        _rec("2026-12-01T12:25:00", "2026-12-01T12:50:00"),  # five minutes missing before it
        _rec("2026-12-01T14:00:00", "2026-12-01T15:00:00"),  # after the window
    ]
    spans, holes = footage.covered(files, w)
    at = lambda s: dt.datetime.fromisoformat(s + "+00:00")  # noqa: E731
    assert spans == [
        (at("2026-12-01T12:00:00"), at("2026-12-01T12:20:00")),
        (at("2026-12-01T12:25:00"), at("2026-12-01T12:50:00")),
    ]
    assert holes == [
        (at("2026-12-01T12:20:00"), at("2026-12-01T12:25:00")),
        (at("2026-12-01T12:50:00"), at("2026-12-01T13:00:00")),
    ]
    assert footage.covered([], w) == ([], [(w.start, w.end)])
    cov = Coverage("cam-01-t01", "partial", "nvr-01", 1, spans, holes)
    assert cov.as_dict(w)["gaps"][0] == {"from": "2026-12-01 19:20:00", "to": "2026-12-01 19:25:00"}


def test_footage_near_its_overwrite_is_urgent() -> None:
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    assert footage.urgent(Coverage("c", "covered", export_by=now + dt.timedelta(days=1)), now)
    assert not footage.urgent(Coverage("c", "covered", export_by=now + dt.timedelta(days=20)), now)
    assert not footage.urgent(Coverage("c", "covered"), now)


def test_community_cameras_are_told_apart_by_their_owners_commitment(fleet: Fleet) -> None:
    community = [c for c in fleet.cameras.values() if c.kind.value == "community"]
    assert community
    for cam in community:
        found = footage._not_at_the_station(fleet, footage.Chosen(cam.id), cam)
        consent = fleet.households[cam.household or ""].consent
        signed = consent.signed_on is not None and consent.footage_handover
        assert found.status == ("household" if signed else "no_commitment"), cam.id


# --------------------------------------------------------------------------- the custody log


def test_the_custody_log_chains_every_line_and_finds_an_edit_a_removal_and_an_insertion(tmp_path: Path) -> None:
    log = CustodyLog(tmp_path / "c.jsonl")
    log.append("request", "A", "dtv-01", note="một")
    log.append("request", "B", "dtv-01")
    third = log.append("export", "A", "cb-truong", clips=[])
    raw = log.read()
    assert verify_chain(raw) == [] and third.data["seq"] == 3
    lines = raw.splitlines()
    assert json.loads(lines[0])["prev"] == GENESIS and json.loads(lines[2])["case_prev"] == line_hash(lines[0])
    assert verify_case_chain(log.case_lines("A"), "A") == [] and verify_case_chain(log.case_lines("B"), "B") == []
    edited = raw.replace("một".encode(), b"hai")
    assert verify_chain(edited) == [
        "line 2: its prev is not the hash of the line before (a line was changed, removed or inserted)"
    ]
    removed = b"\n".join([lines[0], lines[2]]) + b"\n"
    assert any("line 2" in p for p in verify_chain(removed)) and any(
        "seq 3 follows 1" in p for p in verify_chain(removed)
    )
    assert any("case_prev" in p for p in verify_case_chain(lines[2] + b"\n", "A"))
    assert any("not 'A'" in p for p in verify_case_chain(lines[1] + b"\n", "A"))
    assert "line 2 is not a JSON entry" in verify_chain(lines[0] + b"\n{oops\n")[0]


def test_a_damaged_log_is_not_appended_to(tmp_path: Path) -> None:
    log = CustodyLog(tmp_path / "c.jsonl")
    log.append("request", "A", "x")
    good = log.read()
    for damage, says in [(b'{"half": ', "line 2 is not a JSON entry"), (b'{"seq": 2}', "the last line is incomplete")]:
        log.path.write_bytes(good + damage)
        with pytest.raises(CustodyError, match=f"{says}; the log was damaged, nothing was appended"):
            log.append("request", "A", "x")
        assert log.read() == good + damage
    with pytest.raises(ValueError, match="unknown custody event 'peek'"):
        log.append("peek", "A", "x")


# --------------------------------------------------------------------------- the package


def _package(tmp_path: Path, key: SigningKey, case: str = "VV-1") -> Path:
    folder = tmp_path / case
    (folder / "clips").mkdir(parents=True)
    clip = folder / "clips" / "a.mp4"
    clip.write_bytes(bytes(range(256)) * 1000)
    log = CustodyLog(tmp_path / "town.jsonl")
    log.append("request", case, "dtv-01")
    log.append("export", case, "cb-truong")
    from camfleet.jobs.files import sha256_file

    manifest = {
        "case": case,
        "clips": [{"file": "clips/a.mp4", "sha256": sha256_file(clip), "size_bytes": clip.stat().st_size}],
    }
    (folder / "record.html").write_text("<p>x</p>", encoding="utf-8")
    seal(folder, manifest, key, log.case_lines(case), ["record.html"])
    return folder


def test_a_sealed_package_verifies_and_each_kind_of_tampering_is_named(tmp_path: Path) -> None:
    key, _ = SigningKey.generate()
    folder = _package(tmp_path, key)
    ok = verify(folder, expected_fingerprint=fingerprint(key.public()))
    assert ok.intact and ok.case == "VV-1" and ok.files == 7, ok.problems
    (folder / "extra.txt").write_text("thêm")
    assert verify(folder).problems == ["extra.txt: not in SHA256SUMS (a file was added)"]
    (folder / "extra.txt").unlink()
    sums = (folder / "SHA256SUMS").read_text()
    (folder / "SHA256SUMS").write_text(sums + f"{'0' * 64}  ../../etc/passwd\n")
    assert "SHA256SUMS: '../../etc/passwd' points outside the package" in verify(folder).problems
    (folder / "SHA256SUMS").write_text(sums)
    (folder / "record.html").write_text("<p>y</p>", encoding="utf-8")
    assert verify(folder).problems == [
        "record.html: changed (its SHA-256 is not the one in SHA256SUMS)",
        "record.html: changed (its SHA-256 is not the one in manifest.json)",
    ]


def test_a_custody_excerpt_rechained_and_rehashed_without_the_key_is_found(tmp_path: Path) -> None:
    """The chain and SHA256SUMS need no key to recompute: the signed manifest's hash of the excerpt does."""
    key, _ = SigningKey.generate()
    folder = _package(tmp_path, key)
    lines = (folder / "custody.jsonl").read_bytes().splitlines()
    kept = json.loads(lines[1])  # drop the request, keep the export, re-chained as a forger would
    kept["case_prev"] = "0" * 64
    forged = json.dumps(kept, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    (folder / "custody.jsonl").write_bytes(forged)
    sums = [
        line if not line.endswith("  custody.jsonl") else f"{hashlib.sha256(forged).hexdigest()}  custody.jsonl"
        for line in (folder / "SHA256SUMS").read_text().splitlines()
    ]
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    assert verify(folder).problems == ["custody.jsonl: changed (its SHA-256 is not the one in manifest.json)"]


def test_a_town_log_cut_or_rewritten_after_a_package_is_found_by_the_package(tmp_path: Path) -> None:
    key, _ = SigningKey.generate()
    folder = _package(tmp_path, key)
    log = CustodyLog(tmp_path / "town.jsonl")
    manifest = json.loads((folder / "manifest.json").read_text())
    seal(folder, manifest, key, log.case_lines("VV-1"), ["record.html"], town_head=log.head())
    log.append("handover", "VV-1", "cb-truc-ban", to="dtv-01")
    assert verify(folder).intact and footage.town_log_problems(folder, log) == []
    whole = log.read()
    log.path.write_bytes(b"".join(line + b"\n" for line in whole.splitlines()[:1]))  # cut after the request
    assert footage.town_log_problems(folder, log) == [
        "town.jsonl: no entry seq 2: the log was cut after the package was sealed"
    ]
    forged = [json.loads(line) for line in whole.splitlines()]
    forged[1]["clips"] = []  # the export entry rewritten, and every later line re-chained
    out, prev = [], "0" * 64
    for entry in forged:
        entry["prev"] = prev
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        out.append(line)
        prev = hashlib.sha256(line).hexdigest()
    log.path.write_bytes(b"".join(line + b"\n" for line in out))
    assert footage.town_log_problems(folder, log) == [
        "town.jsonl: line 2 (seq 2) is not the entry the package was sealed after (the log was rewritten)"
    ]


def test_a_package_resigned_with_another_key_fails_against_the_stations_fingerprint(tmp_path: Path) -> None:
    station, _ = SigningKey.generate()
    forger, _ = SigningKey.generate()
    folder = _package(tmp_path, station)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["case_note"] = "forged"
    data = manifest_bytes(manifest)
    (folder / "manifest.json").write_bytes(data)
    assert any("signature does not match manifest.json" in p for p in verify(folder).problems)
    (folder / "manifest.json.sig").write_bytes(base64.b64encode(forger.sign(data)) + b"\n")
    (folder / "station-key.pub").write_text(public_key_text(forger.public()))
    assert "station-key.pem: not the key of station-key.pub" in verify(folder).problems
    seal(folder, manifest, forger, (folder / "custody.jsonl").read_bytes(), ["record.html"])  # a whole forgery:
    assert verify(folder).intact  # consistent in itself...
    problems = verify(folder, expected_fingerprint=fingerprint(station.public())).problems  # ...fails the pin
    assert f"station-key.pub: fingerprint {fingerprint(forger.public())} is not the station's" in " ".join(problems)


def test_the_signing_key_is_read_from_the_vault_and_never_shown() -> None:
    key, seed = SigningKey.generate()
    again = SigningKey.from_vault({SIGNING_KEY_VAR: seed})
    assert again.public() == key.public() and seed not in repr(again) and seed not in str(again)
    with pytest.raises(EvidenceError, match="the vault has no vault_footage_signing_key: generate one"):
        SigningKey.from_vault({})
    with pytest.raises(EvidenceError, match="not a base64 Ed25519 key"):
        SigningKey.from_vault({SIGNING_KEY_VAR: "bm9wZQ=="})


def test_the_handover_record_prints_what_the_manifest_says_and_escapes_it(fleet: Fleet, tmp_path: Path) -> None:
    log = CustodyLog(tmp_path / "c.jsonl")
    req = footage.request(fleet, log, **{**ASK, "purpose": "<script>alert(1)</script> & điều tra"})  # type: ignore[arg-type]
    w = req.window
    gap = (w.start + dt.timedelta(minutes=5), w.start + dt.timedelta(minutes=6))
    cov = [Coverage("cam-01-t01", "partial", "nvr-01", 1, [(w.start, gap[0]), (gap[1], w.end)], [gap])]
    key, _ = SigningKey.generate()
    clock = {"before": {"offset_s": 2.4, "uncertainty_s": 1.01}, "after": {"offset_s": 2.5, "uncertainty_s": 1.0}}
    clip = footage.Clip(
        "clips/a.mp4", "cam-01-t01", w.start, gap[0], 1234567, "ab" * 32,
        MediaFacts("h264", 1920, 1080, 300.0, 7500, 0.0, "mov,mp4"), "nvr-01", 1, clock,
    )  # fmt: skip
    manifest = footage._manifest(fleet, req, cov, [clip], key)
    html = handover_html(fleet, manifest)
    assert "+2.4 s (± 1.0 s)<br>sau / after +2.5 s" in html and "1,234,567 B" in html and "ab" * 32 in html
    assert "Biên bản bàn giao dữ liệu hình ảnh" in html and "VV-2026-0001" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; điều tra" in html
    assert "2026-12-01 19:45:00 → 2026-12-01 19:46:00" in html and fingerprint(key.public()) in html
    assert "Công an huyện Ngọc Lặc" in html
