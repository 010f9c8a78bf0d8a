"""One Vietnamese word (and its English) for each thing, shared by every report and message.

The plan's documents are read side by side; a recorder that is "đầu ghi" in one and "đầu thu" in
another, or a planned camera printed "kế hoạch", reads as two different things. Reports
(:mod:`camfleet.reports`) and the inventory's messages take their words from here, so a word is
changed once::

    .venv/bin/python -c "from camfleet.inventory.glossary import STATUS; print(STATUS['planned'])"
"""

from __future__ import annotations

from dataclasses import dataclass

from camfleet.model import CameraKind, CameraStatus, CampaignStep, Funding, OwnerKind, TownKind


@dataclass(frozen=True)
class Term:
    """A word in Vietnamese and in English."""

    vi: str
    en: str

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}"


#: Letters only Vietnamese writes: a message holding one before its " / " is Vietnamese first already.
VIETNAMESE_LETTERS = frozenset("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


def vietnamese_first(text: str) -> bool:
    """Whether ``text`` says something in Vietnamese before its first " / " (or anywhere, without one):
    the rule for every message a person reads (tests/unit/test_vietnamese_first.py)."""
    return any(ch in VIETNAMESE_LETTERS for ch in text.split(" / ", 1)[0].lower())


# Things
CAMERA = Term("mắt camera", "camera")
RECORDER = Term("đầu ghi", "recorder (NVR)")
DISK = Term("ổ cứng", "hard disk")
SITE = Term("khu phố", "neighbourhood")
SIGN = Term("biển CAMERA AN NINH", "sign")
COMMITMENT = Term("bản cam kết", "signed commitment")
FIRMWARE_UNKNOWN = Term("chưa đọc được", "not read")

#: A camera's lifecycle (``CameraStatus``).
STATUS: dict[str, Term] = {
    CameraStatus.planned.value: Term("dự kiến", "planned"),
    CameraStatus.surveyed.value: Term("đã khảo sát", "surveyed"),
    CameraStatus.installed.value: Term("đã lắp đặt", "installed"),
    CameraStatus.commissioned.value: Term("đã nghiệm thu", "commissioned"),
    CameraStatus.faulty.value: Term("hỏng", "faulty"),
    CameraStatus.retired.value: Term("đã thu hồi", "retired"),
}

#: The loại hình 1 campaign's steps for a community camera (``CampaignStep``).
CAMPAIGN: dict[str, Term] = {
    CampaignStep.surveyed.value: Term("đã khảo sát", "surveyed"),
    CampaignStep.asked.value: Term("đã vận động", "asked"),
    CampaignStep.re_aimed.value: Term("đã chỉnh hướng", "re-aimed"),
    CampaignStep.confirmed.value: Term("đã xác nhận", "confirmed"),
}

#: The town's own word (``Town.kind``): a xã, a phường or a thị trấn runs the plan; its committee,
#: police and mobilisation board take the same word ("UBND xã", "Công an phường").
TOWN_KIND: dict[str, Term] = {
    TownKind.xa.value: Term("xã", "commune"),
    TownKind.phuong.value: Term("phường", "ward"),
    TownKind.thi_tran.value: Term("thị trấn", "town"),
}


@dataclass(frozen=True)
class TownWords:
    """The words that name a town of one kind, in context::

    .venv/bin/python -c "from camfleet.inventory.glossary import town_words; print(town_words('xã').police)"
    """

    kind: Term

    @property
    def word(self) -> str:
        """In running text: "xã", "phường", "thị trấn"."""
        return self.kind.vi

    @property
    def title(self) -> str:
        """At the start of a sentence or a title: "Xã", "Phường", "Thị trấn"."""
        return self.kind.vi[:1].upper() + self.kind.vi[1:]

    @property
    def upper(self) -> str:
        """On a heading or a sign: "XÃ", "PHƯỜNG", "THỊ TRẤN"."""
        return self.kind.vi.upper()

    @property
    def whole(self) -> Term:
        """The whole town, a dashboard's or a report's scope ("Toàn xã")."""
        return Term(f"Toàn {self.word}", f"whole {self.kind.en}")

    @property
    def committee(self) -> Term:
        """The People's Committee ("UBND xã")."""
        return Term(f"UBND {self.word}", f"{self.kind.en} People's Committee")

    @property
    def police(self) -> Term:
        """The police station where the recorders are ("Công an xã")."""
        return Term(f"Công an {self.word}", f"{self.kind.en} police station")

    @property
    def board(self) -> Term:
        """The mobilisation board that raises the station's money ("Ban vận động xã")."""
        return Term(f"Ban vận động {self.word}", f"{self.kind.en} mobilisation board")


def town_words(kind: str) -> TownWords:
    """The words for a town of this kind (``fleet.town.kind``: "xã", "phường" or "thị trấn")."""
    return TownWords(TOWN_KIND[TownKind(kind).value])


def funding(kind: str) -> dict[str, Term]:
    """Who pays, in a town of this kind: the plan is xã hội hóa throughout (khu phố funds for cameras,
    the town's mobilisation board for the station's recorders, disks and screens)."""
    board = town_words(kind).board
    return {
        Funding.site_fund.value: Term("Quỹ khu phố (xã hội hóa)", "khu phố fund (community-raised)"),
        Funding.town_board.value: Term(f"{board.vi} (xã hội hóa)", f"{board.en} (community-raised)"),
        Funding.owner.value: Term("Chủ camera tự có", "owner's own camera"),
        Funding.donation.value: Term("Tài trợ (xã hội hóa)", "donation"),
    }


#: Who pays, in words that fit any kind of town (``funding(kind)`` names the town's own board).
FUNDING: dict[str, Term] = {
    **funding(TownKind.thi_tran.value),
    Funding.town_board.value: Term("Ban vận động (xã hội hóa)", "mobilisation board (community-raised)"),
}

KIND: dict[str, Term] = {
    CameraKind.community.value: Term("loại hình 1", "community camera"),
    CameraKind.town.value: Term("loại hình 2", "town camera"),
}

OWNER: dict[str, Term] = {
    OwnerKind.household.value: Term("hộ gia đình", "household"),
    OwnerKind.business.value: Term("cơ sở kinh doanh", "business"),
    OwnerKind.agency.value: Term("cơ quan", "agency"),
    OwnerKind.school.value: Term("trường học", "school"),
}

DONE = Term("xong", "done")
YES = Term("có", "yes")
NO = Term("chưa", "not yet")

#: What is left to do for a community camera (``progress.SurveyRow.todo``).
TODO: dict[str, Term] = {
    CampaignStep.surveyed.value: Term("khảo sát", "survey"),
    CampaignStep.asked.value: Term("vận động chủ camera", "ask the owner"),
    CampaignStep.re_aimed.value: Term("chỉnh hướng ra đường", "re-aim at the street"),
    CampaignStep.confirmed.value: Term("khu phố xác nhận góc quay", "khu phố confirms the view"),
    "commitment": Term("ký bản cam kết", "sign the commitment"),
}

#: What is late against the plan's dates (``progress.Late.what``).
LATE: dict[str, Term] = {
    "campaign": Term("chưa xong vận động loại hình 1", "campaign not done"),
    "commitment": Term("chưa ký bản cam kết", "commitment not signed"),
    "survey": Term("chưa khảo sát", "not surveyed"),
    "install": Term("chưa lắp đặt", "not installed"),
    "commission": Term("chưa nghiệm thu", "not commissioned"),
    "sign": Term("chưa lắp biển CAMERA AN NINH", "sign not up"),
}
