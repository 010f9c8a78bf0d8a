#!/usr/bin/python
# Copyright: camfleet contributors
# Apache License 2.0
"""Check a footage request, search every chosen camera's recorder, export the window into a signed evidence package."""

from __future__ import annotations

DOCUMENTATION = r"""
module: footage_export
short_description: Export the footage of a case into a signed evidence package, with a chain of custody
description:
  - Checks the request against the town's inventory - a competent authority of its C(authorities), a legal
    document, the officer who asks and the station officer who approves (C(officers)) - and refuses it in one
    line otherwise. Every step (request, approval, search, export, or the refusal) is an entry of the town's
    custody log, a hash-chained JSON-lines file.
  - Searches each chosen camera's recorder channel and reports what it has of the window - C(covered),
    C(partial) (with the gaps), C(none), C(household) (a community camera whose owner exports it),
    C(no_commitment), C(not_recorded), C(unreachable) - and by when the recorder overwrites it.
  - Outside check mode, downloads each covered camera's window from its recorder, remuxes it to MP4 without
    re-encoding, checks every clip with ffprobe, records the recorder's clock offset, and writes
    C(<output>/<case>/) (clips, C(manifest.json), C(SHA256SUMS), the Ed25519 signature of the manifest, the
    station's public key, the custody entries of the case, the bilingual handover record) and its zip.
  - Reads the station's signing key and the recorders' logins from the town's vault itself, so no secret is
    ever a module parameter or in the task's output.
version_added: 0.1.0
author: camfleet contributors (!UNKNOWN)
options:
  town:
    description: Town inventory folder.
    type: path
    required: true
  case:
    description: Case number, e.g. C(VV-2026-0142).
    type: str
    required: true
  authority:
    description: Id of the requesting competent authority (the inventory's C(authorities)).
    type: str
    required: true
  document:
    description: The legal document the request rests on (công văn / quyết định số ..., ngày ...).
    type: str
    required: true
  requested_by:
    description: Id of the officer who asks (the inventory's C(officers)).
    type: str
    required: true
  approved_by:
    description: Id of the station officer who approves.
    type: str
    required: true
  purpose:
    description: What the footage is for.
    type: str
    required: true
  window_from:
    description: Start of the window, C(YYYY-MM-DD HH:MM) in the town's time zone.
    type: str
    required: true
  window_to:
    description: End of the window, C(YYYY-MM-DD HH:MM) in the town's time zone.
    type: str
    required: true
  cameras:
    description: Camera ids.
    type: list
    elements: str
    default: []
  sites:
    description: Every working camera of these khu phố.
    type: list
    elements: str
    default: []
  streets:
    description: Every working camera on these streets.
    type: list
    elements: str
    default: []
  near:
    description: C(LAT,LON) - the cameras within O(radius) metres of this point.
    type: str
  radius:
    description: Metres around O(near).
    type: float
  output:
    description: Folder to write C(<case>/) and C(<case>.zip) into. Required outside check mode.
    type: path
  custody_log:
    description: The custody log (default C(<town>/custody/footage.jsonl)).
    type: path
  vault_password_file:
    description: File holding the vault password (ansible.cfg's C(vault_identity_list) file).
    type: path
    required: true
  timeout:
    description: Seconds per recorder request.
    type: float
    default: 20
notes:
  - Supports check mode - the request is checked and the recorders searched (both logged, as every access to
    footage is), nothing is downloaded or written.
"""

EXAMPLES = r"""
- name: Export the market's cameras for the evening of the case
  camfleet.fleet.footage_export:
    town: inventory/ngoc-lac
    case: VV-2026-0142
    authority: ca-huyen-ngoc-lac
    document: CV 123/CAH-CSHS ngày 01/12/2026
    requested_by: dtv-01
    approved_by: cb-truong
    purpose: Điều tra vụ trộm xe máy
    window_from: "2026-12-01 19:40"
    window_to: "2026-12-01 20:10"
    near: "20.0912,105.3701"
    radius: 200
    output: /media/usb
    vault_password_file: inventory/ngoc-lac/vault-password.DEMO-ONLY
"""

RETURN = r"""
case:
  description: The case number.
  returned: always
  type: str
cameras:
  description: Per chosen camera - C(camera), C(status), C(recorder), C(channel), C(recorded) and C(gaps) (local
    times), C(export_by), C(lock), C(detail), C(distance_m), C(faces_point).
  returned: always
  type: list
  elements: dict
package:
  description: The package folder.
  returned: when not in check mode
  type: str
zip:
  description: The zip of the package.
  returned: when not in check mode
  type: str
clips:
  description: Per exported clip - C(file), C(camera), C(start), C(end), C(duration_s), C(size_bytes), C(sha256).
  returned: when not in check mode
  type: list
  elements: dict
signing_key_fingerprint:
  description: Fingerprint of the station's public key the manifest is signed with.
  returned: when not in check mode
  type: str
"""

from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.camfleet.fleet.plugins.module_utils.fleet import JOB_ERRORS, fail, load_town

try:
    from camfleet.inventory import InventoryError
    from camfleet.inventory.vault import device_credentials, read_vault
    from camfleet.jobs import footage
    from camfleet.jobs.custody import CustodyError, CustodyLog
    from camfleet.jobs.evidence import EvidenceError, SigningKey, fingerprint
except ImportError:  # reported by load_town()
    pass

SPEC: dict[str, Any] = dict(
    argument_spec={
        "town": {"type": "path", "required": True},
        "case": {"type": "str", "required": True},
        "authority": {"type": "str", "required": True},
        "document": {"type": "str", "required": True},
        "requested_by": {"type": "str", "required": True},
        "approved_by": {"type": "str", "required": True},
        "purpose": {"type": "str", "required": True},
        "window_from": {"type": "str", "required": True},
        "window_to": {"type": "str", "required": True},
        "cameras": {"type": "list", "elements": "str", "default": []},
        "sites": {"type": "list", "elements": "str", "default": []},
        "streets": {"type": "list", "elements": "str", "default": []},
        "near": {"type": "str"},
        "radius": {"type": "float"},
        "output": {"type": "path"},
        "custody_log": {"type": "path"},
        "vault_password_file": {"type": "path", "required": True, "no_log": False},
        "timeout": {"type": "float", "default": 20.0},
    },
    required_together=[("near", "radius")],
    supports_check_mode=True,
)


def run_module(module: Any) -> None:
    """The module's work, for ``main()`` and for the in-process action plugin."""
    fleet = load_town(module)
    p = module.params
    if not module.check_mode and not p["output"]:
        module.fail_json(
            msg="thiếu thư mục ghi gói dữ liệu / output is required to export (the folder the package is written into)"
        )
    town = Path(p["town"])
    log = CustodyLog(Path(p["custody_log"]) if p["custody_log"] else town / "custody" / "footage.jsonl")
    try:
        selection = footage.selection_of(p["cameras"], p["sites"], p["streets"], p["near"], p["radius"])
    except ValueError as err:
        module.fail_json(msg=str(err))
    try:
        key = (
            None if module.check_mode else SigningKey.from_vault(read_vault(town, "secrets", p["vault_password_file"]))
        )
        req = footage.request(
            fleet,
            log,
            case=p["case"],
            authority=p["authority"],
            document=p["document"],
            requested_by=p["requested_by"],
            approved_by=p["approved_by"],
            purpose=p["purpose"],
            window_from=p["window_from"],
            window_to=p["window_to"],
            selection=selection,
        )
        creds = device_credentials(town, p["vault_password_file"])
        found = footage.search(fleet, req, creds, log, timeout=p["timeout"])
        out: dict[str, Any] = {"case": req.case, "cameras": [c.as_dict(req.window) for c in found]}
        if module.check_mode or key is None:
            module.exit_json(changed=False, msg=_summary(found), **out)
        package = footage.export(fleet, req, found, creds, Path(p["output"]), key, log, timeout=p["timeout"])
    except JOB_ERRORS as err:
        fail(module, err)
    except (InventoryError, EvidenceError, CustodyError) as err:
        module.fail_json(msg="; ".join(str(p) for p in err.problems) if isinstance(err, InventoryError) else str(err))
    w = req.window
    out.update(
        package=str(package.folder),
        zip=str(package.zip),
        signing_key_fingerprint=fingerprint(key.public()),
        clips=[
            {
                "file": c.file,
                "camera": c.camera,
                "start": w.local(c.start),
                "end": w.local(c.end),
                "duration_s": round(c.facts.duration_s, 3),
                "size_bytes": c.size_bytes,
                "sha256": c.sha256,
            }
            for c in package.clips
        ],
    )
    module.exit_json(
        changed=True, msg=f"{_summary(found)}; {len(package.clips)} tệp / clips in {package.folder}", **out
    )


def _summary(found: list[Any]) -> str:
    counts: dict[str, int] = {}
    for c in found:
        counts[c.status] = counts.get(c.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def main() -> None:
    run_module(AnsibleModule(**SPEC))


if __name__ == "__main__":
    main()
