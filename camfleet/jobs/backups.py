"""Configuration backups that never replace a good one with a bad one, kept encrypted at rest.

Every export is checked whole before anything is written (:func:`check_export`, per format), then
encrypted with the town's vault password in ansible-vault's own format (``<device>.bin.vault``,
``<device>.rsc.vault``), written to a temporary file in the same folder, read back, and renamed over
the old one: a crash, a truncated export or a lying device leaves the last good backup in place.
A copied backup folder leaks nothing: the recorders' exports carry their cameras' pull-account
passwords (zlib-compressed, in the clear).

Read one back with Ansible's own tool (the town's vault identity of ansible.cfg), or with
:func:`read_backup`::

    .venv/bin/ansible-vault decrypt --output - backups/2026-12-05/nvr-01.bin.vault > nvr-01.bin
    .venv/bin/python -c "from camfleet.jobs.backups import decrypt_backup; import sys; \\
        sys.stdout.buffer.write(decrypt_backup('backups/2026-12-05/nvr-01.bin.vault', \\
        'inventory/ngoc-lac/vault-password.DEMO-ONLY'))" > nvr-01.bin
"""

from __future__ import annotations

import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from camfleet.drivers.routeros.config import ConfigTextError, parse_export
from camfleet.drivers.routeros.text import join_continuations
from camfleet.inventory.vault import VaultFormatError, decrypt_vault, encrypt_vault

#: What an encrypted backup's name ends with (after the export's own ``.bin`` / ``.rsc``).
SUFFIX = ".vault"
#: Smaller than this is no configuration export of any device camfleet drives.
MIN_BYTES = 32
#: Larger than this is refused before it is written (the biggest real recorder exports are a few MB).
MAX_BYTES = 64 * 1024 * 1024
#: Inflating a zlib stream to check it stops here (a hostile device's zip bomb costs no memory).
MAX_INFLATED = 256 * 1024 * 1024
#: The new export's size against the last good one's: outside this range it is refused, unless the
#: run says the change is expected (``accept_size_change``: a factory reset, 16 channels added).
SIZE_RATIO = (0.5, 8.0)
#: Folders of earlier days looked into for the last good backup (``backups/<date>/``).
MAX_EARLIER = 10


class BadBackup(ValueError):
    """An export that must not replace anything: why, in Vietnamese and in English."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


@dataclass(frozen=True)
class BackupVault:
    """The password (and vault id) backups are encrypted with: the town's own vault identity."""

    password: bytes = field(repr=False)
    vault_id: str | None = None

    @classmethod
    def from_file(cls, path: Path | str, vault_id: str | None = None) -> BackupVault:
        secret = Path(path).read_bytes().strip()
        if not secret:
            raise ValueError(f"the vault password file {path} is empty")
        return cls(secret, vault_id or None)


# --------------------------------------------------------------------------- the checks, per format


def check_export(kind: str, data: bytes, previous: bytes | None = None, *, accept_size_change: bool = False) -> None:
    """Raise :class:`BadBackup` unless ``data`` is a whole export of a ``kind`` device
    (``hikvision``, ``dahua``, ``routeros``; another kind gets the size checks only) whose size fits
    the last good one's (``previous``)."""
    if not data.strip(b"\0 \t\r\n"):
        raise BadBackup("tệp rỗng", "the export is empty")
    if len(data) > MAX_BYTES:
        raise BadBackup(f"quá lớn ({len(data)} byte)", f"too large ({len(data)} bytes)")
    if kind == "hikvision":
        _check_isapi(data)
    elif kind == "dahua":
        _check_dahua(data)
    elif kind == "routeros":
        _check_routeros(data)
    if len(data) < MIN_BYTES:
        raise BadBackup(f"chỉ có {len(data)} byte", f"only {len(data)} bytes")
    if previous and not accept_size_change:
        low, high = SIZE_RATIO
        ratio = len(data) / len(previous)
        if not low <= ratio <= high:
            raise BadBackup(
                f"kích thước {len(data)} byte, bản tốt gần nhất {len(previous)} byte (ngoài khoảng {low:g}-{high:g} lần)",
                f"{len(data)} bytes against {len(previous)} in the last good backup (outside {low:g}-{high:g}x;"
                " accept_size_change=true if the change is expected)",
            )


def _check_isapi(data: bytes) -> None:
    """Hikvision ``configurationData``: an opaque ``application/octet-stream`` file of the vendor's
    own (AES-encrypted on the builds people have taken apart), so what can be checked is that it is
    not a status document or a web page, and, where it is a zlib container (a zlib stream at its
    start, or after one text header line), that the stream runs to its end with nothing after."""
    if data.lstrip()[:1] == b"<":
        raise BadBackup(
            "thiết bị trả về trang XML/HTML, không phải tệp cấu hình", "an XML/HTML reply, not a configuration file"
        )
    line_end = data.find(b"\n", 0, 256)
    if line_end >= 3 and _printable(data[:line_end]) and _zlib_header(data[line_end + 1 : line_end + 3]):
        _check_zlib(data[line_end + 1 :], strict=True)
    elif _zlib_header(data[:2]):
        _check_zlib(data, strict=False)


def _printable(head: bytes) -> bool:
    return all(0x20 <= b < 0x7F for b in head.rstrip(b"\r"))


def _zlib_header(two: bytes) -> bool:
    """RFC 1950 §2.2: CM 8 (deflate), CINFO ≤ 7, no preset dictionary, FCHECK making it a multiple of 31."""
    return (
        len(two) == 2
        and two[0] & 0x0F == 8
        and two[0] >> 4 <= 7
        and not two[1] & 0x20
        and (two[0] << 8 | two[1]) % 31 == 0
    )


def _check_zlib(stream: bytes, *, strict: bool) -> None:
    """The stream must inflate to its end (bounded: :data:`MAX_INFLATED`) with nothing but padding after.
    ``strict`` False: bytes that only look like a zlib header (an encrypted file's first two bytes)
    and do not inflate at all are not a zlib stream, so nothing to check."""
    inflater = zlib.decompressobj()
    inflated, pending = 0, stream
    try:
        while pending and not inflater.eof:
            inflated += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
            if inflated > MAX_INFLATED:
                raise BadBackup("giải nén vượt giới hạn", f"inflates past {MAX_INFLATED} bytes")
    except zlib.error as err:
        if not strict and inflated == 0:
            return
        raise BadBackup("dữ liệu nén bị hỏng", f"the zlib stream is damaged ({err})") from None
    if not inflater.eof:
        raise BadBackup("dữ liệu nén bị cắt cụt", "the zlib stream is cut short (truncated export)")
    if inflater.unused_data.strip(b"\0"):
        raise BadBackup("có dữ liệu lạ sau phần nén", f"{len(inflater.unused_data)} stray bytes after the zlib stream")


_DAHUA_LINE = re.compile(r"table\.[A-Za-z0-9_]+[.\[][^=]*=.*")


def _check_dahua(data: bytes) -> None:
    """Dahua's ``configManager`` text (one ``getConfig`` reply after another): ``table.<Name>…=value``
    lines, each ended by CRLF. A line without ``=`` or a last line without its end is a cut reply."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadBackup("không phải văn bản UTF-8", f"not UTF-8 text (byte {err.start})") from None
    if not text.endswith("\n"):
        raise BadBackup("dòng cuối bị cắt", f"the last line is cut: {text.splitlines()[-1][:60]!r}")
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not _DAHUA_LINE.fullmatch(line.strip()):
            raise BadBackup(f"dòng {number} không đọc được", f"line {number} is not table.<name>=value: {line[:60]!r}")


def _check_routeros(data: bytes) -> None:
    """RouterOS ``/export`` text: its ``# … by RouterOS`` first line, every line whole (no dangling
    ``\\`` continuation, no open quote or ``[``), and all of it parses as
    :func:`camfleet.drivers.routeros.config.parse_export` reads it, with at least one ``/menu``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadBackup("không phải văn bản UTF-8", f"not UTF-8 text (byte {err.start})") from None
    lines = text.rstrip("\n").splitlines()
    if not lines or not re.match(r"# .*\bby RouterOS\b", lines[0]):
        raise BadBackup("thiếu dòng đầu của /export", "no '# ... by RouterOS' first line: not an /export")
    if lines[-1].endswith("\\"):
        raise BadBackup("dòng cuối bị cắt giữa chừng", "the last line ends in a continuation '\\': cut short")
    for number, line in enumerate(join_continuations("\n".join(lines)).splitlines(), 1):
        if _unclosed(line):
            raise BadBackup(
                f"dòng {number} bị cắt giữa chừng", f"line {number} leaves a quote or '[' open: {line[:60]!r}"
            )
    try:
        config = parse_export(text)
    except (ConfigTextError, ValueError) as err:
        raise BadBackup("không phân tích được /export", f"does not parse: {err}") from None
    if not config.sections:
        raise BadBackup("không có mục cấu hình nào", "holds no /menu section")


def _unclosed(line: str) -> bool:
    """Whether a console line ends inside a quoted string or a ``[ ... ]``."""
    quoted, depth, i = False, 0, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "[]":
            depth += 1 if ch == "[" else -1
        i += 1
    return quoted or depth > 0


# --------------------------------------------------------------------------- at rest: the vault


def read_backup(path: Path, vault: BackupVault) -> bytes:
    """The export a backup file holds: decrypted, or as it is when it predates encryption."""
    raw = path.read_bytes()
    if not raw.startswith(b"$ANSIBLE_VAULT;"):
        return raw
    return decrypt_vault(raw, vault.password)


def decrypt_backup(path: Path | str, password_file: Path | str) -> bytes:
    """What ``ansible-vault decrypt --output - <path>`` prints: the device's export (a way back
    without Ansible; :class:`~camfleet.inventory.vault.VaultFormatError` when the password is wrong)."""
    return read_backup(Path(path), BackupVault.from_file(password_file))


def names(device_id: str, ext: str) -> tuple[str, str]:
    """The encrypted backup's file name and the plaintext one it replaces (written before encryption)."""
    return f"{device_id}.{ext}{SUFFIX}", f"{device_id}.{ext}"


def candidates(dest: Path, device_id: str, ext: str) -> Iterator[Path]:
    """Where the last good backup may be: ``dest`` first, then the folders of earlier days beside
    it (``backups/<date>/``, newest name first), encrypted before plaintext."""
    folders = [dest]
    try:
        siblings = sorted((p for p in dest.parent.iterdir() if p.is_dir() and p != dest), reverse=True)
    except OSError:
        siblings = []
    folders += [p for p in siblings if p.name < dest.name][:MAX_EARLIER]
    for folder in folders:
        for name in names(device_id, ext):
            path = folder / name
            if path.is_file():
                yield path


@dataclass(frozen=True)
class LastGood:
    """The newest backup of a device that reads back whole, and what it holds."""

    path: Path
    content: bytes


def last_good(dest: Path, device_id: str, ext: str, kind: str, vault: BackupVault) -> LastGood | None:
    """The reference a new export is measured against (None on a device's first backup)."""
    for path in candidates(dest, device_id, ext):
        try:
            content = read_backup(path, vault)
            check_export(kind, content)
        except (OSError, VaultFormatError, BadBackup, ValueError):
            continue
        return LastGood(path, content)
    return None


def write_encrypted(path: Path, content: bytes, vault: BackupVault) -> None:
    """``content`` encrypted to ``path``: a temporary file beside it, flushed, read back and
    decrypted to the same bytes, then renamed over ``path`` (0600). On any failure the old file stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sealed = encrypt_vault(content, vault.password, vault.vault_id)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        if decrypt_vault(tmp.read_bytes(), vault.password) != content:
            raise OSError(f"{tmp} does not read back as written")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
