"""Server-side digest auth: nonces, nc replay, stale nonces, RFC 2069 clients, lock-out.

Headers are computed here by the RFC formulas (the end-to-end flow with httpx.DigestAuth is in
test_hikvision.py and test_dahua.py).

    .venv/bin/pytest tests/sim/test_digest.py -q
"""

from __future__ import annotations

import base64
import hashlib
import re

from camfleet.sim.digest import AuthOutcome, DigestAuth, LockPolicy, _parse_header

REALM = "IP Camera(83813)"
USERS = {"admin": "Ngoc-Lac-2023"}


class FakeClock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def nonce_of(challenge: str) -> str:
    m = re.search(r'nonce="([^"]+)"', challenge)
    assert m, challenge
    return m.group(1)


def header(
    nonce: str,
    *,
    user: str = "admin",
    password: str = USERS["admin"],
    nc: int = 1,
    qop: bool = True,
    uri: str = "/ISAPI/System/deviceInfo",
    method: str = "GET",
) -> str:
    ha1 = md5(f"{user}:{REALM}:{password}")
    ha2 = md5(f"{method}:{uri}")
    if not qop:
        return f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", response="{md5(f"{ha1}:{nonce}:{ha2}")}"'
    nc_text, cnonce = f"{nc:08x}", "0a4f113b"
    response = md5(f"{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{ha2}")
    return f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc_text}, cnonce="{cnonce}", response="{response}", algorithm=MD5'


def make(policy: LockPolicy | None = None, **kw: object) -> tuple[DigestAuth, FakeClock, FakeClock]:
    sim, real = FakeClock(), FakeClock(100.0)
    auth = DigestAuth(REALM, lambda: USERS, clock=sim, policy=lambda: policy or LockPolicy(), nonce_clock=real, **kw)  # type: ignore[arg-type]
    return auth, sim, real


def test_challenge_has_realm_qop_and_stale_flag() -> None:
    auth, _, _ = make()
    parsed = _parse_header(auth.challenge())
    assert parsed is not None and parsed.scheme == "digest"
    assert parsed.params["realm"] == REALM and parsed.params["qop"] == "auth" and parsed.params["stale"] == "FALSE"
    assert _parse_header(auth.challenge(stale=True)).params["stale"] == "TRUE"  # type: ignore[union-attr]


def test_missing_header_asks_for_credentials() -> None:
    auth, _, _ = make()
    assert auth.check("GET", None, "127.0.0.1").outcome is AuthOutcome.missing
    assert auth.check("GET", "Bearer x", "127.0.0.1").outcome is AuthOutcome.missing


def test_nonce_reuse_with_increasing_nc_and_replay_refused() -> None:
    auth, _, _ = make()
    nonce = nonce_of(auth.challenge())
    assert auth.check("GET", header(nonce, nc=1), "a").outcome is AuthOutcome.ok
    assert auth.check("GET", header(nonce, nc=2), "a").outcome is AuthOutcome.ok
    assert auth.check("GET", header(nonce, nc=2), "a").outcome is AuthOutcome.replay
    assert auth.check("GET", header(nonce, nc=1), "a").outcome is AuthOutcome.replay
    assert auth.check("GET", header(nonce, nc=7), "a").outcome is AuthOutcome.ok


def test_expired_or_unknown_nonce_is_stale() -> None:
    auth, _, real = make(nonce_ttl_s=300.0)
    nonce = nonce_of(auth.challenge())
    real.t += 301
    assert auth.check("GET", header(nonce), "a").outcome is AuthOutcome.stale
    assert auth.check("GET", header("bm90LWlzc3VlZA"), "a").outcome is AuthOutcome.stale


def test_rfc2069_client_without_qop() -> None:
    auth, _, _ = make()
    nonce = nonce_of(auth.challenge())
    assert auth.check("GET", header(nonce, qop=False), "a").outcome is AuthOutcome.ok
    assert auth.check("GET", header(nonce, qop=False, password="nope-1234"), "a").outcome is AuthOutcome.bad


def test_method_and_uri_are_bound_into_the_response() -> None:
    auth, _, _ = make()
    nonce = nonce_of(auth.challenge())
    forged = header(nonce, method="GET").replace("/ISAPI/System/deviceInfo", "/ISAPI/System/reboot")
    assert auth.check("PUT", forged, "a").outcome is AuthOutcome.bad


def test_lock_out_after_max_failures_then_unlock_on_sim_clock() -> None:
    auth, sim, _ = make(LockPolicy(max_failures=5, lock_s=1800, by="address"))
    nonce = nonce_of(auth.challenge())
    results = [auth.check("GET", header(nonce, password=f"wrong-{i}"), "10.0.0.9") for i in range(5)]
    assert [r.outcome for r in results] == [AuthOutcome.bad] * 4 + [AuthOutcome.locked]
    assert [r.retries_left for r in results[:4]] == [4, 3, 2, 1]
    ok = header(nonce, nc=9)
    locked = auth.check("GET", ok, "10.0.0.9")
    assert locked.outcome is AuthOutcome.locked and 1799 <= locked.lock_remaining_s <= 1800
    # another address is not locked (Hikvision locks the client address)
    assert auth.check("GET", header(nonce, nc=10), "10.0.0.10").outcome is AuthOutcome.ok
    sim.t += 1801
    assert auth.check("GET", header(nonce, nc=11), "10.0.0.9").outcome is AuthOutcome.ok


def test_lock_by_user_and_success_resets_the_count() -> None:
    auth, _, _ = make(LockPolicy(max_failures=3, lock_s=60, by="user"))
    nonce = nonce_of(auth.challenge())
    auth.check("GET", header(nonce, password="bad-pass-1"), "a")
    auth.check("GET", header(nonce, password="bad-pass-2"), "b")
    assert auth.check("GET", header(nonce, nc=3), "c").outcome is AuthOutcome.ok  # resets
    for i in range(2):
        assert auth.check("GET", header(nonce, password=f"bad-{i}x"), "a").outcome is AuthOutcome.bad
    assert auth.check("GET", header(nonce, password="bad-2x"), "b").outcome is AuthOutcome.locked
    assert auth.check("GET", header(nonce, nc=9), "z").outcome is AuthOutcome.locked  # the account is locked


def test_forced_lock_and_disabled_policy() -> None:
    auth, _, _ = make(LockPolicy(enabled=False, max_failures=2))
    nonce = nonce_of(auth.challenge())
    for i in range(6):
        assert auth.check("GET", header(nonce, password=f"bad-{i}"), "a").outcome is AuthOutcome.bad
    assert auth.check("GET", header(nonce, nc=2), "a").outcome is AuthOutcome.ok
    assert auth.check("GET", header(nonce, nc=3), "a", forced_lock=True).outcome is AuthOutcome.locked


def test_basic_only_when_allowed() -> None:
    basic = "Basic " + base64.b64encode(b"admin:Ngoc-Lac-2023").decode()
    strict, _, _ = make()
    assert strict.check("GET", basic, "a").outcome is AuthOutcome.missing
    old, _, _ = make(allow_basic=True)
    assert old.check("GET", basic, "a").outcome is AuthOutcome.ok
