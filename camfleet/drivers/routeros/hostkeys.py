"""Pinned SSH host keys of the link routers: checked before any password is sent, by netmiko
(paramiko) and by the exporter's reader (asyncssh) alike.

The keys live in one OpenSSH ``known_hosts`` file per town, keyed by the router's **device id**
(as OpenSSH's ``HostKeyAlias`` does), not by its address: ``inventory/<town>/known_hosts`` for the
real routers, and, while the simulator's overlay is in use, ``known_hosts`` beside the overlay (in
the simulator's state folder) — simulated routers are other machines with other keys, and their
pins never mix with the real ones.

Three ways to meet a key (:class:`Mode`): the exporter only *checks* (an unknown router fails with
``host_key_unknown``, nothing sent); the jobs people run *record* a router's key at first contact
(trust on first use) and say so; a technician who replaced or reinstalled a router *accepts* its
new key, for that router only (``-e links_accept_host_key=<router-id>``). A changed key is refused
before authentication, in one line naming the router and both fingerprints.

The file reads with OpenSSH too::

    ssh -o HostKeyAlias=lr-01-01 -o UserKnownHostsFile=inventory/ngoc-lac/known_hosts \\
        -o StrictHostKeyChecking=yes admin@<router address>
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from camfleet.drivers.errors import DriverError
from camfleet.inventory.fleet import Fleet
from camfleet.inventory.glossary import Term

#: The store's file name, in the town folder or beside the simulator's overlay.
KNOWN_HOSTS = "known_hosts"
#: What a technician types to accept a router's new key (the links playbook's option).
ACCEPT_OPTION = "-e links_accept_host_key={router}"
HEADER = (
    "# SSH host keys of the link routers, by router id (OpenSSH known_hosts, as with HostKeyAlias).\n"
    "# Recorded by camfleet at first contact (playbooks/links.yml); a changed key is refused.\n"
)


class Mode(StrEnum):
    """How a connection treats a router's key."""

    CHECK = "check"  # only a pinned key passes (the exporter)
    RECORD = "record"  # an unknown router's key is pinned at first contact (trust on first use)
    ACCEPT = "accept"  # a changed key replaces the pinned one (the technician said so)


def store_path(fleet: Fleet) -> Path:
    """Where ``fleet``'s routers' keys are pinned: beside the simulator's overlay when one applies."""
    if fleet.overlay_file is not None:
        return Path(fleet.overlay_file).parent / KNOWN_HOSTS
    return fleet.folder / KNOWN_HOSTS


def fingerprint(blob: bytes) -> str:
    """OpenSSH's ``SHA256:…`` fingerprint of a public key blob (as ``ssh-keygen -lf`` prints it)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class HostKey:
    """A public host key: its algorithm name (``ssh-ed25519``, ``ssh-rsa``…) and SSH wire blob."""

    algorithm: str
    blob: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    def openssh(self) -> str:
        return f"{self.algorithm} {base64.b64encode(self.blob).decode()}"


class HostKeyError(DriverError):
    """The router's key is not the pinned one (or none is pinned): nothing was sent to it.

    ``reason`` is the exporter's failure label. The message is one line, Vietnamese then English,
    and is never cut (the fingerprints and the command to type must survive whole).
    """

    reason = "host_key"
    label = Term("khóa SSH của router không khớp", "host key not the pinned one")

    def __str__(self) -> str:
        return f"{self.device_id}: {' '.join(self.message.split())}"


class HostKeyUnknown(HostKeyError):
    reason = "host_key_unknown"


class HostKeyChanged(HostKeyError):
    reason = "host_key_changed"


class KnownHosts:
    """One ``known_hosts`` file: router id → its pinned keys. Read again only when the file changed;
    written under a lock on its folder, by an atomic replace (Ansible's workers record at once)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._read: tuple[tuple[int, int, int], dict[str, list[HostKey]]] | None = None

    def keys(self, router_id: str) -> list[HostKey]:
        """The keys pinned for ``router_id`` (empty when none); HostKeyError naming file:line on a bad line."""
        return list(self._entries(router_id).get(router_id, []))

    def _entries(self, router_id: str) -> dict[str, list[HostKey]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self._read is None or self._read[0] != stamp:
            self._read = (stamp, self._parse(self.path.read_bytes(), router_id))
        return self._read[1]

    def _parse(self, data: bytes, router_id: str) -> dict[str, list[HostKey]]:
        out: dict[str, list[HostKey]] = {}
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            try:
                if len(fields) < 3:
                    raise ValueError
                blob = base64.b64decode(fields[2], validate=True)
            except (ValueError, binascii.Error):
                raise HostKeyError(
                    router_id,
                    f"dòng {number} của {self.path} hỏng, không kiểm tra được khóa máy chủ SSH; sửa hoặc xóa dòng đó / "
                    f"{self.path}:{number}: not a known_hosts line (id, key type, base64 key); fix or delete it",
                ) from None
            for name in fields[0].split(","):
                out.setdefault(name, []).append(HostKey(fields[1], blob))
        return out

    def pin(self, router_id: str, key: HostKey, *, replace: bool) -> list[HostKey]:
        """Pin ``key`` for ``router_id`` and return the keys pinned before. Without ``replace`` nothing
        is written when another process pinned one meanwhile (the caller compares again)."""
        with self._locked():
            self._read = None
            before = self.keys(router_id)
            if before and not replace:
                return before
            text = self.path.read_text(encoding="utf-8") if self.path.exists() else HEADER
            kept = [ln for ln in text.splitlines(keepends=True) if not _names(ln, router_id)]
            if kept and not kept[-1].endswith("\n"):
                kept[-1] += "\n"
            kept.append(f"{router_id} {key.openssh()}\n")
            self._write("".join(kept))
            return before

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _write(self, text: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{KNOWN_HOSTS}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # public keys: readable, like ~/.ssh/known_hosts
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


_STORES: dict[Path, KnownHosts] = {}


def known_hosts(fleet: Fleet) -> KnownHosts:
    """The town's store (one object per file in a process, so the exporter parses it once per change)."""
    path = store_path(fleet)
    found = _STORES.get(path)
    if found is None:
        found = _STORES[path] = KnownHosts(path)
    return found


def _names(line: str, router_id: str) -> bool:
    fields = line.split()
    return bool(fields) and not fields[0].startswith("#") and router_id in fields[0].split(",")


class Pin:
    """One router's key check for one connection: the store, the router, the :class:`Mode`.

    :meth:`verify` is called with the key the router presented, after the key exchange and before
    any authentication; ``note`` then says what was written, if anything (for the job's result).
    """

    def __init__(self, store: KnownHosts, router_id: str, mode: Mode) -> None:
        self.store = store
        self.router_id = router_id
        self.mode = mode
        self.note = ""

    @classmethod
    def for_fleet(cls, fleet: Fleet, router_id: str, mode: Mode) -> Pin:
        return cls(known_hosts(fleet), router_id, mode)

    def pinned(self) -> list[HostKey]:
        return self.store.keys(self.router_id)

    def require_pinned(self) -> list[HostKey]:
        """The pinned keys; HostKeyUnknown when there are none (the exporter never records)."""
        keys = self.pinned()
        if not keys:
            raise HostKeyUnknown(
                self.router_id,
                f"chưa có khóa máy chủ SSH của router này trong {self.store.path}, không đăng nhập; chạy "
                f"playbooks/links.yml một lần để ghi / no pinned SSH host key for this router in {self.store.path}: "
                "not logged in; run playbooks/links.yml once to record it",
            )
        return keys

    def verify(self, algorithm: str, blob: bytes) -> None:
        """Pass, record or refuse the key the router presented (see :class:`Mode`)."""
        offered = HostKey(algorithm, blob)
        pinned = self.pinned()
        if offered in pinned:
            return
        if not pinned and self.mode is Mode.CHECK:
            self.require_pinned()
        if pinned and self.mode is not Mode.ACCEPT:
            raise self.changed(pinned, offered)
        before = self.store.pin(self.router_id, offered, replace=self.mode is Mode.ACCEPT)
        if before and self.mode is not Mode.ACCEPT:  # another worker pinned one meanwhile
            if offered not in before:
                raise self.changed(before, offered)
            return
        if before:
            old = ", ".join(k.fingerprint for k in before)
            self.note = (
                f"đã thay khóa máy chủ SSH {old} bằng {offered.fingerprint} theo yêu cầu / "
                f"replaced SSH host key {old} with {offered.fingerprint} as asked"
            )
        else:
            self.note = (
                f"đã ghi khóa máy chủ SSH {offered.fingerprint} (lần kết nối đầu) vào {self.store.path} / "
                f"recorded SSH host key {offered.fingerprint} (first contact) in {self.store.path}"
            )

    def changed(self, pinned: list[HostKey], offered: HostKey) -> HostKeyChanged:
        old = ", ".join(k.fingerprint for k in pinned)
        option = ACCEPT_OPTION.format(router=self.router_id)
        return HostKeyChanged(
            self.router_id,
            f"khóa máy chủ SSH đã đổi (đã ghi {old}, nay {offered.fingerprint}), không gửi mật khẩu; có thể máy "
            f"khác đang trả lời thay router. Nếu router vừa được thay hoặc cài lại, kiểm tra tại chỗ rồi chạy lại "
            f"playbooks/links.yml {option} / SSH host key changed (pinned {old}, now {offered.fingerprint}): "
            f"password not sent; another machine may be answering for the router. If it was replaced or "
            f"reinstalled, check on site, then run playbooks/links.yml {option}",
        )

    def preferred_algorithms(self) -> list[str]:
        """Host key algorithms to ask for first: the pinned keys' (an RSA key signs as rsa-sha2-*)."""
        out: list[str] = []
        for key in self.pinned():
            names = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if key.algorithm == "ssh-rsa" else [key.algorithm]
            out += [n for n in names if n not in out]
        return out
