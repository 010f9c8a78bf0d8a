"""Cross-checks no single file can make: references, uniqueness, capacity, budget, privacy.

Each check takes the assembled :class:`Fleet` and yields :class:`Problem` s
pointing at the entry to fix (its file and document path; the loader finds
the line). One bad fixture per rule lives in ``tests/fixtures/invalid/``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from camfleet.inventory import catalogue, glossary, messages, yamlfiles
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.messages import dotted, label_for, looks_secret
from camfleet.inventory.plans import budget_rows, recorder_plans
from camfleet.inventory.problems import DocPath, Problem, Severity
from camfleet.inventory.versions import DAHUA_LIKE
from camfleet.model import CAMERA_DRIVERS, DEPLOYED, CameraKind, CameraStatus, Funding, RouterRole

# Vietnamese mobile and landline numbers, with or without +84 and separators.
_PHONE = re.compile(r"(?<![\d.])(?:\+84|0)(?:[\s.-]?\d){8,10}(?![\d.])")
yamlfiles.register_scan("phone", _PHONE)
# The one phone number the inventory may carry in clear: the station's duty line on the signs.
_PUBLIC_PHONE_PATHS = {("town", "station", "duty_phone")}


def _problem(where: tuple[Path, DocPath], label: str, message: str, severity: Severity = Severity.error) -> Problem:
    file, path = where
    return Problem(file, None, label, message, severity, path)


# --------------------------------------------------------------------------- privacy and secrets


def plaintext_secrets(file: Path, doc: Any, *, vars_file: bool) -> Iterator[Problem]:
    """Secrets (in variable files) and phone numbers (anywhere) written in clear outside the vault."""
    if not vars_file and not yamlfiles.text_has(file, "phone"):
        return  # the whole file has no phone-like text: skip walking every value
    yield from _plaintext(file, doc, vars_file=vars_file)


def _plaintext(file: Path, doc: Any, *, vars_file: bool) -> Iterator[Problem]:
    """Secrets and phone numbers written in clear outside the vault.

    In group_vars/host_vars a secret-looking variable may only point at the
    vault (``"{{ vault_x }}"``); in inventory data it may not appear at all
    (the schema has no such field, and this gives the better message).
    """
    for path, key, value in _walk(doc, ()):
        if isinstance(value, dict | list) or value in (None, ""):
            continue
        text = str(value)
        if vars_file and key is not None and looks_secret(key) and not _is_reference(text):
            where = "vault/secrets.yml (ansible-vault edit) and refer to it as '{{ vault_... }}'"
            yield _problem(
                (file, path),
                label_for(doc, path),
                f"bí mật để lộ, chưa mã hóa / plaintext secret; move it into {where}",
            )
        elif path not in _PUBLIC_PHONE_PATHS and isinstance(value, str) and _PHONE.search(value):
            yield _problem(
                (file, path),
                label_for(doc, path),
                "có vẻ là số điện thoại, dữ liệu cá nhân chỉ để trong vault/contacts.yml / looks like a phone number: personal data lives only in the ansible-vault file vault/contacts.yml, keyed by the household id",
            )


def _is_reference(text: str) -> bool:
    return ("{{" in text and "}}" in text) or text.startswith("!vault")


def _walk(node: Any, path: DocPath) -> Iterator[tuple[DocPath, str | None, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))
    else:
        key = path[-1] if path and isinstance(path[-1], str) else None
        yield path, key, node


# --------------------------------------------------------------------------- uniqueness


def unique_device_ids(fleet: Fleet) -> Iterator[Problem]:
    """Cameras, recorders and link routers share one host namespace in Ansible."""
    seen: dict[str, str] = {}
    for section in ("recorders", "link_routers", "cameras"):
        for item_id in fleet.section(section):
            if item_id in seen:
                yield _problem(
                    fleet.origin(section, item_id).at("id"),
                    item_id,
                    f"mã thiết bị bị trùng / id is already used by a {seen[item_id]}; device ids must be unique across cameras, "
                    "recorders and link routers",
                )
            else:
                seen[item_id] = section[:-1].replace("_", " ")


def unique_addresses(fleet: Fleet) -> Iterator[Problem]:
    """Two devices on one address or MAC are a copy-paste slip."""
    by_address: dict[str, str] = {}
    by_mac: dict[str, str] = {}
    for section, item_id, item in _devices(fleet):
        origin = fleet.origin(section, item_id)
        address = item.network.address if section == "cameras" else item.address
        if address is not None:
            key = str(address)
            if key in by_address:
                field = ("network", "address") if section == "cameras" else ("address",)
                yield _problem(
                    origin.at(*field),
                    dotted(item_id, *field),
                    f"địa chỉ IP bị trùng / address {key} is already used by {by_address[key]}; give each device its own",
                )
            else:
                by_address[key] = item_id
        mac = (item.device.mac if item.device else None) if section == "cameras" else item.mac
        if mac is not None:
            if mac in by_mac:
                field = ("device", "mac") if section == "cameras" else ("mac",)
                yield _problem(
                    origin.at(*field),
                    dotted(item_id, *field),
                    f"địa chỉ MAC bị trùng / MAC {mac} is already used by {by_mac[mac]}; check the label on the device",
                )
            else:
                by_mac[mac] = item_id


def _devices(fleet: Fleet) -> Iterator[tuple[str, str, Any]]:
    for section in ("recorders", "link_routers", "cameras"):
        for item_id, item in fleet.section(section).items():
            yield section, item_id, item


# --------------------------------------------------------------------------- references


#: What a reference names, in the installer's words (the English stays after " / ").
_KIND_VI = {
    "site": glossary.SITE.vi,
    "household": "hộ gia đình",
    "link": "đường truyền",
    "link router": "router đường truyền",
    "recorder": glossary.RECORDER.vi,
    "stream profile": "cấu hình luồng hình",
}


def references(fleet: Fleet) -> Iterator[Problem]:
    """Every id an entry names must exist (and be of the right sort)."""

    def missing(section: str, item_id: str, field: DocPath, kind: str, ref: str, known: Iterable[str]) -> Problem:
        choices = sorted(known)
        shown = ", ".join(choices[:8]) + (", ..." if len(choices) > 8 else "")
        vi = _KIND_VI.get(kind, kind)
        return _problem(
            fleet.origin(section, item_id).at(*field),
            dotted(item_id, *field),
            f"không có {vi} '{ref}' / no {kind} '{ref}'; use one of: {shown}"
            if choices
            else f"không có {vi} '{ref}' / no {kind} '{ref}'; define it first",
        )

    for hh in fleet.households.values():
        if hh.site not in fleet.sites:
            yield missing("households", hh.id, ("site",), "site", hh.site, fleet.sites)
    for router in fleet.link_routers.values():
        if router.site is not None and router.site not in fleet.sites:
            yield missing("link_routers", router.id, ("site",), "site", router.site, fleet.sites)
        if router.role is RouterRole.site and router.site is None:
            yield _problem(
                fleet.origin("link_routers", router.id).at("site"),
                f"{router.id}.site",
                "router khu phố thiếu khu phố / a site router needs its site; add 'site:'",
            )
    site_routers = [r.id for r in fleet.link_routers.values() if r.role is RouterRole.site]
    for link in fleet.links.values():
        if link.site not in fleet.sites:
            yield missing("links", link.id, ("site",), "site", link.site, fleet.sites)
        if link.household not in fleet.households:
            yield missing("links", link.id, ("household",), "household", link.household, fleet.households)
        link_router = fleet.link_routers.get(link.router)
        if link_router is None:
            yield missing("links", link.id, ("router",), "link router", link.router, site_routers)
        elif link_router.role is not RouterRole.site:
            yield _problem(
                fleet.origin("links", link.id).at("router"),
                f"{link.id}.router",
                f"đường truyền phải dùng router khu phố / '{link.router}' is the station's core router; a link needs its site router",
            )
    for cam in fleet.cameras.values():
        if cam.site not in fleet.sites:
            yield missing("cameras", cam.id, ("site",), "site", cam.site, fleet.sites)
        if cam.household is not None and cam.household not in fleet.households:
            yield missing("cameras", cam.id, ("household",), "household", cam.household, fleet.households)
        if cam.network.link is not None and cam.network.link not in fleet.links:
            yield missing("cameras", cam.id, ("network", "link"), "link", cam.network.link, fleet.links)
        if cam.recorder is not None and cam.recorder.id not in fleet.recorders:
            yield missing("cameras", cam.id, ("recorder", "id"), "recorder", cam.recorder.id, fleet.recorders)
        if cam.stream is not None:
            for which in ("main", "sub"):
                ref = getattr(cam.stream, which)
                if ref is not None and ref not in fleet.profiles:
                    yield missing("cameras", cam.id, ("stream", which), "stream profile", ref, fleet.profiles)


# --------------------------------------------------------------------------- camera rules


def camera_lifecycle(fleet: Fleet) -> Iterator[Problem]:
    """What a camera must have at each status, by kind."""
    for cam in fleet.cameras.values():
        origin = fleet.origin("cameras", cam.id)
        deployed = cam.status in DEPLOYED

        def need(field: DocPath, what: str) -> Problem:
            return _problem(origin.at(*field), dotted(cam.id, *field), what)  # noqa: B023

        if cam.household is None:
            role = "host" if cam.kind is CameraKind.town else "owner"
            yield need(
                ("household",),
                f"camera thiếu hộ gia đình / a {cam.kind} camera needs its {role} household; add 'household: <id>'",
            )
        hh = fleet.households.get(cam.household or "")
        if cam.kind is CameraKind.town:
            if deployed:
                if cam.device is None:
                    yield need(
                        ("device",),
                        f"camera loại hình 2 thiếu thông tin thiết bị / an {cam.status} town camera needs its device (vendor, model, mac, serial)",
                    )
                if cam.network.link is None:
                    yield need(
                        ("network", "link"),
                        "camera loại hình 2 thiếu đường truyền / a mounted town camera rides a household link; set network.link",
                    )
                if cam.network.address is None:
                    yield need(
                        ("network", "address"),
                        "camera loại hình 2 thiếu địa chỉ IP / a mounted town camera needs its address; set network.address",
                    )
                if cam.recorder is None:
                    yield need(
                        ("recorder",),
                        "camera loại hình 2 thiếu kênh đầu ghi / a mounted town camera is recorded at the station; set recorder: {id, channel}",
                    )
            if cam.stream is None and cam.status is not CameraStatus.retired:
                yield need(
                    ("stream",),
                    "camera loại hình 2 thiếu cấu hình luồng hình / a town camera needs stream profiles; set stream: {main, sub}",
                )
            if cam.status is CameraStatus.commissioned and (cam.sign is None or cam.sign.installed_on is None):
                yield need(
                    ("sign",),
                    "camera đã nghiệm thu phải có biển CAMERA AN NINH / a commissioned town camera has its 'CAMERA AN NINH' sign; set sign.installed_on",
                )
            if hh is not None and deployed and not hh.consent.hosts_town_camera:
                yield need(
                    ("household",),
                    f"hộ gia đình chưa đồng ý cho lắp camera loại hình 2 / household {hh.id} has not agreed to host a town camera (consent.hosts_town_camera); get the commitment signed first",
                )
            if cam.managed is False:
                yield need(
                    ("managed",),
                    "camera loại hình 2 luôn do camfleet quản lý / town cameras are always managed by camfleet; remove 'managed: false'",
                )
        elif (
            hh is not None
            and cam.status is CameraStatus.commissioned
            and (hh.consent.signed_on is None or not hh.consent.footage_handover)
        ):
            yield need(
                ("household",),
                f"household {hh.id} has no signed footage-handover commitment (consent.signed_on, consent.footage_handover); "
                "a community camera is commissioned only after the cam kết is signed",
            )
        if (
            cam.is_managed
            and deployed
            and cam.device is not None
            and (cam.device.driver or CAMERA_DRIVERS.get(cam.device.vendor)) != "onvif"  # shared: never upgraded
            and fleet.firmware_for(cam.device.vendor, cam.device.model) is None
        ):
            yield _problem(
                origin.at("device", "model"),
                f"{cam.id}.device.model",
                f"model chưa có trong danh mục firmware / model {cam.device.model} is not in the firmware catalogue; add it to firmware.yml so upgrades know its approved build",
                Severity.warning,
            )
        for index, mask in enumerate(cam.privacy_masks):
            if mask.x + mask.w > 1 or mask.y + mask.h > 1:
                yield need(
                    ("privacy_masks", index),
                    f"vùng che vượt ra ngoài khung hình / mask '{mask.name}' runs off the frame; keep x+w and y+h within 1",
                )


def coordinates(fleet: Fleet) -> Iterator[Problem]:
    """Every coordinate inside the town's bounding box (swapped lat/lon is the usual slip)."""
    box = fleet.town.bbox
    station = fleet.town.station
    if not box.contains(station.lat, station.lon):
        yield _problem(fleet.town_origin.at("station", "lat"), "town.station", _outside(station.lat, station.lon, box))
    if box.south >= box.north or box.west >= box.east:
        yield _problem(
            fleet.town_origin.at("bbox"),
            "town.bbox",
            "khung địa bàn sai chiều / south must be below north and west below east",
        )
    for cam in fleet.cameras.values():
        loc = cam.location
        if not box.contains(loc.lat, loc.lon):
            yield _problem(
                fleet.origin("cameras", cam.id).at("location", "lat"),
                f"{cam.id}.location",
                _outside(loc.lat, loc.lon, box),
            )


def _outside(lat: float, lon: float, box: Any) -> str:
    return (
        f"vị trí nằm ngoài địa bàn / ({lat}, {lon}) is outside the town's bounding box "
        f"[{box.south}..{box.north} N, {box.west}..{box.east} E]; check the survey coordinates"
    )


# --------------------------------------------------------------------------- station and links


def recorder_channels(fleet: Fleet) -> Iterator[Problem]:
    """Every recorded camera on a channel within capacity, no channel used twice."""
    used: dict[tuple[str, int], str] = {}
    for cam in fleet.cameras.values():
        if cam.recorder is None or cam.recorder.id not in fleet.recorders or cam.status is CameraStatus.retired:
            continue
        rec = fleet.recorders[cam.recorder.id]
        where = fleet.origin("cameras", cam.id).at("recorder", "channel")
        slot = (rec.id, cam.recorder.channel)
        if cam.recorder.channel > rec.channels:
            yield _problem(
                where,
                f"{cam.id}.recorder.channel",
                f"kênh vượt quá số kênh của đầu ghi / channel {cam.recorder.channel} is beyond {rec.id}'s {rec.channels} channels; {_free(fleet, rec.id)}",
            )
        elif slot in used:
            yield _problem(
                where,
                f"{cam.id}.recorder.channel",
                f"kênh đã có camera khác / channel {cam.recorder.channel} of {rec.id} is already taken by {used[slot]}; {_free(fleet, rec.id)}",
            )
        else:
            used[slot] = cam.id
    for rec in fleet.recorders.values():
        origin = fleet.origin("recorders", rec.id)
        slots: set[int] = set()
        for index, disk in enumerate(rec.disks):
            if disk.slot > rec.disk_bays:
                yield _problem(
                    origin.at("disks", index, "slot"),
                    f"{rec.id}.disks[{index}].slot",
                    f"khe ổ cứng vượt quá số khe của đầu ghi / slot {disk.slot} is beyond the {rec.disk_bays} bays",
                )
            if disk.slot in slots:
                yield _problem(
                    origin.at("disks", index, "slot"),
                    f"{rec.id}.disks[{index}].slot",
                    f"một khe có hai ổ cứng / slot {disk.slot} holds two disks",
                )
            slots.add(disk.slot)


def _free(fleet: Fleet, recorder_id: str) -> str:
    rec = fleet.recorders[recorder_id]
    taken = {c.recorder.channel for c in fleet.cameras_on_recorder(recorder_id) if c.recorder}
    free = [n for n in range(1, rec.channels + 1) if n not in taken]
    if not free:
        return "it has no free channel: move the camera to another recorder"
    shown = ", ".join(str(n) for n in free[:6]) + (", ..." if len(free) > 6 else "")
    return f"free channels: {shown}"


def storage_plan(fleet: Fleet) -> Iterator[Problem]:
    """Each recorder keeps the retention target at its cameras' bitrates, within its bandwidth."""
    target = fleet.town.storage.retention_days
    for plan in recorder_plans(fleet):
        origin = fleet.origin("recorders", plan.recorder.id)
        if plan.retention_days < target:
            yield _problem(
                origin.at("disks"),
                f"{plan.recorder.id}.disks",
                f"ổ cứng không đủ số ngày lưu hình / {target}-day plan needs {plan.needed_bytes / 1e12:.1f} TB for {plan.cameras} cameras at "
                f"{plan.bitrate_kbps / 1000:.1f} Mbit/s, disks give {plan.usable_bytes / 1e12:.1f} TB usable "
                f"({plan.retention_days:.1f} days); add disks, lower bitrates, or move cameras",
            )
        if plan.cap_kbps / 1000 > plan.recorder.incoming_mbps:  # bandwidth: the caps, not the averages
            yield _problem(
                origin.at("incoming_mbps"),
                f"{plan.recorder.id}.incoming_mbps",
                f"đầu ghi không ghi kịp băng thông của camera / its cameras send {plan.cap_kbps / 1000:.1f} Mbit/s, more than the {plan.recorder.incoming_mbps} Mbit/s "
                "it can record; move cameras to another recorder",
            )


def links(fleet: Fleet) -> Iterator[Problem]:
    """A link's camera share fits its uplink and carries its cameras' streams."""
    for link in fleet.links.values():
        origin = fleet.origin("links", link.id)
        if link.camera_share_mbps > link.uplink_mbps:
            yield _problem(
                origin.at("camera_share_mbps"),
                f"{link.id}.camera_share_mbps",
                f"vượt băng thông tải lên của hộ gia đình / {link.camera_share_mbps} Mbit/s is more than the household's {link.uplink_mbps} Mbit/s uplink",
            )
        router = fleet.link_routers.get(link.router)
        if router is not None and router.role is RouterRole.site and router.site != link.site:
            yield _problem(
                origin.at("router"),
                f"{link.id}.router",
                f"router và đường truyền ở hai khu phố khác nhau / router {router.id} is in {router.site}, the link in {link.site}",
            )
        base, prefix = link.camera_subnet.split("/")
        mask = (0xFFFFFFFF << (32 - int(prefix))) & 0xFFFFFFFF
        network = _ipv4(base) & mask
        if network != _ipv4(base):
            subnet = ipaddress.ip_network(link.camera_subnet, strict=False)
            yield _problem(
                origin.at("camera_subnet"),
                f"{link.id}.camera_subnet",
                f"dải mạng viết sai / {link.camera_subnet} has host bits set; write the subnet as {subnet}",
            )
        needed = 0
        for cam in fleet.cameras_on_link(link.id):
            if cam.status is CameraStatus.retired:
                continue
            if cam.network.address is not None and _ipv4(cam.network.address) & mask != network:
                yield _problem(
                    fleet.origin("cameras", cam.id).at("network", "address"),
                    f"{cam.id}.network.address",
                    f"địa chỉ nằm ngoài dải mạng camera của đường truyền / {cam.network.address} is not in {link.id}'s camera subnet {link.camera_subnet}",
                )
            if cam.stream is not None:
                for ref in (cam.stream.main, cam.stream.sub):
                    profile = fleet.profiles.get(ref or "")
                    needed += profile.bitrate_kbps if profile else 0
        if needed / 1000 > link.camera_share_mbps:
            yield _problem(
                origin.at("camera_share_mbps"),
                f"{link.id}.camera_share_mbps",
                f"luồng hình vượt phần băng thông dành cho camera / its cameras' streams need {needed / 1000:.2f} Mbit/s, more than the {link.camera_share_mbps} Mbit/s share; "
                "raise the share (within the uplink) or lower the profiles",
            )


def _ipv4(address: str) -> int:
    """Dotted quad (already pattern-checked) to int; socket's C parser, not ipaddress's Python one."""
    return int.from_bytes(socket.inet_aton(address), "big")


def budget(fleet: Fleet) -> Iterator[Problem]:
    """Costs add up to the plan; no khu phố spends more than its fund."""
    report = budget_rows(fleet)
    plan = fleet.town.budget.plan_total_vnd
    if report.total_vnd != plan:
        diff = report.total_vnd - plan
        yield _problem(
            fleet.town_origin.at("budget", "plan_total_vnd"),
            "town.budget.plan_total_vnd",
            f"tổng chi phí không khớp kế hoạch / the inventory's costs add up to {report.total_vnd:,} VND, the plan says {plan:,} VND "
            f"({'over' if diff > 0 else 'short'} by {abs(diff):,}); fix the costs or the plan total",
        )
    for row in report.sites:
        site = fleet.sites[row.site_id]
        if row.site_fund_vnd > site.fund_vnd:
            yield _problem(
                fleet.origin("sites", site.id).at("fund_vnd"),
                f"{site.id}.fund_vnd",
                f"its cameras cost the khu phố fund {row.site_fund_vnd:,} VND, more than the {site.fund_vnd:,} VND committed",
            )


def firmware_catalogue(fleet: Fleet) -> Iterator[Problem]:
    """An approved build must not be known-bad or inside a vulnerable range; every range says where
    it ends (``fixed_in`` or ``last_affected``) in builds its maker's devices write."""
    for key, entry in fleet.firmware.items():
        origin = fleet.origin("firmware", key)
        bad = {b.build for b in entry.known_bad}
        if entry.approved.build in bad:
            yield _problem(
                origin.at("approved", "build"),
                f"{entry.model}.approved.build",
                "bản firmware được duyệt lại nằm trong danh sách lỗi / the approved build is also listed as known-bad",
            )
        readable = True
        for i, rng in enumerate(entry.vulnerable):
            label = f"{entry.model}.vulnerable[{i}]"
            if (rng.fixed_in is None) == (rng.last_affected is None):
                readable = False
                yield _problem(
                    origin.at("vulnerable", i),
                    label,
                    "chỉ ghi một trong hai: fixed_in hoặc last_affected / give exactly one of fixed_in (the first fixed build) or last_affected (the last affected one)",
                )
            for name, parsed in catalogue.range_bounds(entry, rng).items():
                if parsed is None:
                    readable = False
                    yield _problem(
                        origin.at("vulnerable", i, name),
                        f"{label}.{name}",
                        f"số hiệu firmware viết sai / '{getattr(rng, name)}' is not a {entry.vendor.value} build; write it as the device does, "
                        + (
                            "e.g. V2.800.0000000.25.R.210601 or 'V2.800.0000000.25.R, Build Date: 2021-06-01'"
                            if entry.vendor.value in DAHUA_LIKE
                            else "e.g. 'V5.5.800 build 210628' (or 'V5.5.0' for every build of a version)"
                        ),
                    )
        if not readable or entry.vulnerable == []:
            continue
        found = catalogue.vulnerability(entry.model_copy(update={"known_bad": []}), entry.approved.build)
        if found is not None:
            yield _problem(
                origin.at("approved", "build"),
                f"{entry.model}.approved.build",
                f"bản firmware được duyệt có lỗ hổng bảo mật / the approved build is inside a vulnerable range ({found.label()}"
                + (f": {found.note}" if found.note else "")
                + "); approve a fixed build",
            )


def households_unused(fleet: Fleet) -> Iterator[Problem]:
    """A household nobody refers to is personal data kept without purpose."""
    used = {c.household for c in fleet.cameras.values()} | {link.household for link in fleet.links.values()}
    for hh in fleet.households.values():
        if hh.id not in used:
            yield _problem(
                fleet.origin("households", hh.id).at("id"),
                hh.id,
                "hộ gia đình không gắn với camera hay đường truyền nào / no camera or link refers to this household; remove it (and its vault entry) to keep no data without purpose",
                Severity.warning,
            )


def funding_by_kind(fleet: Fleet) -> Iterator[Problem]:
    """Town cameras are paid by the plan; an owner pays only for their own (community) camera."""
    for cam in fleet.cameras.values():
        if cam.kind is CameraKind.town and cam.cost.funding is Funding.owner:
            yield _problem(
                fleet.origin("cameras", cam.id).at("cost", "funding"),
                f"{cam.id}.cost.funding",
                "nguồn kinh phí không hợp lệ cho camera loại hình 2 / a town camera is paid by site_fund, town_board or donation, not by its host",
            )


def drivers(fleet: Fleet) -> Iterator[Problem]:
    """A driver override names a driver camfleet has."""
    for cam in fleet.cameras.values():
        if (
            cam.device is not None
            and cam.device.driver is not None
            and cam.device.driver not in CAMERA_DRIVERS.values()
        ):
            yield _problem(
                fleet.origin("cameras", cam.id).at("device", "driver"),
                f"{cam.id}.device.driver",
                f"không có trình điều khiển này / no driver '{cam.device.driver}'; use one of: {', '.join(sorted(set(CAMERA_DRIVERS.values())))}, or leave it out",
            )


def officers(fleet: Fleet) -> Iterator[Problem]:
    """An officer belongs to the station or to a listed authority; only the station's approve footage."""
    for officer in fleet.officers.values():
        origin = fleet.origin("officers", officer.id)
        if officer.organisation != "station" and officer.organisation not in fleet.authorities:
            known = ", ".join(["station", *sorted(fleet.authorities)])
            yield _problem(
                origin.at("organisation"),
                f"{officer.id}.organisation",
                f"không có cơ quan này / no authority '{officer.organisation}'; use one of: {known}",
            )
        elif officer.approves_footage and officer.organisation != "station":
            yield _problem(
                origin.at("approves_footage"),
                f"{officer.id}.approves_footage",
                "chỉ cán bộ công an địa phương được phê duyệt trích xuất / only an officer of the station approves a footage request; remove approves_footage",
            )


# --------------------------------------------------------------------------- routes


def routes(fleet: Fleet) -> Iterator[Problem]:
    """A surveyed route crosses listed khu phố, lies inside the town's box, and has a length."""
    box = fleet.town.bbox
    for route in fleet.routes.values():
        origin = fleet.origin("routes", route.id)
        for index, site in enumerate(route.sites):
            if site not in fleet.sites:
                yield _problem(
                    origin.at("sites", index), f"{route.id}.sites[{index}]", messages.route_no_site(site, fleet.sites)
                )
        for index, (lat, lon) in enumerate(route.points):
            if not box.contains(lat, lon):
                yield _problem(
                    origin.at("points", index),
                    f"{route.id}.points[{index}]",
                    messages.route_point_outside(lat, lon, box, fleet.town.kind.value),
                )
        if len(set(route.points)) < 2:
            yield _problem(origin.at("points"), f"{route.id}.points", messages.route_too_short())


ALL: tuple[Callable[[Fleet], Iterable[Problem]], ...] = (
    unique_device_ids,
    unique_addresses,
    references,
    camera_lifecycle,
    coordinates,
    recorder_channels,
    storage_plan,
    links,
    budget,
    firmware_catalogue,
    households_unused,
    funding_by_kind,
    drivers,
    officers,
    routes,
)
