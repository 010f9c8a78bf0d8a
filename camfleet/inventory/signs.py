"""Recording a 'CAMERA AN NINH' sign in the town's files: the date it went up and, optionally, its photo.

``camfleet sign`` calls :func:`record_sign`. The camera's ``sign:`` block in its khu phố file is
edited in place (:func:`camfleet.inventory.edit.set_block`: comments, order and indentation kept);
the whole town is validated with the edit before anything is written, so a refused edit leaves the
folder as it was. The photo is copied to ``photos/signs/<camera>.<jpg|png>`` in the town folder::

    .venv/bin/camfleet sign cam-02-t05 --installed-on 2024-01-10 --inventory inventory/ngoc-lac
"""

from __future__ import annotations

import datetime as dt
import difflib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from camfleet.inventory import glossary
from camfleet.inventory.edit import EditError, Scalar, Validator, set_block
from camfleet.inventory.loader import inventory_files, load
from camfleet.inventory.problems import InventoryError, Problem
from camfleet.model import DEPLOYED, CameraKind

PHOTO_FOLDER = Path("photos") / "signs"
MAX_PHOTO_BYTES = 25 * 1024 * 1024
_MAGIC = {b"\xff\xd8\xff": ".jpg", b"\x89PNG\r\n\x1a\n": ".png"}


class SignError(ValueError):
    """The sign cannot be recorded; the message is one line naming the camera (or the file)."""


@dataclass(frozen=True)
class SignRecorded:
    camera: str
    file: Path
    changed: bool
    photo: Path | None


def photo_suffix(photo: Path) -> str:
    """``.jpg`` or ``.png`` from the file's first bytes (its name may say anything)."""
    try:
        size = photo.stat().st_size
        with photo.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise SignError(f"{photo}: không đọc được ảnh / cannot read the photo: {exc.strerror}") from None
    if size > MAX_PHOTO_BYTES:
        raise SignError(f"{photo}: ảnh quá lớn ({size // 2**20} MB > 25 MB) / photo too large")
    for magic, suffix in _MAGIC.items():
        if head.startswith(magic):
            return suffix
    raise SignError(f"{photo}: không phải ảnh JPEG hay PNG / not a JPEG or PNG photo")


def _validator(folder: Path, edited: Path) -> Validator:
    """A validator for set_block: the town's data files copied to a scratch folder with the edit, loaded."""

    def validate(new_text: str) -> None:
        with tempfile.TemporaryDirectory(prefix="camfleet-sign-") as tmp:
            scratch = Path(tmp)
            for path in inventory_files(folder):
                target = scratch / path.relative_to(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                if path.resolve() == edited.resolve():
                    target.write_text(new_text, encoding="utf-8")
                else:
                    shutil.copyfile(path, target)
            try:
                load(scratch, overlay=False)
            except InventoryError as exc:
                first = next((p for p in exc.problems if p.severity == "error"), exc.problems[0])
                where = folder / first.file.relative_to(scratch) if first.file.is_relative_to(scratch) else first.file
                shown = Problem(where, first.line, first.field, first.message, first.severity)
                raise SignError(
                    f"sau khi sửa, kho dữ liệu không hợp lệ / the edit would make it invalid: {shown}"
                ) from None

    return validate


def record_sign(
    folder: Path | str, camera_id: str, installed_on: dt.date, today: dt.date | None = None, photo: Path | None = None
) -> SignRecorded:
    """Write ``sign.installed_on`` (and ``sign.photo``) for ``camera_id``; SignError (one line) if refused.
    ``today`` defaults to the town's own day (its time zone), so a sign put up this morning is not refused
    as "in the future" on a machine running on UTC."""
    folder = Path(folder)
    try:
        fleet = load(folder, overlay=False).fleet
    except InventoryError as exc:
        first = exc.problems[0]
        raise SignError(
            f"{folder}: kho dữ liệu có lỗi, sửa trước / fix the inventory first ({len(exc.problems)}): {first}"
        ) from None
    cam = fleet.cameras.get(camera_id)
    if cam is None:
        close = difflib.get_close_matches(camera_id, list(fleet.cameras), n=3, cutoff=0.6)
        hint = f"; có phải / did you mean: {', '.join(close)}?" if close else ""
        raise SignError(f"{camera_id}: không có camera này trong {folder} / no such camera{hint}")
    if cam.kind is not CameraKind.town:
        raise SignError(f"{camera_id}: camera loại hình 1 (của chủ hộ) không có biển / a community camera has no sign")
    if cam.status not in DEPLOYED:
        raise SignError(
            f"{camera_id}: camera {glossary.STATUS[cam.status.value].vi}, chưa lắp đặt; lắp camera trước / "
            f"the camera is {cam.status.value}, not installed yet; install it first"
        )
    if today is None:
        today = dt.datetime.now(ZoneInfo(fleet.town.timezone)).date()
    if installed_on > today:
        raise SignError(
            f"{camera_id}: ngày {installed_on.isoformat()} ở tương lai (hôm nay {today.isoformat()}) / "
            "the date is in the future"
        )
    values: dict[str, Scalar] = {"installed_on": installed_on}
    target: Path | None = None
    if photo is not None:
        suffix = photo_suffix(photo)
        rel = PHOTO_FOLDER / f"{camera_id}{suffix}"
        target = folder / rel
        values["photo"] = rel.as_posix()
    origin = fleet.origin("cameras", camera_id)
    staged: Path | None = None
    try:
        if photo is not None and target is not None:
            # Staged beside its place first: the inventory never names a photo that is not there.
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = target.with_name(target.name + ".tmp")
            shutil.copyfile(photo, staged)
        changed = set_block(origin.file, origin.path, "sign", values, validate=_validator(folder, origin.file))
        if staged is not None and target is not None:
            staged.replace(target)
            staged = None
    except EditError as exc:
        raise SignError(f"{camera_id}: {exc}") from None
    except OSError as exc:
        raise SignError(f"{camera_id}: không ghi được / cannot write: {exc.filename}: {exc.strerror}") from None
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
    return SignRecorded(camera_id, origin.file, changed, target)
