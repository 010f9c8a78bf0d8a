"""Synthetic towns of any size, valid by construction, for benchmarks and scale tests.

    .venv/bin/python -m camfleet.inventory.synthetic /tmp/big-town 10000

A district-sized inventory (thousands of cameras) is what the loader, the
inventory plugin and the exporter must stay fast on; the reference town is
only 70 cameras. Every khu phố gets its own file, as in a real town folder.
:func:`simulable_town` adds what the simulator, Ansible and the exporter need
to run it (a vault every device's login is in, an inventory source): the
benchmarks and the scale tests use it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import sys
from pathlib import Path
from typing import Any

import yaml

from camfleet.inventory.loader import load
from camfleet.inventory.vault import DEMO_PASSWORD_FILE, encrypt_vault

CAMERAS_PER_SITE = 50
CHANNELS_PER_RECORDER = 64
TOWN_SHARE = 0.6  # share of town (vs community) cameras
CAMERA_COST = 3_450_000
ROUTER_COST = 1_150_000
RECORDER_COST = 24_000_000
DISK_COST = 4_900_000
#: Every device of a simulable town has this password (loopback only).
PASSWORD = "Bench-pass-2024"  # noqa: S105
VAULT_PASSWORD = b"bench-vault-password"
BBOX = {"south": 20.0, "west": 105.3, "north": 20.2, "east": 105.5}


def _camera(
    n: int, site: str, host: str, link: str | None, subnet_host: str | None, slot: tuple[str, int] | None
) -> dict[str, Any]:
    lat = BBOX["south"] + 0.01 + (n * 7919 % 1000) / 1000 * 0.18
    lon = BBOX["west"] + 0.01 + (n * 104729 % 1000) / 1000 * 0.18
    cam: dict[str, Any] = {
        "id": f"cam-{n:05d}",
        "kind": "town" if link else "community",
        "status": "commissioned",
        "site": site,
        "household": host,
        "location": {
            "street": f"Đường số {n % 97 + 1}",
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "bearing_deg": n * 37 % 360,
        },
    }
    if link and subnet_host and slot:
        cam["device"] = {
            "vendor": "hikvision",
            "model": "DS-2CD1023G2-LIU",
            "mac": "44:19:b6:" + ":".join(f"{(n >> s) & 0xFF:02x}" for s in (16, 8, 0)),
            "serial": f"SYN{n:08d}",
            "firmware": "V5.7.15 build 230519",
        }
        cam["network"] = {"link": link, "address": subnet_host}
        cam["stream"] = {"main": "main-1080p", "sub": "sub-360p"}
        cam["recorder"] = {"id": slot[0], "channel": slot[1]}
        cam["sign"] = {"installed_on": dt.date(2024, 1, 1)}
        cam["cost"] = {"amount_vnd": CAMERA_COST, "funding": "site_fund"}
    else:
        cam["device"] = {"vendor": "ezviz", "model": "CS-H3c"}
        cam["cost"] = {"amount_vnd": 0, "funding": "owner"}
    return cam


def write_town(folder: Path, cameras: int, town_id: str = "synthetic") -> Path:
    """Write a valid town of about ``cameras`` cameras into ``folder``; returns the folder.
    ``town_id``: the town's id (a province is several towns, each its own id)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sites").mkdir(exist_ok=True)
    sites = math.ceil(cameras / CAMERAS_PER_SITE)
    town_cams = 0
    recorder_no, channel = 1, 0
    link_no = 0
    total = 0
    placed: list[tuple[float, float, str]] = []
    for s in range(sites):
        site = f"kp-{s + 1:03d}"
        households, links, routers, cams = [], [], [], []
        spend = 0
        for i in range(min(CAMERAS_PER_SITE, cameras - s * CAMERAS_PER_SITE)):
            n = s * CAMERAS_PER_SITE + i
            host = f"hh-{n:05d}"
            is_town = (i % 10) < TOWN_SHARE * 10
            households.append(
                {
                    "id": host,
                    "site": site,
                    "owner_kind": "household",
                    "consent": {
                        "signed_on": dt.date(2023, 9, 1),
                        "footage_handover": True,
                        "hosts_town_camera": is_town,
                    },
                }
            )
            if not is_town:
                cams.append(_camera(n, site, host, None, None, None))
                continue
            link_no += 1
            channel += 1
            if channel > CHANNELS_PER_RECORDER:
                recorder_no, channel = recorder_no + 1, 1
            a, b = divmod(link_no, 250)
            router = f"lr-{n:05d}"
            routers.append(
                {
                    "id": router,
                    "role": "site",
                    "site": site,
                    "vendor": "mikrotik",
                    "model": "RB952Ui-5ac2nD",
                    "device_type": "mikrotik_routeros",
                    "address": f"10.{100 + a}.{b}.1",
                    "cost": {"amount_vnd": ROUTER_COST, "funding": "site_fund"},
                }
            )
            links.append(
                {
                    "id": f"link-{n:05d}",
                    "site": site,
                    "household": host,
                    "isp": "VNPT",
                    "uplink_mbps": 30,
                    "camera_share_mbps": 3,
                    "router": router,
                    "camera_subnet": f"10.{50 + a}.{b}.0/29",
                    "tunnel_address": f"10.{100 + a}.{b}.1/16",
                }
            )
            cams.append(
                _camera(n, site, host, f"link-{n:05d}", f"10.{50 + a}.{b}.2", (f"nvr-{recorder_no:03d}", channel))
            )
            spend += CAMERA_COST + ROUTER_COST
            town_cams += 1
        total += spend
        placed += [(c["location"]["lat"], c["location"]["lon"], site) for c in cams]
        doc = {
            "sites": [{"id": site, "name": f"Khu phố {s + 1}", "fund_vnd": spend}],
            "households": households,
            "link_routers": routers,
            "links": links,
            "cameras": cams,
        }
        _dump(folder / "sites" / f"{site}.yml", doc)

    recorders = []
    for r in range(1, recorder_no + 1):
        recorders.append(
            {
                "id": f"nvr-{r:03d}",
                "vendor": "hikvision",
                "model": "DS-96064NI-I16",
                "address": f"192.168.{10 + r // 250}.{r % 250 + 1}",
                "channels": CHANNELS_PER_RECORDER,
                "incoming_mbps": 320,
                "disk_bays": 16,
                "disks": [
                    {
                        "slot": d,
                        "model": "WD84PURZ",
                        "serial": f"WD-SYN{r:03d}{d:02d}",
                        "capacity_tb": 8,
                        "cost": {"amount_vnd": DISK_COST, "funding": "town_board"},
                    }
                    for d in range(1, 6)
                ],
                "cost": {"amount_vnd": RECORDER_COST, "funding": "town_board"},
            }
        )
        total += RECORDER_COST + 5 * DISK_COST
    _dump(folder / "station.yml", {"recorders": recorders})
    _dump(folder / "routes.yml", {"routes": _routes(placed)})
    _dump(
        folder / "profiles.yml",
        {
            "profiles": [
                {
                    "id": "main-1080p",
                    "codec": "h264",
                    "width": 1920,
                    "height": 1080,
                    "fps": 12,
                    "bitrate_kbps": 1536,
                    "gop": 24,
                },
                {
                    "id": "sub-360p",
                    "codec": "h264",
                    "width": 640,
                    "height": 360,
                    "fps": 12,
                    "bitrate_kbps": 384,
                    "gop": 24,
                },
            ],
            "firmware": [
                {
                    "vendor": "hikvision",
                    "model": "DS-2CD1023G2-LIU",
                    "approved": {"build": "V5.7.15 build 230519", "file": "digicap.dav", "sha256": "ab" * 32},
                }
            ],
        },
    )
    _dump(
        folder / "town.yml",
        {
            "town": {
                "id": town_id,
                "name": f"Synthetic town of {cameras} cameras",
                "province": "Thanh Hóa",
                "district": "Synthetic",
                "ntp_servers": ["192.168.10.1"],
                "bbox": BBOX,
                "station": {"name": "Station", "lat": 20.1, "lon": 105.4, "duty_phone": "0237 3871 113"},
                "budget": {"plan_ref": "synthetic", "plan_date": dt.date(2024, 1, 1), "plan_total_vnd": total},
                "storage": {"retention_days": 30},
            }
        },
    )
    return folder


#: Routes are drawn through the cameras of each square of this many degrees (about 1 km).
ROUTE_CELL_DEG = 0.01


def _routes(placed: list[tuple[float, float, str]]) -> list[dict[str, Any]]:
    """One street per ~1 km square, from camera to nearest camera (cameras stand on the streets they watch)."""
    cells: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for lat, lon, site in placed:
        cells.setdefault((int(lat / ROUTE_CELL_DEG), int(lon / ROUTE_CELL_DEG)), []).append((lat, lon, site))
    routes = []
    for number, (_, found) in enumerate(sorted(cells.items())):
        rest = sorted({(lat, lon): (lat, lon, site) for lat, lon, site in found}.values())  # one point per place
        if len(rest) < 2:
            continue
        chain = [rest.pop(0)]
        while rest:
            last = chain[-1]
            nearest = min(range(len(rest)), key=lambda i: (rest[i][0] - last[0]) ** 2 + (rest[i][1] - last[1]) ** 2)
            chain.append(rest.pop(nearest))
        routes.append(
            {
                "id": f"route-{number:05d}",
                "name": f"Đường số {number + 1}",
                "kind": "street" if number % 4 else "alley",
                "priority": number % 5 + 1,
                "sites": sorted({site for _, _, site in chain}),
                "points": _surveyed([(lat, lon) for lat, lon, _ in chain]),
            }
        )
    return routes


def _surveyed(chain: list[tuple[float, float]], step_m: float = 50.0) -> list[list[float]]:
    """The chain with a point every ``step_m`` at most, as a GPS walk records a street."""
    out = [[chain[0][0], chain[0][1]]]
    for (lat0, lon0), (lat1, lon1) in itertools.pairwise(chain):
        metres = math.hypot((lat1 - lat0) * 111_195, (lon1 - lon0) * 111_195 * math.cos(math.radians(lat0)))
        steps = max(1, math.ceil(metres / step_m))
        out += [
            [round(lat0 + (lat1 - lat0) * k / steps, 6), round(lon0 + (lon1 - lon0) * k / steps, 6)]
            for k in range(1, steps + 1)
        ]
    return out


def simulable_town(folder: Path, cameras: int, town_id: str = "synthetic") -> Path:
    """A synthetic town of about ``cameras`` town cameras, with a vault (every login :data:`PASSWORD`,
    opened by the demo password file beside it) and an inventory source for Ansible."""
    write_town(folder, int(cameras / TOWN_SHARE) + 1, town_id)
    fleet = load(folder, overlay=False).fleet
    creds = {
        i: {"username": "admin", "password": PASSWORD} for i in [*fleet.cameras, *fleet.recorders, *fleet.link_routers]
    }
    creds |= {f"{r}-channel-user": {"username": "nvrpull", "password": PASSWORD} for r in fleet.recorders}
    (folder / "vault").mkdir(exist_ok=True)
    text = yaml.safe_dump({"vault_device_credentials": creds}).encode()
    (folder / "vault" / "secrets.yml").write_bytes(encrypt_vault(text, VAULT_PASSWORD, "bench"))
    (folder / DEMO_PASSWORD_FILE).write_bytes(VAULT_PASSWORD + b"\n")
    (folder / "town.camfleet.yml").write_text("plugin: camfleet.fleet.town\n", encoding="utf-8")
    return folder


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(
        yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        sys.exit("usage: python -m camfleet.inventory.synthetic FOLDER CAMERAS")
    print(write_town(Path(sys.argv[1]), int(sys.argv[2])))
