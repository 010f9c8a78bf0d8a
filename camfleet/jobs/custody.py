"""The chain of custody of footage: an append-only log, one JSON line per event, each line carrying the
SHA-256 of the line before it.

Every access to footage is an entry (request, refusal, approval, search, export, handover, import,
verification, deletion of a package): it is the record a court asks for and the access log the
personal-data law asks for (Law 91/2025/QH15, Decree 356/2025). People appear by id only; their
names stay in the vault.

Why a hash chain: an edited, removed or inserted line breaks the ``prev`` of the line after it, so
:func:`verify_chain` finds it without any key. Each entry also carries ``case_prev``, the hash of
the previous entry of the same case, so a package can carry only its own case's entries and
still prove they follow each other (:func:`verify_case_chain`). Lines are appended under an
exclusive lock and fsync'd; nothing ever rewrites the file.

    .venv/bin/python -c "from camfleet.jobs.custody import *; from pathlib import Path; \\
        log = CustodyLog(Path('/tmp/custody.jsonl')); log.append('request', 'VV-1', 'cb-01', window='...'); \\
        print(verify_chain(log.path.read_bytes()))"
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: ``prev`` of the first line of a log (and ``case_prev`` of a case's first entry).
GENESIS = "0" * 64
EVENTS = frozenset(
    {"request", "refusal", "approval", "search", "export", "handover", "import", "verification", "deletion"}
)


class CustodyError(Exception):
    """The log cannot be read or written; the message names the file and what to do."""


def line_hash(line: bytes) -> str:
    """The SHA-256 of one log line as written (without its newline)."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def encode(entry: dict[str, Any]) -> bytes:
    """One entry as its log line: compact JSON, keys sorted, UTF-8 (the bytes the next line hashes)."""
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Entry:
    """One log line, parsed; ``hash`` is the line's own SHA-256."""

    data: dict[str, Any]
    hash: str

    @property
    def case(self) -> str:
        return str(self.data.get("case", ""))

    @property
    def event(self) -> str:
        return str(self.data.get("event", ""))


def read_entries(raw: bytes) -> Iterator[tuple[int, Entry]]:
    """(line number, entry) of every non-empty line; ValueError naming the line that is not JSON."""
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise ValueError(f"line {number} is not a JSON entry") from None
        if not isinstance(data, dict):
            raise ValueError(f"line {number} is not a JSON object")
        yield number, Entry(data, line_hash(line))


class CustodyLog:
    """One town's custody log file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise CustodyError(f"cannot open the custody log {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)

    def append(self, event: str, case: str, actor: str | None, **details: Any) -> Entry:
        """Append one entry (under a lock, fsync'd); returns it with its hash."""
        if event not in EVENTS:
            raise ValueError(f"unknown custody event {event!r}")
        with self._locked() as fd:
            raw = _read_all(fd)
            prev, case_prev, seq = GENESIS, GENESIS, 0
            try:
                for _, entry in read_entries(raw):
                    prev, seq = entry.hash, int(entry.data.get("seq", seq))
                    if entry.case == case:
                        case_prev = entry.hash
            except ValueError as err:
                raise CustodyError(f"{self.path}: {err}; the log was damaged, nothing was appended") from None
            if raw and not raw.endswith(b"\n"):
                raise CustodyError(
                    f"{self.path}: the last line is incomplete; the log was damaged, nothing was appended"
                )
            data = {
                "seq": seq + 1,
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "event": event,
                "case": case,
                "actor": actor,
                "prev": prev,
                "case_prev": case_prev,
                **details,
            }
            line = encode(data)
            os.write(fd, line + b"\n")
            os.fsync(fd)
        return Entry(data, line_hash(line))

    def read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""

    def head(self) -> tuple[int, str]:
        """(seq, SHA-256) of the log's last line; (0, genesis) for an empty log."""
        seq, last = 0, GENESIS
        for _, entry in read_entries(self.read()):
            seq, last = int(entry.data.get("seq", seq + 1)), entry.hash
        return seq, last

    def case_lines(self, case: str) -> bytes:
        """The log's lines of one case, as written (what a package carries)."""
        out = [line for line in self.read().split(b"\n") if line.strip() and _case_of(line) == case]
        return b"".join(line + b"\n" for line in out)


def _case_of(line: bytes) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return str(data.get("case")) if isinstance(data, dict) else None


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def verify_chain(raw: bytes) -> list[str]:
    """Problems of a whole log: every line's ``prev`` is the hash of the line before, ``seq`` counts up."""
    problems: list[str] = []
    prev, seq = GENESIS, 0
    try:
        for number, entry in read_entries(raw):
            if entry.data.get("prev") != prev:
                problems.append(
                    f"line {number}: its prev is not the hash of the line before (a line was changed, removed or inserted)"
                )
            if entry.data.get("seq") != seq + 1:
                problems.append(f"line {number}: seq {entry.data.get('seq')} follows {seq}")
            prev, seq = entry.hash, int(entry.data.get("seq", seq + 1))
    except ValueError as err:
        problems.append(str(err))
    return problems


def verify_case_chain(raw: bytes, case: str) -> list[str]:
    """Problems of one case's entries (a package's excerpt): each ``case_prev`` is the hash of the case's
    entry before it, the first one's is the genesis, and every entry is of ``case``."""
    problems: list[str] = []
    prev = GENESIS
    try:
        for number, entry in read_entries(raw):
            if entry.case != case:
                problems.append(f"line {number}: an entry of case {entry.case!r}, not {case!r}")
            if entry.data.get("case_prev") != prev:
                problems.append(
                    f"line {number}: its case_prev is not the hash of the case's entry before (changed, removed or inserted)"
                )
            prev = entry.hash
    except ValueError as err:
        problems.append(str(err))
    return problems


def holds(raw: bytes, seq: int, digest: str) -> str | None:
    """None when the log's entry ``seq`` is the line whose SHA-256 is ``digest`` (a signed package's
    ``custody_log`` anchor), else what is wrong: a log cut, or rewritten before that line."""
    try:
        for number, entry in read_entries(raw):
            if entry.data.get("seq") == seq:
                if entry.hash == digest:
                    return None
                return (
                    f"line {number} (seq {seq}) is not the entry the package was sealed after (the log was rewritten)"
                )
    except ValueError as err:
        return str(err)
    return f"no entry seq {seq}: the log was cut after the package was sealed"
