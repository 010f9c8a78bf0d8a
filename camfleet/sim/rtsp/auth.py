"""RTSP's HTTP Digest as cameras do it (RFC 2617): MD5, no qop offered, qop=auth accepted, Basic
only where the profile allows it.

Why not :mod:`camfleet.sim.digest` (the HTTP APIs' digest): the RTSP service of these cameras
keeps no lock-out and no nonce table; its nonces are stateless (an HMAC of their issue time),
so a thousand cameras remember nothing per client and a client may reuse a nonce with
``nc`` + 1. A nonce older than 5 minutes is answered ``stale``.

Reproduce by hand (the server of ``python -m camfleet.sim.rtsp``)::

    ffprobe -rtsp_transport tcp rtsp://admin:WRONG@127.0.0.9:8554/Streaming/Channels/101   # 401
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from typing import Literal

_NONCE_LIFETIME_S = 300


def _digest_fields(header: str) -> dict[str, str]:
    return {k.lower(): v1 if v1 else v2 for k, v1, v2 in re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))', header)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class RtspDigest:
    """RFC 2617 digest as cameras do it: MD5, no qop offered, qop=auth accepted; Basic only if allowed.

    Nonces are stateless (an HMAC of their issue time), so a thousand cameras
    keep no nonce table and a client may reuse a nonce with ``nc`` + 1.
    """

    def __init__(self, realm: str, users: Callable[[], dict[str, str]], allow_basic: bool = False) -> None:
        self.realm = realm
        self.users = users
        self.allow_basic = allow_basic
        self._secret = secrets.token_bytes(16)

    def _nonce(self, issued: int) -> str:
        stamp = f"{issued:08x}"
        return hmac.new(self._secret, stamp.encode(), "sha256").hexdigest()[:24] + stamp

    def _nonce_age(self, nonce: str) -> float | None:
        """Seconds since issue, or None when the nonce is not one of ours."""
        if len(nonce) != 32:
            return None
        try:
            issued = int(nonce[24:], 16)
        except ValueError:
            return None
        return time.time() - issued if hmac.compare_digest(self._nonce(issued), nonce) else None

    def challenge(self, stale: bool = False) -> list[tuple[str, str]]:
        nonce = self._nonce(int(time.time()))
        headers = [("WWW-Authenticate", f'Digest realm="{self.realm}", nonce="{nonce}", stale="{str(stale).upper()}"')]
        if self.allow_basic:
            headers.append(("WWW-Authenticate", f'Basic realm="{self.realm}"'))
        return headers

    def check(self, method: str, authorization: str | None) -> Literal["ok", "stale", "denied"]:
        users = self.users()
        if not users or not authorization:
            return "denied"
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() == "basic" and self.allow_basic:
            try:
                user, _, password = base64.b64decode(rest.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return "denied"
            ok = user in users and hmac.compare_digest(users[user].encode(), password.encode())
            return "ok" if ok else "denied"
        if scheme.lower() != "digest":
            return "denied"
        f = _digest_fields(rest)
        user, nonce, uri, response = f.get("username", ""), f.get("nonce", ""), f.get("uri"), f.get("response", "")
        if user not in users or uri is None or f.get("realm") != self.realm:
            return "denied"
        if f.get("algorithm", "MD5").upper() != "MD5":
            return "denied"
        age = self._nonce_age(nonce)
        if age is None:
            return "denied"
        ha1 = _md5(f"{user}:{self.realm}:{users[user]}")
        ha2 = _md5(f"{method}:{uri}")
        qop = f.get("qop")
        if qop:
            expected = _md5(f"{ha1}:{nonce}:{f.get('nc', '')}:{f.get('cnonce', '')}:{qop}:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        if not hmac.compare_digest(expected, response.lower()):
            return "denied"
        return "stale" if age > _NONCE_LIFETIME_S else "ok"
