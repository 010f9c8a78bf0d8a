"""One HTTP digest session to one device: timeouts, no retried passwords, no redirects, bounded replies, clear errors.

Why this exists: Hikvision ISAPI and Dahua CGI differ in wording but share the transport rules a
fleet tool must keep (device-apis.md §0, §6.4):

- Digest auth, but a refused password is tried **once**: httpx's stock ``DigestAuth`` answers a
  401 by trying again with the fresh challenge, so every call with a wrong password would count
  twice towards the device's lock-out (5 bad logins lock a Hikvision camera for 30 minutes).
  :class:`OneTryDigestAuth` retries only the first challenge and a ``stale=TRUE`` one. A challenge
  it cannot use (no realm or nonce, an unknown algorithm or qop, non-ASCII, garbage) is a
  one-line :class:`~camfleet.drivers.errors.MalformedReply` naming the device.
- Once the device refused the credentials, the session refuses to send them again
  (:attr:`DeviceSession.refused`): a playbook that goes on calling the driver cannot lock the
  device out.
- Every reply is bounded (issue 15, item 2: one camera's endless chunked body took the exporter
  from 81 MiB to 1.3 GiB; a body trickling a byte a second held a thread 39 s despite a 5 s
  timeout). :meth:`DeviceSession.request` reads at most ``max_bytes`` (per endpoint:
  :data:`DOCUMENT_MAX` by default, :data:`SNAPSHOT_MAX`, :data:`STATUS_MAX`, :data:`BACKUP_MAX`)
  and finishes within a total ``deadline`` (default :data:`DEADLINE_FACTOR` × the timeout), head,
  401 challenges and body included; :meth:`DeviceSession.budget` gives several calls one deadline
  (Dahua ``facts()``). The bounds are kept where the bytes arrive: the sockets of the session's
  pool count what they receive and shorten each read to what is left of the deadline, so a
  trickle ends at the deadline, not one read timeout per byte later. Past the cap:
  :class:`~camfleet.drivers.errors.ReplyTooLarge`; past the deadline:
  :class:`~camfleet.drivers.errors.DeviceTimeout`.
- Connect and read timeouts on every request; redirects are never followed (a device that
  redirects elsewhere is reported, not obeyed); proxies from the environment are ignored.
- Transport failures become :mod:`camfleet.drivers.errors`; messages hold the path, never the
  query string (Dahua puts passwords there) or the credentials.

Reproduce by hand (a simulated camera on 127.77.0.10)::

    .venv/bin/python -c "from camfleet.drivers.http import DeviceSession as S; \\
        s = S('cam-01-t01', 'http://127.77.0.10:80', 'admin', '<password>', timeout=3); \\
        print(s.request('GET', '/ISAPI/System/deviceInfo').text[:200])"
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.request import parse_http_list

import httpcore
import httpx

from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    DriverError,
    MalformedReply,
    ReplyTooLarge,
    Unreachable,
)

_STALE = re.compile(r"stale\s*=\s*\"?true", re.IGNORECASE)

MiB = 1 << 20
#: XML, JSON and CGI text documents: the largest real one (an NVR's search page) is tens of KiB.
DOCUMENT_MAX = 4 * MiB
#: A snapshot JPEG: a 4K main-stream picture is 1-3 MiB.
SNAPSHOT_MAX = 16 * MiB
#: Firmware upgrade status: a few lines.
STATUS_MAX = 64 * 1024
#: A configuration export (Hikvision ``configurationData`` is a few MiB, an NVR's with its channels more).
BACKUP_MAX = 64 * MiB
#: A configuration export's deadline: a few MiB over a household uplink.
BACKUP_DEADLINE_S = 300.0
#: A request's default total deadline, head to last byte, in units of the session's timeout.
DEADLINE_FACTOR = 2.0


@dataclass
class _Limit:
    """What one call may still receive and until when; counted by the sockets (:class:`_BoundedStream`)."""

    device_id: str
    what: str
    max_bytes: int | None
    deadline: float | None  # time.monotonic() by which the call must be done
    seconds: float | None  # the deadline as given, for the message
    label: str | None = None  # set when the deadline is a whole operation's (DeviceSession.budget)
    received: int = 0

    def timeout(self, timeout: float | None) -> tuple[float | None, bool]:
        """``timeout`` shortened to what is left of the deadline, and whether it was."""
        if self.deadline is None:
            return timeout, False
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.late()
        if timeout is None or left < timeout:
            return left, True
        return timeout, False

    def count(self, size: int) -> None:
        self.received += size
        if self.max_bytes is not None and self.received > self.max_bytes:
            raise too_large(self.device_id, self.what, self.max_bytes, self.received)

    def late(self) -> DeviceTimeout:
        seconds = self.seconds or 0.0
        if self.label is not None:
            return DeviceTimeout(
                self.device_id,
                f"{self.label} not finished within {seconds:g} s ({self.what}; {self.received} bytes received)",
            )
        return DeviceTimeout(
            self.device_id,
            f"reply not finished within the {seconds:g} s deadline ({self.what}; {self.received} bytes received)",
        )


#: The limit of the call the current thread is making (set by DeviceSession around each call).
_LIMIT: contextvars.ContextVar[_Limit | None] = contextvars.ContextVar("camfleet_reply_limit", default=None)


def too_large(device_id: str, what: str, cap: int, received: int, verb: str = "received") -> ReplyTooLarge:
    return ReplyTooLarge(
        device_id,
        f"reply too large ({what}): {received} bytes {verb}, over the {_size(cap)} cap; read no further",
        cap=cap,
        received=received,
    )


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n / 1024:g} KiB" if n >= 1024 else f"{n} bytes"


class _BoundedStream(httpcore.NetworkStream):
    """A socket that counts what it receives against the current call's cap and never waits past its deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        limit = _LIMIT.get()
        if limit is None:
            return self._inner.read(max_bytes, timeout)
        timeout, shortened = limit.timeout(timeout)
        try:
            data = self._inner.read(max_bytes, timeout)
        except httpcore.ReadTimeout:
            if shortened:
                raise limit.late() from None
            raise
        limit.count(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        limit = _LIMIT.get()
        if limit is None:
            self._inner.write(buffer, timeout)
            return
        timeout, shortened = limit.timeout(timeout)
        try:
            self._inner.write(buffer, timeout)
        except httpcore.WriteTimeout:
            if shortened:
                raise limit.late() from None
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        limit = _LIMIT.get()
        if limit is not None:
            timeout, _ = limit.timeout(timeout)
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, each wrapped in :class:`_BoundedStream`; connecting keeps the deadline too."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limit = _LIMIT.get()
        if limit is not None:
            timeout, _ = limit.timeout(timeout)
        return _BoundedStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _BoundedTransport(httpx.HTTPTransport):
    """httpx's transport (its request and exception mapping) over a pool of :class:`_BoundedStream` sockets.

    ``HTTPTransport`` takes no network backend, so its one attribute, the pool, is built here
    instead of by its ``__init__`` (no proxy, no HTTP/2: neither is used towards a device).
    """

    def __init__(self, verify: bool | str) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_BoundedBackend(),
        )


_DIGEST_ALGORITHMS = frozenset(httpx.DigestAuth._ALGORITHM_TO_HASH_FUNCTION)


def challenge_problem(header: str) -> str | None:
    """Why a ``WWW-Authenticate: Digest …`` header cannot be answered, or None when it can."""
    if not all(32 <= ord(c) < 127 or c == "\t" for c in header):
        return "not printable ASCII"
    fields: dict[str, str] = {}
    for field in parse_http_list(header.partition(" ")[2]):
        key, sep, value = field.strip().partition("=")
        if not sep or not key.strip():
            return f"a field without a value: {field.strip()[:40]!r}"
        fields[key.strip().lower()] = value.strip().strip('"')
    for needed in ("realm", "nonce"):
        if needed not in fields:
            return f"no {needed}"
    if not fields["nonce"]:
        return "an empty nonce"
    algorithm = fields.get("algorithm", "MD5")
    if algorithm.upper() not in _DIGEST_ALGORITHMS:
        return f"unknown algorithm {algorithm[:40]!r}"
    qop = fields.get("qop")
    if qop is not None and "auth" not in re.split(r",\s*", qop):
        return f"qop {qop[:40]!r} without auth"
    return None


class OneTryDigestAuth(httpx.DigestAuth):
    """httpx digest auth that answers a challenge once, and again only when the nonce went stale.

    A 401 after credentials were sent with a valid nonce means the password is wrong; sending it
    again would only bring the lock-out closer. A challenge that cannot be answered raises
    MalformedReply naming the device (httpx would raise KeyError, ValueError,
    NotImplementedError or UnicodeEncodeError from deep inside).
    """

    def __init__(self, username: str, password: str, device_id: str = "device") -> None:
        super().__init__(username, password)
        self.device_id = device_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent_credentials = self._last_challenge is not None
        if self._last_challenge is not None:
            request.headers["Authorization"] = self._build_auth_header(request, self._last_challenge)
        response = yield request
        if response.status_code != 401:
            return
        header = next(
            (h for h in response.headers.get_list("www-authenticate") if h.lower().startswith("digest ")), None
        )
        if header is None:
            return
        if sent_credentials and not _STALE.search(header):
            return
        what = f"{request.method} {request.url.path}"
        problem = challenge_problem(header)
        if problem is None:
            try:
                challenge = self._parse_challenge(request, response, header)
                self._nonce_count = 1
                authorization = self._build_auth_header(request, challenge)
                request.headers["Authorization"] = authorization
            except (KeyError, ValueError, NotImplementedError, UnicodeError, httpx.HTTPError) as exc:
                problem = type(exc).__name__  # what the checks above missed: still one line, never a traceback
        if problem is not None:
            raise MalformedReply(
                self.device_id,
                f"unusable digest challenge ({what}): {problem}",
                header[:120],
            )
        self._last_challenge = challenge
        yield request


class DeviceSession:
    """A keep-alive httpx client for one device, raising driver errors instead of httpx ones.

    ``requests_sent`` counts every HTTP request on the wire, digest challenges included.
    """

    def __init__(
        self,
        device_id: str,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        verify: bool | str = True,
    ) -> None:
        self.device_id = device_id
        self.base_url = base_url
        self.username = username
        self.timeout = timeout
        self.requests_sent = 0
        self.refused: DriverError | None = None
        self.verify = verify
        self._budget: tuple[float, float, str] | None = None  # (monotonic deadline, seconds, what)
        self._client = self._new_client(password)

    def _new_client(self, password: str) -> httpx.Client:
        # Over plain http nothing is verified; not building a TLS context saves loading the CA
        # bundle (≈40 ms of CPU per device, the largest cost of a one-device Ansible task).
        plain = self.base_url.startswith("http://")
        return httpx.Client(
            base_url=self.base_url,
            auth=OneTryDigestAuth(self.username, password, self.device_id),
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,
            transport=_BoundedTransport(False if plain else self.verify),
            event_hooks={"request": [self._count]},
        )

    def _count(self, request: httpx.Request) -> None:
        self.requests_sent += 1

    def set_password(self, password: str) -> None:
        """Use ``password`` from now on (after activation or our own password change)."""
        self._client.close()
        self._client = self._new_client(password)
        self.refused = None

    def refuse(self, error: AuthError) -> AuthError:
        """Remember that the device refused our credentials; later calls fail without sending them."""
        self.refused = error
        return error

    def close(self) -> None:
        self._client.close()

    @contextlib.contextmanager
    def budget(self, seconds: float, what: str) -> Iterator[None]:
        """Every request inside finishes within ``seconds`` of now too (several calls, one deadline:
        ``what`` names the operation in the DeviceTimeout). Nested budgets keep the earlier end."""
        previous = self._budget
        mine = (time.monotonic() + seconds, seconds, what)
        self._budget = previous if previous is not None and previous[0] <= mine[0] else mine
        try:
            yield
        finally:
            self._budget = previous

    def _limit(self, what: str, max_bytes: int | None, seconds: float | None) -> _Limit:
        limit = _Limit(
            self.device_id, what, max_bytes, None if seconds is None else time.monotonic() + seconds, seconds
        )
        if self._budget is not None and (limit.deadline is None or self._budget[0] < limit.deadline):
            limit.deadline, limit.seconds, limit.label = self._budget
        return limit

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
    ) -> Iterator[httpx.Response]:
        """A request whose reply body is read by the caller (:func:`body_chunks`), for recordings: the same
        errors as :meth:`request`. The read timeout holds per chunk (no data for that long ends the
        download); ``max_bytes`` and ``deadline`` (seconds), when given, bound the whole reply too."""
        what = f"{method} {path.split('?', 1)[0]}"
        if self.refused is not None:
            raise type(self.refused)(
                self.device_id, f"not sending the refused credentials again ({what})", self.refused.device_said
            )
        token = _LIMIT.set(self._limit(what, max_bytes, deadline))
        try:
            with (
                self._transport_errors(what),
                self._client.stream(method, path, content=content, headers=headers) as resp,
            ):
                yield resp
        finally:
            _LIMIT.reset(token)

    @contextlib.contextmanager
    def _transport_errors(self, what: str, timeout: float | None = None) -> Iterator[None]:
        limit = timeout if timeout is not None else self.timeout
        try:
            yield
        except httpx.ConnectTimeout:
            raise Unreachable(self.device_id, f"no answer to connect within {self.timeout:g} s ({what})") from None
        except httpx.TimeoutException as exc:
            raise DeviceTimeout(self.device_id, f"no reply within {limit:g} s ({what}; {type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Unreachable(self.device_id, f"connection failed ({what}; {_reason(exc)})") from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        auth: bool = True,
        max_bytes: int = DOCUMENT_MAX,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send one request and read its whole reply; any HTTP status is returned, transport failures raise.

        ``auth=False`` sends no credentials (activation endpoints of factory-fresh devices).
        ``timeout`` overrides the read and write timeout; ``max_bytes`` caps the reply (as sent and
        as decoded: ReplyTooLarge); ``deadline`` (seconds, default :data:`DEADLINE_FACTOR` × the
        larger timeout) bounds the whole call, challenges included (DeviceTimeout).
        """
        what = f"{method} {path.split('?', 1)[0]}"  # never the query: Dahua carries passwords there
        if auth and self.refused is not None:
            raise type(self.refused)(
                self.device_id, f"not sending the refused credentials again ({what})", self.refused.device_said
            )
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(self.timeout, read=timeout, write=timeout)
        if not auth:
            extra["auth"] = None
        seconds = deadline if deadline is not None else DEADLINE_FACTOR * max(self.timeout, timeout or 0.0)
        token = _LIMIT.set(self._limit(what, max_bytes, seconds))
        try:
            with (
                self._transport_errors(what, timeout),
                self._client.stream(
                    method, path, params=params, content=content, headers=headers, files=files, **extra
                ) as resp,
            ):
                announced = resp.headers.get("content-length", "").strip()
                if announced.isdigit() and int(announced) > max_bytes:
                    raise too_large(self.device_id, what, max_bytes, int(announced), "announced")
                body = _read_capped(resp.iter_bytes(), self.device_id, what, max_bytes)
        finally:
            _LIMIT.reset(token)
        if resp.is_redirect:
            target = httpx.URL(resp.headers.get("location", "")).host or "(same host)"
            raise DeviceError(
                self.device_id,
                f"redirected to {target}; redirects are not followed ({what})",
                http_status=resp.status_code,
            )
        # The body is decoded already: the reply handed on must not claim an encoding or length of the wire's.
        kept = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        return httpx.Response(
            resp.status_code, headers=kept, content=body, request=resp.request, extensions=resp.extensions
        )


_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _read_capped(chunks: Iterable[bytes], device_id: str, what: str, cap: int) -> bytes:
    """The decoded body, at most ``cap`` bytes (a small compressed reply may unpack to gigabytes)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > cap:
            raise too_large(device_id, what, cap, size, "decoded")
        parts.append(chunk)
    return b"".join(parts)


def body_chunks(resp: httpx.Response) -> Iterator[bytes]:
    """A streamed reply's body as it arrives: the raw chunks when nothing is content-encoded (a
    recording: no decoder and no re-chunking, a third less CPU per GB than ``iter_bytes``), else
    decoded."""
    encoding = resp.headers.get("content-encoding", "identity").strip().lower()
    return resp.iter_raw() if encoding in ("", "identity") else resp.iter_bytes(1 << 20)


def _reason(exc: httpx.TransportError) -> str:
    """The cause without the URL (which may hold a Dahua query-string password)."""
    text = str(exc) or type(exc).__name__
    return text.split(" for url ", 1)[0][:120]
