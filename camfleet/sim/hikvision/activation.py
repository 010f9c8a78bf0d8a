"""Activation of a factory-fresh Hikvision device, device side: the §1.4 RSA/AES challenge and the
three resources that answer before any login (``activateStatus``, ``challenge``, ``activate``).

Why: a new camera refuses everything with 401 ``notActivated`` until an admin password is set, and
the password travels encrypted. The client sends its RSA public key (Base64 of the modulus in hex);
the device answers a random 32-hex-character key RSA-encrypted (PKCS#1 v1.5) to it, Base64 of the
hex of the ciphertext; the client then sends ``<ActivateInfo><password>`` as Base64 of the hex of
AES-128-ECB (key = those 32 hex characters read as 16 bytes) of the key's first 16 characters
followed by the password, zero-padded. [?] While no challenge is outstanding a plain password is
also accepted (older firmware).

Reproduce by hand against a factory-fresh camera of ``camfleet sim`` (on 127.77.0.11, say)::

    curl http://127.77.0.11/ISAPI/Security/activateStatus
    curl -X PUT -d '<ActivateInfo><password>Passw0rd-1</password></ActivateInfo>' \\
        http://127.77.0.11/ISAPI/System/activate
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from camfleet.sim.devices import password_is_strong
from camfleet.sim.faults import Fault
from camfleet.sim.hikvision.dispatch import IsapiBase, routes
from camfleet.sim.hikvision.xml import IsapiError, parse_body, text, x


class ActivationChallenge:
    """The §1.4 key exchange: RSA-encrypt a random 32-hex key for the client, AES-decrypt its password."""

    def __init__(self) -> None:
        self.secret = os.urandom(16).hex()  # 32 lower-case hex characters

    def encrypted_for(self, key_b64: str) -> str:
        try:
            modulus = int(base64.b64decode(key_b64, validate=True).decode().strip(), 16)
            public = rsa.RSAPublicNumbers(65537, modulus).public_key()
            cipher = public.encrypt(self.secret.encode(), padding.PKCS1v15())
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise IsapiError(6, "badParameters") from exc
        return base64.b64encode(cipher.hex().encode()).decode()

    def decrypt_password(self, value_b64: str) -> str | None:
        try:
            data = bytes.fromhex(base64.b64decode(value_b64, validate=True).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if not data or len(data) % 16:
            return None
        decryptor = Cipher(algorithms.AES(bytes.fromhex(self.secret)), modes.ECB()).decryptor()  # noqa: S305 - the vendor protocol
        plain = (decryptor.update(data) + decryptor.finalize()).rstrip(b"\0")
        if not plain.startswith(self.secret[:16].encode()):
            return None
        try:
            return plain[16:].decode()
        except UnicodeDecodeError:
            return None


ACTIVATION_ROUTES = routes(
    ("GET", r"/SDK/activateStatus", "get_activate_status"),
    ("GET", r"/ISAPI/Security/activateStatus", "get_activate_status"),
    ("POST", r"/ISAPI/Security/challenge", "post_challenge"),
    ("PUT", r"/ISAPI/System/activate", "put_activate"),
)


class Activation(IsapiBase):
    """The resources a device answers before it is activated, without a login."""

    OPEN = frozenset({"get_activate_status", "post_challenge", "put_activate"})
    _challenge: ActivationChallenge | None = None

    async def get_activate_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("ActivateStatus", x("Activated", self.state.activated))

    async def post_challenge(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "PublicKey", "Challenge")
        key = text(el, "key")
        if not key:
            raise IsapiError(6, "badXmlContent")
        challenge = ActivationChallenge()
        reply = challenge.encrypted_for(key)
        self._challenge = challenge
        return self.xml("Challenge", x("key", reply))

    async def put_activate(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if self.state.activated:
            raise IsapiError(4, "hasActivated")
        el = parse_body(body, "ActivateInfo")
        given = text(el, "password")
        if not given:
            raise IsapiError(6, "badXmlContent")
        password = self._challenge.decrypt_password(given) if self._challenge else given
        if password is None:
            raise IsapiError(6, "badParameters")
        if not password_is_strong(password) or self.faults.has(Fault.activation_refused):
            raise IsapiError(4, "riskPassword")
        self._challenge = None
        self.state.activate(password)
        self.auth.reset()
        self.changed()
        return self.status(request)
