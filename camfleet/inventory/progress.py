"""The plan's progress, from the inventory alone: the loại hình 1 campaign, the camera list, what is late.

The documents of issue 12 (``camfleet report survey|cameras|progress|signs``) lay these numbers out;
they compute nothing themselves. Nothing here reads the vault: rows carry ids, never names.

    .venv/bin/python -c "import datetime as dt; from camfleet.inventory import load; \\
        from camfleet.inventory.progress import progress; \\
        p = progress(load('inventory/ngoc-lac').fleet, dt.date(2024, 1, 15)); print(len(p.late))"
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.plans import budget_rows
from camfleet.model import DEPLOYED, Camera, CameraKind, CameraStatus, CampaignStep, Funding

#: The campaign's steps in order; a community camera is done at ``confirmed``.
CAMPAIGN_ORDER: tuple[CampaignStep, ...] = (
    CampaignStep.surveyed,
    CampaignStep.asked,
    CampaignStep.re_aimed,
    CampaignStep.confirmed,
)
#: Statuses at or past the survey (a retired camera is left out of every count).
SURVEYED = frozenset({CameraStatus.surveyed, *DEPLOYED})
_FROM_STATUS = {
    CameraStatus.surveyed: CampaignStep.surveyed,
    CameraStatus.installed: CampaignStep.re_aimed,
    CameraStatus.commissioned: CampaignStep.confirmed,
    CameraStatus.faulty: CampaignStep.confirmed,
}


def campaign_step(cam: Camera) -> CampaignStep | None:
    """Where the campaign is with a community camera: its ``campaign`` field, else read from its status."""
    if cam.campaign is not None:
        return cam.campaign
    return _FROM_STATUS.get(cam.status)


def _active(cam: Camera) -> bool:
    return cam.status is not CameraStatus.retired


# --------------------------------------------------------------------------- survey (loại hình 1)


@dataclass(frozen=True)
class SurveyRow:
    """A community camera in the campaign: ids only, names stay in the vault."""

    camera: str
    site: str
    household: str | None
    owner_kind: str | None
    status: str
    step: str | None
    commitment_signed: dt.date | None
    commitment_ref: str | None
    #: What is left, as codes (``ask``, ``re_aim``, ``confirm``, ``commitment``); see the glossary's TODO.
    todo: tuple[str, ...]


def survey_rows(fleet: Fleet) -> list[SurveyRow]:
    rows = []
    for site in fleet.sites.values():
        for cam in fleet.cameras_of_site(site.id):
            if cam.kind is not CameraKind.community or not _active(cam):
                continue
            hh = fleet.households.get(cam.household) if cam.household else None
            step = campaign_step(cam)
            reached = CAMPAIGN_ORDER.index(step) if step is not None else -1
            todo = [s.value for s in CAMPAIGN_ORDER[reached + 1 :]]
            if hh is None or hh.consent.signed_on is None:
                todo.append("commitment")
            rows.append(
                SurveyRow(
                    camera=cam.id,
                    site=site.id,
                    household=cam.household,
                    owner_kind=hh.owner_kind.value if hh else None,
                    status=cam.status.value,
                    step=step.value if step else None,
                    commitment_signed=hh.consent.signed_on if hh else None,
                    commitment_ref=hh.consent.document if hh else None,
                    todo=tuple(todo),
                )
            )
    return rows


# --------------------------------------------------------------------------- the camera list (the plan's attachment)


@dataclass(frozen=True)
class CameraRow:
    camera: str
    site: str
    kind: str
    status: str
    street: str
    landmark: str | None
    amount_vnd: int
    funding: str

    @property
    def paid_vnd(self) -> int:
        """What the plan pays (an owner's own camera costs it nothing), as the budget counts it."""
        return 0 if self.funding == Funding.owner.value else self.amount_vnd


def camera_rows(fleet: Fleet) -> dict[str, list[CameraRow]]:
    """Per khu phố (in the inventory's order), its cameras that are not retired."""
    return {
        site.id: [
            CameraRow(
                cam.id,
                site.id,
                cam.kind.value,
                cam.status.value,
                cam.location.street,
                cam.location.landmark,
                cam.cost.amount_vnd,
                cam.cost.funding.value,
            )
            for cam in fleet.cameras_of_site(site.id)
            if _active(cam)
        ]
        for site in fleet.sites.values()
    }


# --------------------------------------------------------------------------- progress against the plan's dates


@dataclass(frozen=True)
class Late:
    """Something the plan wanted done by ``due`` that is not: ``what`` is a code of the glossary's LATE."""

    item: str
    site: str
    what: str
    due: dt.date


@dataclass
class SiteProgress:
    site: str
    name: str
    planned: int = 0
    surveyed: int = 0
    installed: int = 0
    commissioned: int = 0
    town_cameras: int = 0
    signed: int = 0
    community: int = 0
    confirmed: int = 0
    commitments: int = 0
    needed_vnd: int = 0
    raised_vnd: int = 0
    late: list[Late] = field(default_factory=list)

    @property
    def short_vnd(self) -> int:
        return max(0, self.needed_vnd - self.raised_vnd)


@dataclass
class Progress:
    today: dt.date
    mobilisation_by: dt.date | None
    install_from: dt.date | None
    install_to: dt.date | None
    sites: list[SiteProgress]
    #: What the town's mobilisation board must raise for the station (recorders, disks, screens).
    station_needed_vnd: int

    @property
    def late(self) -> list[Late]:
        return [item for site in self.sites for item in site.late]


def _late_items(fleet: Fleet, cam: Camera, today: dt.date) -> list[Late]:
    b = fleet.town.budget
    out: list[Late] = []

    def due(date: dt.date | None, what: str) -> None:
        if date is not None and today > date:
            out.append(Late(cam.id, cam.site, what, date))

    if cam.kind is CameraKind.community:
        if campaign_step(cam) is not CampaignStep.confirmed:
            due(b.mobilisation_by, "campaign")
        hh = fleet.households.get(cam.household) if cam.household else None
        if hh is None or hh.consent.signed_on is None:
            due(b.mobilisation_by, "commitment")
        return out
    if cam.status is CameraStatus.planned:
        due(b.install_from, "survey")
    if cam.status not in DEPLOYED:
        due(b.install_to, "install")
    elif cam.status is CameraStatus.installed:
        due(b.install_to, "commission")
    if cam.status in DEPLOYED and (cam.sign is None or cam.sign.installed_on is None):
        due(b.install_to, "sign")
    return out


def progress(fleet: Fleet, today: dt.date) -> Progress:
    """Every khu phố's counts and late items on ``today`` (a parameter: the report's ``--today``)."""
    budget = budget_rows(fleet)
    money = {row.site_id: row for row in budget.sites}
    sites = []
    for site in fleet.sites.values():
        p = SiteProgress(site.id, site.name)
        for cam in fleet.cameras_of_site(site.id):
            if not _active(cam):
                continue
            p.planned += 1
            p.surveyed += cam.status in SURVEYED
            p.installed += cam.status in DEPLOYED
            p.commissioned += cam.status is CameraStatus.commissioned
            if cam.kind is CameraKind.town:
                p.town_cameras += 1
                p.signed += cam.sign is not None and cam.sign.installed_on is not None
            else:
                p.community += 1
                p.confirmed += campaign_step(cam) is CampaignStep.confirmed
                hh = fleet.households.get(cam.household) if cam.household else None
                p.commitments += hh is not None and hh.consent.signed_on is not None
            p.late += _late_items(fleet, cam, today)
        p.needed_vnd = money[site.id].site_fund_vnd
        p.raised_vnd = site.fund_vnd
        sites.append(p)
    b = fleet.town.budget
    return Progress(today, b.mobilisation_by, b.install_from, b.install_to, sites, budget.station_vnd)


# --------------------------------------------------------------------------- signs


@dataclass(frozen=True)
class SignRow:
    camera: str
    site: str
    street: str
    landmark: str | None
    installed_on: dt.date | None


def sign_rows(fleet: Fleet, site: str | None = None) -> list[SignRow]:
    """The signs to print: one per town camera that is not retired (of one khu phố, if given)."""
    return [
        SignRow(
            cam.id,
            cam.site,
            cam.location.street,
            cam.location.landmark,
            cam.sign.installed_on if cam.sign else None,
        )
        for cam in fleet.cameras.values()
        if cam.kind is CameraKind.town and _active(cam) and (site is None or cam.site == site)
    ]
