"""``--web.config.file``: TLS and basic auth for the exporter, in the Prometheus exporter-toolkit's format.

The same YAML file as node_exporter's or blackbox_exporter's (exporter-toolkit
``docs/web-configuration.md``), so a station protects every exporter the same way and Prometheus'
``scheme: https`` / ``tls_config`` / ``basic_auth`` settings read the same for all of them::

    tls_server_config:
      cert_file: exporter.crt            # relative paths are read from this file's folder
      key_file: exporter.key
      client_auth_type: NoClientCert     # or VerifyClientCertIfGiven, RequireAndVerifyClientCert
      client_ca_file: clients-ca.crt     # needed by the two verifying types
      min_version: TLS12                 # TLS10 .. TLS13; max_version too
      cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]   # Go's names, TLS 1.2 only
    http_server_config:
      headers: {X-Content-Type-Options: nosniff}
    basic_auth_users:
      prometheus: $2y$10$...             # bcrypt: htpasswd -nBC 10 "" | tr -d ':\\n'

Semantics kept from the toolkit: no ``tls_server_config`` (or an empty one) serves plain HTTP; once
any TLS field is set, ``cert_file`` and ``key_file`` are required; unknown fields are errors; a
wrong or missing login is ``401`` with ``WWW-Authenticate: Basic``; an unknown user costs a bcrypt
like a known one (no user enumeration by timing); verified logins are cached, so bcrypt runs once
per login, not per scrape. The file (and the certificate, key and CA files it names) is re-read
when it changes, checked at most once a second: a renewed certificate is served on the next
connection without a restart. A file broken by an edit keeps the last good one (logged, and
``camfleet_exporter_web_config_last_reload_successful 0``), as the inventory reload does; at
start a bad file stops the exporter with one line naming the file and the field.

Refused, with the reason, rather than silently ignored (a security option that does nothing is
worse than an error): inline ``cert``/``key``/``client_ca`` (Python's ``ssl`` reads files),
``RequestClientCert``/``RequireAnyClientCert`` (Python's ``ssl`` verifies every client certificate
it asks for), ``client_allowed_sans``, ``curve_preferences`` and ``rate_limit``. ``http2`` is
accepted and has no effect: the exporter speaks HTTP/1.1.

By hand::

    .venv/bin/python -c "import bcrypt; print(bcrypt.hashpw(b'secret', bcrypt.gensalt(10)).decode())"
    .venv/bin/camfleet exporter --inventory inventory/ngoc-lac --web.config.file web.yml
    curl -sk -u prometheus:secret https://127.0.0.1:9830/metrics | head -3
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import bcrypt
import yaml
from aiohttp import BasicAuth, web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

log = logging.getLogger("camfleet.exporter.web")

#: How often the file's and its certificates' stat() is compared (a request or a handshake asks).
CHECK_EVERY_S = 1.0
#: bcrypt checks waiting for the one bcrypt thread beyond which a new unverified login is refused
#: at once: a flood of wrong passwords must not queue a legitimate, uncached scrape for minutes.
MAX_PENDING_CHECKS = 16
#: Verified logins kept (user, hash, password digest); only successes, so failures cannot evict them.
CACHE_SIZE = 64
#: The toolkit's stand-in for an unknown user: bcrypt("fakepassword"), cost 10, so the answer takes as long.
DECOY_HASH = b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
BCRYPT_RE = re.compile(r"^\$2[abxy]?\$(\d\d)\$[./A-Za-z0-9]{53}$")

#: Go's crypto/tls names (tls.CipherSuites(), the secure TLS 1.2 ones) → OpenSSL's.
CIPHERS: dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
}
#: TLS 1.3 suites: accepted and, as in Go, not configurable (always on with TLS 1.3).
TLS13_CIPHERS = frozenset({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"})

#: Response headers the toolkit lets a file set, with their allowed values (None: any).
HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}

UNSUPPORTED_TLS = {
    "cert": "inline certificates are not supported: write it to a file and use cert_file",
    "key": "inline keys are not supported: write it to a file (mode 0600) and use key_file",
    "client_ca": "inline CAs are not supported: write it to a file and use client_ca_file",
    "client_allowed_sans": "not supported by camfleet's exporter: use a client CA that signs only allowed clients",
    "curve_preferences": "not supported by camfleet's exporter (Python's ssl picks the curves)",
}


class WebConfigError(Exception):
    """The web config file is unreadable or invalid; the message names the file and the field."""


class ClientAuth(StrEnum):
    none = "NoClientCert"
    if_given = "VerifyClientCertIfGiven"
    required = "RequireAndVerifyClientCert"


class TLSVersionName(StrEnum):
    TLS10 = "TLS10"
    TLS11 = "TLS11"
    TLS12 = "TLS12"
    TLS13 = "TLS13"


TLS_VERSIONS = {
    TLSVersionName.TLS10: ssl.TLSVersion.TLSv1,
    TLSVersionName.TLS11: ssl.TLSVersion.TLSv1_1,
    TLSVersionName.TLS12: ssl.TLSVersion.TLSv1_2,
    TLSVersionName.TLS13: ssl.TLSVersion.TLSv1_3,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TLSServerConfig(Strict):
    """``tls_server_config``: the server's certificate and who may connect."""

    cert_file: Path | None = Field(default=None, description="PEM certificate (chain) the exporter presents.")
    key_file: Path | None = Field(default=None, description="PEM private key of cert_file (unencrypted, 0600).")
    client_auth_type: ClientAuth | None = Field(
        default=None, description="NoClientCert (default), VerifyClientCertIfGiven or RequireAndVerifyClientCert."
    )
    client_ca_file: Path | None = Field(default=None, description="CA(s) client certificates must be signed by.")
    min_version: TLSVersionName = Field(default=TLSVersionName.TLS12, description="Oldest TLS version accepted.")
    max_version: TLSVersionName = Field(default=TLSVersionName.TLS13, description="Newest TLS version accepted.")
    cipher_suites: list[str] = Field(default_factory=list, description="TLS 1.2 suites by Go's names; empty: defaults.")
    prefer_server_cipher_suites: bool = Field(default=True, description="The server's order of cipher_suites wins.")

    @model_validator(mode="before")
    @classmethod
    def _refuse_unsupported(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, why in UNSUPPORTED_TLS.items():
                if key in data:
                    raise ValueError(f"{key}: {why}")
        return data

    @field_validator("cipher_suites")
    @classmethod
    def _known_ciphers(cls, names: list[str]) -> list[str]:
        for name in names:
            if name not in CIPHERS and name not in TLS13_CIPHERS:
                raise ValueError(f"unknown cipher {name!r}; known: {', '.join(CIPHERS)}")
        return names

    def enabled(self) -> bool:
        """Any TLS field set (the toolkit's ``IsEnabled``): then cert_file and key_file are required."""
        return any((self.cert_file, self.key_file, self.client_ca_file, self.client_auth_type))

    @model_validator(mode="after")
    def _complete(self) -> TLSServerConfig:
        if not self.enabled():
            return self
        if self.cert_file is None:
            raise ValueError("cert_file: missing (needed once any TLS field is set)")
        if self.key_file is None:
            raise ValueError("key_file: missing (needed once any TLS field is set)")
        auth = self.client_auth_type or ClientAuth.none
        if self.client_ca_file is not None and auth is ClientAuth.none:
            raise ValueError("client_ca_file: set without client_auth_type (use RequireAndVerifyClientCert)")
        if auth is not ClientAuth.none and self.client_ca_file is None:
            raise ValueError(f"client_auth_type: {auth.value} needs client_ca_file")
        if TLS_VERSIONS[self.min_version] > TLS_VERSIONS[self.max_version]:
            raise ValueError("min_version: newer than max_version")
        return self


class HTTPServerConfig(Strict):
    """``http_server_config``."""

    http2: bool = Field(default=True, description="Accepted for compatibility; the exporter speaks HTTP/1.1.")
    headers: dict[str, str] = Field(default_factory=dict, description="Security headers added to every answer.")

    @field_validator("headers")
    @classmethod
    def _known_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if name not in HEADERS:
                raise ValueError(f"HTTP header {name!r} can not be configured; known: {', '.join(HEADERS)}")
            allowed = HEADERS[name]
            if allowed is not None and value not in allowed:
                raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
        return headers


class WebConfig(Strict):
    """The whole file."""

    tls_server_config: TLSServerConfig = Field(default_factory=TLSServerConfig, description="TLS; absent: HTTP.")
    http_server_config: HTTPServerConfig = Field(default_factory=HTTPServerConfig, description="Answer headers.")
    basic_auth_users: dict[str, str] = Field(
        default_factory=dict, description="user: bcrypt hash; empty: no basic auth."
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_rate_limit(cls, data: Any) -> Any:
        if isinstance(data, dict) and "rate_limit" in data:
            raise ValueError("rate_limit: not supported: Prometheus scrapes every target through one exporter")
        return data

    @field_validator("basic_auth_users")
    @classmethod
    def _bcrypt_hashes(cls, users: dict[str, str]) -> dict[str, str]:
        for user, hashed in users.items():
            if not isinstance(hashed, str) or not BCRYPT_RE.match(hashed) or not 4 <= int(hashed[-56:-54]) <= 31:
                raise ValueError(f'{user}: not a bcrypt hash ($2y$10$ and 53 characters; htpasswd -nBC 10 "")')
        return users


@dataclass
class Loaded:
    """A valid file, read: its settings, its TLS context (None: plain HTTP) and the stat of what it read."""

    config: WebConfig
    tls: ssl.SSLContext | None
    signature: tuple[tuple[str, int, int, int], ...]


def _stat(paths: list[Path]) -> tuple[tuple[str, int, int, int], ...]:
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((str(path), st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(path), 0, -1, 0))
    return tuple(out)


def _no_passphrase() -> str:
    raise WebConfigError("encrypted keys are not supported (the exporter starts unattended)")


def _tls_context(tls: TLSServerConfig, where: str) -> ssl.SSLContext:
    assert tls.cert_file is not None and tls.key_file is not None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = TLS_VERSIONS[tls.min_version]
    ctx.maximum_version = TLS_VERSIONS[tls.max_version]
    for name, path in (
        ("cert_file", tls.cert_file),
        ("key_file", tls.key_file),
        ("client_ca_file", tls.client_ca_file),
    ):
        if path is not None and not path.is_file():
            raise WebConfigError(f"{where}: tls_server_config.{name}: {path}: no such file")
    try:
        ctx.load_cert_chain(tls.cert_file, tls.key_file, password=_no_passphrase)
    except WebConfigError as exc:
        raise WebConfigError(f"{where}: tls_server_config.key_file: {exc}") from None
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
        raise WebConfigError(
            f"{where}: tls_server_config.cert_file/key_file: cannot load the pair: {str(reason).lower().replace('_', ' ')}"
        ) from None
    wanted = [CIPHERS[name] for name in tls.cipher_suites if name in CIPHERS]
    if wanted:
        ctx.set_ciphers(":".join(wanted))
    if tls.prefer_server_cipher_suites:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    auth = tls.client_auth_type or ClientAuth.none
    if auth is not ClientAuth.none:
        assert tls.client_ca_file is not None
        try:
            ctx.load_verify_locations(cafile=tls.client_ca_file)
        except (ssl.SSLError, OSError) as exc:
            raise WebConfigError(f"{where}: tls_server_config.client_ca_file: not a PEM certificate: {exc}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED if auth is ClientAuth.required else ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def load_web_config(path: Path | str) -> Loaded:
    """Read and check the file and everything it names; :class:`WebConfigError` with one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except OSError as exc:
        raise WebConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise WebConfigError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    if raw is not None and not isinstance(raw, dict):
        raise WebConfigError(f"{path}: (file): expected a mapping (tls_server_config, basic_auth_users, ...)")
    try:
        config = WebConfig.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        msg = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown field (exporter-toolkit web config: tls_server_config, http_server_config, basic_auth_users)"
        raise WebConfigError(f"{path}: {where}: {msg}") from None
    tls = config.tls_server_config
    for name in ("cert_file", "key_file", "client_ca_file"):
        value = getattr(tls, name)
        if value is not None and not value.is_absolute():
            setattr(tls, name, path.parent / value)
    files = [path] + [p for p in (tls.cert_file, tls.key_file, tls.client_ca_file) if p is not None]
    signature = _stat(files)
    context = _tls_context(tls, str(path)) if tls.enabled() else None
    return Loaded(config, context, signature)


@dataclass
class WebGuard:
    """The loaded file, kept current: the TLS context for new connections and the basic-auth middleware."""

    path: Path
    on_reload: Callable[[bool], None] = lambda ok: None
    loaded: Loaded = field(init=False)

    def __post_init__(self) -> None:
        self.loaded = load_web_config(self.path)  # at start: a bad file is an error, not a warning
        self._checked = time.monotonic()
        self._last_error = ""
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._bcrypt = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bcrypt")  # never the probes' pool
        self._pending = 0
        if self.loaded.tls is not None:
            self.loaded.tls.sni_callback = self._pick_context

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The context the listening socket starts with (TLS on or off is fixed until a restart)."""
        return self.loaded.tls

    def current(self) -> Loaded:
        """The settings now: the file is re-read when it or a file it names changed (checked once a second)."""
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_S:
            return self.loaded
        self._checked = now
        files = [Path(entry[0]) for entry in self.loaded.signature]
        if _stat(files) == self.loaded.signature:
            return self.loaded
        try:
            fresh = load_web_config(self.path)
            if (fresh.tls is None) != (self.loaded.tls is None):
                raise WebConfigError(f"{self.path}: tls_server_config: turning TLS on or off needs a restart")
        except WebConfigError as exc:
            if str(exc) != self._last_error:
                log.error("web config not reloaded, the last good one stays: %s", exc)
                self._last_error = str(exc)
            self.on_reload(False)
            return self.loaded
        if fresh.tls is not None:
            fresh.tls.sni_callback = self._pick_context
        self.loaded, self._last_error = fresh, ""
        self._verified.clear()
        self.on_reload(True)
        log.info("web config reloaded from %s", self.path)
        return fresh

    def _pick_context(self, conn: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, ctx: ssl.SSLContext) -> None:
        """At each handshake: serve the newest certificate (the toolkit's GetConfigForClient)."""
        tls = self.current().tls
        if tls is not None and tls is not ctx:
            conn.context = tls

    def close(self) -> None:
        self._bcrypt.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ basic auth

    async def _allowed(self, request: web.Request, users: dict[str, str]) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            # latin-1 both ways: the password's bytes as sent, compared as bytes (as Go's bcrypt does)
            auth = BasicAuth.decode(header, encoding="latin1") if header else None
        except ValueError:
            return False
        if auth is None:
            return False
        hashed = users.get(auth.login)
        stored = hashed.encode() if hashed is not None else DECOY_HASH
        password = auth.password.encode("latin1")
        key = hashlib.sha256(b"\0".join((auth.login.encode("latin1"), stored, password))).digest()
        if hashed is not None and key in self._verified:
            self._verified.move_to_end(key)
            return True
        if self._pending >= MAX_PENDING_CHECKS:
            return False  # a flood of unverified logins: refuse without queueing behind it
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._bcrypt, _checkpw, password, stored)
        finally:
            self._pending -= 1
        if not (ok and hashed is not None):
            return False
        self._verified[key] = None
        while len(self._verified) > CACHE_SIZE:
            self._verified.popitem(last=False)
        return True

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        loaded = self.current()
        users = loaded.config.basic_auth_users
        if users and not await self._allowed(request, users):
            response: web.StreamResponse = web.Response(
                status=401, text="Unauthorized\n", headers={"WWW-Authenticate": "Basic"}
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # 404, 405: answers too, with the same headers
                exc.headers.update(loaded.config.http_server_config.headers)
                raise
        response.headers.update(loaded.config.http_server_config.headers)
        return response


def _checkpw(password: bytes, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, hashed)
    except ValueError:  # bcrypt 5 refuses passwords over 72 bytes (Go's bcrypt too): a failed login
        return False
