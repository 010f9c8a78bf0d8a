"""An evidence package: the files of one case with proof they were not altered, and the check of that proof.

A package is a folder (and a zip of it) holding the clips, ``manifest.json`` (what each clip is and
its SHA-256), ``SHA256SUMS`` (every other file's SHA-256, checkable with ``sha256sum -c``),
``manifest.json.sig`` (an Ed25519 signature of the manifest by the station's key, base64),
``station-key.pub`` (the station's public key) and ``station-key.pem`` (the same as PEM, so that
OpenSSL alone checks the signature), the handover record, and ``custody.jsonl`` (the custody log's
entries of the case, :mod:`camfleet.jobs.custody`).

    base64 -d manifest.json.sig > /tmp/sig
    openssl pkeyutl -verify -pubin -inkey station-key.pem -rawin -in manifest.json -sigfile /tmp/sig

:func:`verify` needs nothing but the folder (and, to pin the key, the station's published
fingerprint): every file's hash, the signature, the manifest against the files, the custody
excerpt's chain. The signing key lives only in the town's vault (``vault_footage_signing_key``, the
32-byte Ed25519 seed in base64); it never enters a package, a log or an output.

    .venv/bin/camfleet footage verify out/VV-2026-0142
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from camfleet.jobs.custody import verify_case_chain
from camfleet.jobs.files import sha256_file, write_atomic

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
PUBLIC_KEY = "station-key.pub"
#: The same key as PEM (SubjectPublicKeyInfo), for checking the signature with OpenSSL alone.
PUBLIC_KEY_PEM = "station-key.pem"
SUMS = "SHA256SUMS"
CUSTODY = "custody.jsonl"
#: The vault variable holding the station's signing key (base64 of the 32-byte Ed25519 seed).
SIGNING_KEY_VAR = "vault_footage_signing_key"


class EvidenceError(Exception):
    """The package cannot be written or the key cannot be used; the message says what to do."""


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class SigningKey:
    """The station's Ed25519 key (the private part never leaves this object: no repr, no str)."""

    _private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def from_vault(cls, vault: dict[str, Any]) -> SigningKey:
        raw = vault.get(SIGNING_KEY_VAR)
        if not raw:
            raise EvidenceError(
                f"the vault has no {SIGNING_KEY_VAR}: generate one with 'camfleet footage key --new' "
                "and add it with ansible-vault edit"
            )
        try:
            seed = base64.b64decode(str(raw), validate=True)
            return cls(Ed25519PrivateKey.from_private_bytes(seed))
        except ValueError:
            raise EvidenceError(f"{SIGNING_KEY_VAR} in the vault is not a base64 Ed25519 key (32 bytes)") from None

    @classmethod
    def generate(cls) -> tuple[SigningKey, str]:
        """A new key, and its seed in base64 for the vault."""
        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes_raw()
        return cls(key), base64.b64encode(seed).decode()

    def public(self) -> bytes:
        return self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def public_key_text(public: bytes) -> str:
    """``station-key.pub``: the key in base64, with its fingerprint for a person to compare."""
    return f"ed25519 {base64.b64encode(public).decode()} fingerprint={fingerprint(public)}\n"


def fingerprint(public: bytes) -> str:
    """SHA-256 of the raw public key, first 16 bytes in hex groups: what the station publishes."""
    digest = hashlib.sha256(public).hexdigest()[:32]
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def read_public_key(text: str) -> bytes:
    parts = text.split()
    if len(parts) < 2 or parts[0] != "ed25519":
        raise ValueError("not an 'ed25519 <base64>' public key")
    raw = base64.b64decode(parts[1], validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


# --------------------------------------------------------------------------- files


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written and signed (stable: keys sorted, UTF-8, indented for a reader)."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def seal(
    folder: Path,
    manifest: dict[str, Any],
    key: SigningKey,
    custody_excerpt: bytes,
    extra: Iterable[str],
    *,
    town_head: tuple[int, str] | None = None,
) -> None:
    """Write the manifest, its signature, the public key, the custody excerpt, and SHA256SUMS over
    every file of the package (``extra``: files already written, relative to ``folder``).

    The signed manifest names the SHA-256 of the custody excerpt and of every ``extra`` document
    (``documents``), so none of them can be edited and re-hashed without the station's key, and,
    with ``town_head`` (seq, hash of the town log's last line when sealing), where the package sits
    in the town's log: a log later cut or rewritten before that line no longer matches a package
    the authority holds (:func:`camfleet.jobs.custody.holds`)."""
    extra = sorted(set(extra))
    documents = [{"file": name, "sha256": sha256_file(folder / name)} for name in extra]
    documents.append({"file": CUSTODY, "sha256": hashlib.sha256(custody_excerpt).hexdigest()})
    manifest["documents"] = documents
    if town_head is not None:
        manifest["custody_log"] = {"seq": town_head[0], "head_sha256": town_head[1]}
    data = manifest_bytes(manifest)
    write_atomic(folder / MANIFEST, data)
    write_atomic(folder / SIGNATURE, base64.b64encode(key.sign(data)) + b"\n")
    write_atomic(folder / PUBLIC_KEY, public_key_text(key.public()).encode())
    pem = Ed25519PublicKey.from_public_bytes(key.public()).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    write_atomic(folder / PUBLIC_KEY_PEM, pem)
    write_atomic(folder / CUSTODY, custody_excerpt)
    names = sorted(
        {
            *extra,
            *(c["file"] for c in manifest.get("clips", [])),
            MANIFEST,
            SIGNATURE,
            PUBLIC_KEY,
            PUBLIC_KEY_PEM,
            CUSTODY,
        }
    )
    # A clip's SHA-256 was taken from the file when it was written (export, import): not read again.
    known = {str(c["file"]): str(c["sha256"]) for c in manifest.get("clips", []) if c.get("sha256")}
    lines = [f"{known.get(name) or sha256_file(folder / name)}  {name}\n" for name in names]
    write_atomic(folder / SUMS, "".join(lines).encode())


def zip_package(folder: Path) -> Path:
    """``<folder>.zip`` of the package (stored, not compressed: video does not compress, and a stored
    zip is read by every tool)."""
    target = folder.with_suffix(".zip")
    fd, tmp = tempfile.mkstemp(dir=folder.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --------------------------------------------------------------------------- verify


@dataclass
class Verification:
    """What :func:`verify` found: ``problems`` empty means intact."""

    package: Path
    case: str = ""
    files: int = 0
    fingerprint: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(folder: Path, *, expected_fingerprint: str | None = None) -> Verification:
    """Check a package anywhere, offline: every hash, the signature, the manifest against the files,
    the custody excerpt's chain. Each problem names the file."""
    result = Verification(folder)
    problems = result.problems
    if not folder.is_dir():
        problems.append(f"{folder}: no such package folder")
        return result
    try:
        manifest_raw = (folder / MANIFEST).read_bytes()
        manifest = json.loads(manifest_raw)
    except FileNotFoundError:
        problems.append(f"{MANIFEST}: missing")
        return result
    except ValueError:
        problems.append(f"{MANIFEST}: not JSON")
        return result
    result.case = str(manifest.get("case", ""))
    _check_signature(folder, manifest_raw, result, expected_fingerprint)
    sums = _read_sums(folder, problems)
    listed = set(sums)
    hashed: dict[str, str] = {}

    def digest_of(path: Path) -> str:  # each file read once, however many lists name it
        key = str(path)
        if key not in hashed:
            hashed[key] = sha256_file(path)
        return hashed[key]

    for name, digest in sorted(sums.items()):
        if _outside(name):
            problems.append(f"{SUMS}: {name!r} points outside the package")
            continue
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing (listed in {SUMS})")
        elif digest_of(path) != digest:
            problems.append(f"{name}: changed (its SHA-256 is not the one in {SUMS})")
        result.files += 1
    documents = manifest.get("documents")
    if not isinstance(documents, list) or not any(isinstance(d, dict) and d.get("file") == CUSTODY for d in documents):
        problems.append(f"{MANIFEST}: names no custody excerpt (a package sealed without it)")
        documents = documents if isinstance(documents, list) else []
    named = [("clip file", c) for c in manifest.get("clips", [])] + [("document", d) for d in documents]
    for kind, entry in named:
        name = str(entry.get("file", "")) if isinstance(entry, dict) else ""
        if _outside(name):
            problems.append(f"{MANIFEST}: {kind} {name!r} points outside the package")
            continue
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing (listed in {MANIFEST})")
            continue
        if name not in listed:
            problems.append(f"{name}: not in {SUMS}")
        if digest_of(path) != entry.get("sha256"):
            problems.append(f"{name}: changed (its SHA-256 is not the one in {MANIFEST})")
        if kind == "clip file" and path.stat().st_size != entry.get("size_bytes"):
            problems.append(f"{name}: its size is not the one in {MANIFEST}")
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {SUMS}
    for name in sorted(on_disk - listed):
        problems.append(f"{name}: not in {SUMS} (a file was added)")
    try:
        custody = (folder / CUSTODY).read_bytes()
    except FileNotFoundError:
        problems.append(f"{CUSTODY}: missing")
    else:
        problems += [f"{CUSTODY}: {p}" for p in verify_case_chain(custody, result.case)]
        if not custody.strip():
            problems.append(f"{CUSTODY}: empty")
    return result


def _outside(name: str) -> bool:
    """A listed name that is empty or leads out of the package folder."""
    return not name or Path(name).is_absolute() or ".." in Path(name).parts


def _check_signature(folder: Path, manifest_raw: bytes, result: Verification, expected: str | None) -> None:
    try:
        public = read_public_key((folder / PUBLIC_KEY).read_text(encoding="utf-8"))
        signature = base64.b64decode((folder / SIGNATURE).read_bytes().strip(), validate=True)
    except FileNotFoundError as exc:
        result.problems.append(f"{Path(str(exc.filename)).name}: missing")
        return
    except ValueError as exc:
        result.problems.append(f"{PUBLIC_KEY} or {SIGNATURE}: unreadable ({exc})")
        return
    result.fingerprint = fingerprint(public)
    try:
        pem = load_pem_public_key((folder / PUBLIC_KEY_PEM).read_bytes())
    except FileNotFoundError:
        result.problems.append(f"{PUBLIC_KEY_PEM}: missing")
    except ValueError:
        result.problems.append(f"{PUBLIC_KEY_PEM}: not a PEM public key")
    else:
        if not isinstance(pem, Ed25519PublicKey) or pem.public_bytes(Encoding.Raw, PublicFormat.Raw) != public:
            result.problems.append(f"{PUBLIC_KEY_PEM}: not the key of {PUBLIC_KEY}")
    if expected is not None and expected.replace(" ", "").lower() != result.fingerprint.lower():
        result.problems.append(f"{PUBLIC_KEY}: fingerprint {result.fingerprint} is not the station's {expected}")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, manifest_raw)
    except InvalidSignature:
        result.problems.append(
            f"{SIGNATURE}: the signature does not match {MANIFEST} (edited, or signed by another key)"
        )


def _read_sums(folder: Path, problems: list[str]) -> dict[str, str]:
    try:
        text = (folder / SUMS).read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(f"{SUMS}: missing")
        return {}
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(f"{SUMS}: line {number} is not '<sha256>  <file>'")
            continue
        sums[name] = digest
    return sums
