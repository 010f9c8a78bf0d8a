"""The plan's arithmetic: what each recorder must hold to keep the retention target, and the budget sums.

The loader's checks (:mod:`camfleet.inventory.checks`) and the reports (:mod:`camfleet.reports`)
share these numbers, so a report never disagrees with what ``camfleet validate`` accepted.
The plan's total counts what the plan pays: an owner's own camera (funding ``owner``) is listed
but costs the plan nothing.

    .venv/bin/python -c "from camfleet.inventory import load; from camfleet.inventory.plans import *; \\
        f = load('inventory/ngoc-lac').fleet; print(budget_rows(f).total_vnd, recorder_plans(f)[0].retention_days)"
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from camfleet.inventory.fleet import Fleet
from camfleet.model import CameraKind, CameraStatus, Funding, Recorder

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class RecorderPlan:
    """One recorder's storage budget (bitrates are the main streams it records 24/7: each profile's cap, or its
    average where H.264+/H.265+ is on, since the encoder holds that average over about a day; devices.md §6)."""

    recorder: Recorder
    cameras: int
    bitrate_kbps: int
    raw_bytes: int
    usable_bytes: int
    target_days: int
    #: The caps summed: what the cameras may send at once (bandwidth), where ``bitrate_kbps`` is what is stored.
    cap_kbps: int = 0

    @property
    def bytes_per_day(self) -> int:
        return self.bitrate_kbps * 1000 // 8 * SECONDS_PER_DAY

    @property
    def needed_bytes(self) -> int:
        return self.bytes_per_day * self.target_days

    @property
    def retention_days(self) -> float:
        """Days the usable capacity holds at these bitrates (infinite with no camera)."""
        return self.usable_bytes / self.bytes_per_day if self.bytes_per_day else float("inf")

    @property
    def margin_days(self) -> float:
        return self.retention_days - self.target_days


def recorder_plans(fleet: Fleet) -> list[RecorderPlan]:
    """Storage plan of every recorder, counting every camera assigned to it that is not retired."""
    usable = fleet.town.storage.usable_fraction
    plans = []
    for rec in fleet.recorders.values():
        cams = [c for c in fleet.cameras_on_recorder(rec.id) if c.status is not CameraStatus.retired]
        bitrate = cap = 0
        for cam in cams:
            profile = fleet.profiles.get(cam.stream.main) if cam.stream else None
            bitrate += profile.recorded_kbps if profile else 0
            cap += profile.bitrate_kbps if profile else 0
        raw = sum(d.capacity_bytes for d in rec.disks)
        plans.append(
            RecorderPlan(
                recorder=rec,
                cameras=len(cams),
                bitrate_kbps=bitrate,
                raw_bytes=raw,
                usable_bytes=int(raw * usable),
                target_days=fleet.town.storage.retention_days,
                cap_kbps=cap,
            )
        )
    return plans


@dataclass
class SiteRow:
    site_id: str
    name: str
    cameras: int
    community: int
    town: int
    by_status: dict[str, int]
    cameras_vnd: int
    routers_vnd: int
    site_fund_vnd: int
    fund_committed_vnd: int
    by_funding: dict[str, int]

    @property
    def total_vnd(self) -> int:
        return self.cameras_vnd + self.routers_vnd


@dataclass
class StationRow:
    item_id: str
    item: str
    quantity: int
    unit_vnd: int
    funding: str

    @property
    def amount_vnd(self) -> int:
        return self.quantity * self.unit_vnd


@dataclass
class BudgetReport:
    plan_ref: str
    plan_total_vnd: int
    sites: list[SiteRow] = field(default_factory=list)
    station: list[StationRow] = field(default_factory=list)

    @property
    def sites_vnd(self) -> int:
        return sum(r.total_vnd for r in self.sites)

    @property
    def station_vnd(self) -> int:
        return sum(r.amount_vnd for r in self.station)

    @property
    def total_vnd(self) -> int:
        return self.sites_vnd + self.station_vnd

    def by_funding(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for site in self.sites:
            totals.update(site.by_funding)
        for row in self.station:
            totals[row.funding] += row.amount_vnd
        return {k: v for k, v in sorted(totals.items()) if v}


def _paid(amount: int, funding: Funding) -> int:
    return 0 if funding is Funding.owner else amount


def budget_rows(fleet: Fleet) -> BudgetReport:
    report = BudgetReport(fleet.town.budget.plan_ref, fleet.town.budget.plan_total_vnd)
    for site in fleet.sites.values():
        cams = fleet.cameras_of_site(site.id)
        funding: Counter[str] = Counter()
        cam_cost = 0
        for cam in cams:
            paid = _paid(cam.cost.amount_vnd, cam.cost.funding)
            cam_cost += paid
            funding[cam.cost.funding.value] += paid
        router_cost = 0
        for router in fleet.routers_of_site(site.id):
            paid = _paid(router.cost.amount_vnd, router.cost.funding)
            router_cost += paid
            funding[router.cost.funding.value] += paid
        report.sites.append(
            SiteRow(
                site_id=site.id,
                name=site.name,
                cameras=len(cams),
                community=sum(1 for c in cams if c.kind is CameraKind.community),
                town=sum(1 for c in cams if c.kind is CameraKind.town),
                by_status={s.value: n for s in CameraStatus if (n := sum(1 for c in cams if c.status is s))},
                cameras_vnd=cam_cost,
                routers_vnd=router_cost,
                site_fund_vnd=funding[Funding.site_fund.value],
                fund_committed_vnd=site.fund_vnd,
                by_funding={k: v for k, v in funding.items() if v},
            )
        )
    for rec in fleet.recorders.values():
        report.station.append(
            StationRow(
                rec.id, f"Đầu ghi / NVR {rec.vendor} {rec.model}", 1, rec.cost.amount_vnd, rec.cost.funding.value
            )
        )
        disks: Counter[tuple[str, float, int, str]] = Counter(
            (d.model, d.capacity_tb, d.cost.amount_vnd, d.cost.funding.value) for d in rec.disks
        )
        for (model, tb, unit, fund), count in disks.items():
            report.station.append(
                StationRow(f"{rec.id}-disks", f"Ổ cứng / HDD {model} {tb:g} TB ({rec.id})", count, unit, fund)
            )
    for router in fleet.routers_of_site(None):
        report.station.append(
            StationRow(
                router.id,
                f"Router trung tâm / core router {router.model}",
                1,
                _paid(router.cost.amount_vnd, router.cost.funding),
                router.cost.funding.value,
            )
        )
    for item in fleet.equipment.values():
        report.station.append(
            StationRow(item.id, item.item, item.quantity, _paid(item.unit_cost_vnd, item.funding), item.funding.value)
        )
    return report
