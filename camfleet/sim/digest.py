"""Server side of HTTP Digest auth (RFC 7616 / RFC 2617, MD5) with the lock-out real cameras apply.

Why this exists: drivers must be tested against the same handshake real devices run: a 401
challenge first, then the client retries and keeps reusing the nonce with ``nc`` + 1. Replayed
``nc`` values are refused, expired nonces get ``stale=TRUE``, and bad passwords count towards a
lock-out (Hikvision ``illegalLoginLock``, Dahua ``LockLoginTimes``/``LoginFailLockTime``,
device-apis.md §0). The lock-out is measured on the simulator clock, so a 30-minute lock passes
in a second when the town runs fast; nonce lifetime is measured on the real monotonic clock so
fast simulated time does not make every nonce stale.

Reproduce by hand against a simulated camera::

    curl -v --digest -u admin:WRONG http://127.77.0.10/ISAPI/System/deviceInfo   # 401, retryTimes drops
    curl -v --digest -u admin:<password> http://127.77.0.10/ISAPI/System/deviceInfo
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

Clock = Callable[[], float]


class AuthOutcome(Enum):
    """How a request fared against the digest check."""

    ok = "ok"
    missing = "missing"  # no (usable) Authorization header: send the first challenge
    stale = "stale"  # nonce expired or unknown: challenge again with stale=TRUE
    replay = "replay"  # nc not above the last one seen for this nonce
    bad = "bad"  # wrong user or password (counted towards the lock-out)
    locked = "locked"  # too many bad logins, or the `locked` fault


@dataclass(frozen=True)
class AuthResult:
    """Outcome of one check, with what the device tells the client about its lock state."""

    outcome: AuthOutcome
    user: str | None = None
    retries_left: int = 0
    lock_remaining_s: float = 0.0


@dataclass
class LockPolicy:
    """Lock-out after bad logins. Devices expose it as config, so it is read on every check.

    Hikvision cameras: 5 attempts, NVRs: 7 attempts, 30 minutes [?]. Dahua: ``LockLoginTimes=5``,
    ``LoginFailLockTime=1800`` s [V]. Hikvision locks the client address, Dahua the account [?].
    """

    enabled: bool = True
    max_failures: int = 5
    lock_s: float = 1800.0
    by: str = "address"  # "address" or "user"


@dataclass
class _Nonce:
    issued: float
    last_nc: int = 0


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


@dataclass
class _Parsed:
    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def _parse_header(value: str) -> _Parsed | None:
    """Parse ``Digest k="v", k2=v2`` (quoted strings may hold commas)."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " ,\t":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq].strip().lower()
        i = eq + 1
        if i < n and rest[i] == '"':
            j = i + 1
            buf: list[str] = []
            while j < n and rest[j] != '"':
                if rest[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(rest[j])
                j += 1
            params[key] = "".join(buf)
            i = j + 1
        else:
            j = rest.find(",", i)
            j = n if j < 0 else j
            params[key] = rest[i:j].strip()
            i = j
    return _Parsed(scheme.lower(), params)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class DigestAuth:
    """One device's digest realm, nonces and failed-login counters.

    ``users`` is called on every check (the device's user table may change at run time) and
    maps user name to password. ``clock`` is the simulator clock (lock-out); ``nonce_clock`` the
    real one (nonce lifetime).
    """

    MAX_NONCES = 128

    def __init__(
        self,
        realm: str,
        users: Callable[[], Mapping[str, str]],
        *,
        clock: Clock,
        policy: Callable[[], LockPolicy] = LockPolicy,
        nonce_ttl_s: float = 300.0,
        nonce_clock: Clock = time.monotonic,
        opaque: str | None = None,
        allow_basic: bool = False,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.realm = realm
        self._users = users
        self._clock = clock
        self._policy = policy
        self._ttl = nonce_ttl_s
        self._nonce_clock = nonce_clock
        self._opaque = opaque
        self._allow_basic = allow_basic
        self._on_refused = on_refused
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()
        self._failures: dict[str, _Failures] = {}
        self._secret = os.urandom(16)

    # ------------------------------------------------------------------ challenge

    def challenge(self, *, stale: bool = False) -> str:
        """A fresh ``WWW-Authenticate`` value (Hikvision style: qop, realm, nonce, stale)."""
        now = self._nonce_clock()
        raw = f"{now:.6f}:{os.urandom(8).hex()}"
        tag = hmac.new(self._secret, raw.encode(), "md5").hexdigest()[:16]
        nonce = base64.b64encode(f"{raw}:{tag}".encode()).decode().rstrip("=")
        self._nonces[nonce] = _Nonce(issued=now)
        while len(self._nonces) > self.MAX_NONCES:
            self._nonces.popitem(last=False)
        parts = [f'Digest qop="auth", realm="{self.realm}", nonce="{nonce}"']
        if self._opaque is not None:
            parts.append(f'opaque="{self._opaque}"')
        parts.append(f'stale="{"TRUE" if stale else "FALSE"}"')
        return ", ".join(parts)

    # ------------------------------------------------------------------ lock-out

    def _key(self, user: str | None, address: str) -> str:
        return f"user:{user}" if self._policy().by == "user" else f"addr:{address}"

    def lock_state(self, user: str | None, address: str) -> tuple[int, float]:
        """(retries left, seconds of lock left) for this client, on the simulator clock."""
        policy = self._policy()
        entry = self._failures.get(self._key(user, address))
        if not policy.enabled or entry is None:
            return policy.max_failures, 0.0
        now = self._clock()
        if entry.locked_until and now >= entry.locked_until:
            entry.count, entry.locked_until = 0, 0.0
        return max(0, policy.max_failures - entry.count), max(0.0, entry.locked_until - now)

    def _fail(self, user: str | None, address: str) -> AuthResult:
        if self._on_refused is not None:
            self._on_refused()
        policy = self._policy()
        if not policy.enabled:
            return AuthResult(AuthOutcome.bad, retries_left=policy.max_failures)
        entry = self._failures.setdefault(self._key(user, address), _Failures())
        entry.count += 1
        if entry.count >= policy.max_failures:
            entry.locked_until = self._clock() + policy.lock_s
            return AuthResult(AuthOutcome.locked, lock_remaining_s=policy.lock_s)
        return AuthResult(AuthOutcome.bad, retries_left=policy.max_failures - entry.count)

    def _succeed(self, user: str, address: str) -> AuthResult:
        self._failures.pop(self._key(user, address), None)
        return AuthResult(AuthOutcome.ok, user=user)

    def reset(self) -> None:
        """Forget every counter and nonce (a reboot)."""
        self._failures.clear()
        self._nonces.clear()

    # ------------------------------------------------------------------ check

    def check(self, method: str, header: str | None, address: str, *, forced_lock: bool = False) -> AuthResult:
        """Check one request's ``Authorization`` header; ``forced_lock`` is the ``locked`` fault."""
        if forced_lock:
            return AuthResult(AuthOutcome.locked, lock_remaining_s=self._policy().lock_s)
        parsed = _parse_header(header) if header else None
        if parsed is None:
            return AuthResult(AuthOutcome.missing)
        if parsed.scheme == "basic" and self._allow_basic:
            return self._check_basic(header or "", address)
        if parsed.scheme != "digest":
            return AuthResult(AuthOutcome.missing)
        p = parsed.params
        user, nonce, response = p.get("username"), p.get("nonce"), p.get("response")
        if not user or not nonce or not response or not p.get("uri"):
            return AuthResult(AuthOutcome.missing)
        retries, remaining = self.lock_state(user, address)
        if remaining > 0:
            return AuthResult(AuthOutcome.locked, user=user, lock_remaining_s=remaining)
        state = self._nonces.get(nonce)
        if state is None or self._nonce_clock() - state.issued > self._ttl:
            self._nonces.pop(nonce, None)
            return AuthResult(AuthOutcome.stale, retries_left=retries)
        password = self._users().get(user)
        if password is None:
            return self._fail(user, address)
        ha1 = _md5(f"{user}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{p['uri']}")
        qop = p.get("qop")
        if qop:
            nc_text, cnonce = p.get("nc", ""), p.get("cnonce", "")
            try:
                nc = int(nc_text, 16)
            except ValueError:
                return AuthResult(AuthOutcome.missing)
            expected = _md5(f"{ha1}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")
            if not hmac.compare_digest(expected, response.lower()):
                return self._fail(user, address)
            if nc <= state.last_nc:
                return AuthResult(AuthOutcome.replay, retries_left=retries)
            state.last_nc = nc
        else:  # RFC 2069 clients: no qop, no nc
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
            if not hmac.compare_digest(expected, response.lower()):
                return self._fail(user, address)
        return self._succeed(user, address)

    def _check_basic(self, header: str, address: str) -> AuthResult:
        try:
            decoded = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
        except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
            return AuthResult(AuthOutcome.missing)
        user, _, password = decoded.partition(":")
        _, remaining = self.lock_state(user, address)
        if remaining > 0:
            return AuthResult(AuthOutcome.locked, user=user, lock_remaining_s=remaining)
        expected = self._users().get(user)
        if expected is None or not hmac.compare_digest(expected, password):
            return self._fail(user, address)
        return self._succeed(user, address)
