"""The device side of a factory-fresh Dahua camera's initialisation: the anonymous JSON-RPC that the
web wizard posts to ``/OutsideCmd``, with the RPAC-256 envelopes it carries the password in.

Why the simulator opens envelopes itself: the driver seals them (its ``dahua_init`` module), and a
device that opened them with the driver's own code could only confirm the driver. This is written
from the protocol, the way a camera handles a call:

1. ``DevInit.getStatus`` → ``params.Init``: 1 factory-fresh, 2 initialised; ``Find`` says which
   recovery contacts the firmware supports.
2. ``Security.getEncryptInfo`` → the device's RSA public key as ``"N:<hex>,E:<hex>"`` (a 2048-bit
   key, made on first use).
3. ``DevInit.setProtocolAgree {"ProtocolEnable": true}`` (the licence) must come first, and is the
   one step that carries a ``session`` field; steps 1, 4 and 5 must not [L].
4. ``DevInit.account`` with an envelope of ``{"name", "pwd", "CellPhone", "Mail"}``; the password
   must meet the policy (8-32 characters, two classes).
5. ``DevInit.access`` with an envelope of ``{"NetAccess": 0, "UpgradeCheck": 2}``, once, right
   after the account: NetAccess 0 turns the P2P cloud off.

An envelope is ``{"cipher": "RPAC-256", "salt", "content"}``: ``salt`` is a random key of 32
decimal digits encrypted to the device key (RSA, PKCS#1 v1.5), in hex; ``content`` is the JSON
text in AES-256-CBC under the key's 32 ASCII bytes, IV sixteen ASCII ``"0"``, zero padding (not
PKCS#7), Base64 [L]. Anything that does not open answers ``Decryption failed``; the error codes
are [?].

Reproduce by hand (a factory-fresh Dahua camera of ``camfleet sim`` on 127.77.0.21)::

    curl -s -X POST http://127.77.0.21/OutsideCmd -d '{"method": "DevInit.getStatus", "id": 1}'
    curl -s -X POST http://127.77.0.21/OutsideCmd -d '{"method": "Security.getEncryptInfo", "id": 2}'
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from camfleet.sim.devices import CameraState, password_is_strong

FACTORY_FRESH, INITIALISED = 1, 2  # DevInit.getStatus "Init"
CIPHER_NAME = "RPAC-256"
KEY = re.compile(rb"[0-9]{32}")  # the envelope's session key: 32 ASCII decimal digits
IV = b"0" * 16  # sixteen ASCII zeros, not zero bytes
BLOCK = 16


class BadEnvelope(Exception):
    """An envelope the device cannot open; the RPC answers ``Decryption failed``."""


def open_envelope(params: object, device_key: rsa.RSAPrivateKey) -> Any:
    """The JSON an RPAC-256 envelope carries, opened step by step as the device does."""
    if not isinstance(params, dict) or params.get("cipher") != CIPHER_NAME:
        raise BadEnvelope("not an RPAC-256 envelope")
    salt, content = params.get("salt"), params.get("content")
    if not isinstance(salt, str) or not isinstance(content, str):
        raise BadEnvelope("salt and content must be strings")
    try:
        session_key = device_key.decrypt(bytes.fromhex(salt), padding.PKCS1v15())
    except ValueError:
        raise BadEnvelope("the salt does not decrypt with the device key") from None
    if not KEY.fullmatch(session_key):
        raise BadEnvelope("the session key is not 32 decimal digits")
    try:
        sealed = base64.b64decode(content, validate=True)
    except binascii.Error:
        raise BadEnvelope("the content is not Base64") from None
    if not sealed or len(sealed) % BLOCK:
        raise BadEnvelope("the content is not whole AES blocks")
    aes = Cipher(algorithms.AES256(session_key), modes.CBC(IV)).decryptor()
    padded = aes.update(sealed) + aes.finalize()
    plain = padded.rstrip(b"\0")  # zero padding
    try:
        return json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadEnvelope("the content is not JSON") from None


class InitWizard:
    """``/OutsideCmd`` of one camera: which step it has reached, and its RSA key."""

    #: Methods the wizard sends with a ``session`` field, and those it must not carry one [L].
    WITH_SESSION: ClassVar[frozenset[str]] = frozenset({"DevInit.setProtocolAgree", "DevInit.getProtocolAgree"})
    RPC_ERRORS: ClassVar[dict[str, tuple[int, str]]] = {  # codes [?]
        "bad_request": (268894209, "Invalid request"),
        "no_method": (268894210, "Method not found"),
        "initialised": (268632080, "Device already initialized"),
        "agree_first": (268632081, "Protocol not agreed"),
        "weak": (268632082, "Password does not meet the policy"),
        "envelope": (268632083, "Decryption failed"),
    }

    def __init__(self, state: CameraState, on_change: Callable[[], None]) -> None:
        self.state = state
        self.on_change = on_change
        self._agreed = False  # DevInit.setProtocolAgree seen (until the next restart)
        self._just_initialised = False  # DevInit.access accepted once, right after DevInit.account
        self._rsa: rsa.RSAPrivateKey | None = None

    async def answer(self, request: web.Request) -> web.Response:
        try:
            call = json.loads(await request.read())
        except ValueError:
            call = None
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return self._reply(None, error="bad_request")
        method, params, rpc_id = call["method"], call.get("params"), call.get("id")
        if ("session" in call) != (method in self.WITH_SESSION):
            return self._reply(rpc_id, error="bad_request")
        s = self.state
        if method == "DevInit.getStatus":
            return self._reply(rpc_id, {"Init": INITIALISED if s.activated else FACTORY_FRESH, "Find": "AB"})
        if method == "Security.getEncryptInfo":
            n = (await self._key()).public_key().public_numbers()
            pub = f"N:{n.n:X},E:{n.e:06X}"
            info = {"asymmetric": "RSA", "cipher": ["AES", "RPAC"], "AESPadding": ["ZERO", "PKCS7"], "pub": pub}
            return self._reply(rpc_id, info)
        if method not in ("DevInit.setProtocolAgree", "DevInit.account", "DevInit.access"):
            return self._reply(rpc_id, error="no_method")
        if method == "DevInit.access":  # the wizard's last step, right after the account
            if not self._just_initialised:
                return self._reply(rpc_id, error="initialised" if s.activated else "agree_first")
            try:
                payload = open_envelope(params, await self._key())
            except BadEnvelope:
                return self._reply(rpc_id, error="envelope")
            self._just_initialised = False
            if isinstance(payload, dict) and payload.get("NetAccess") == 0:
                s.services.p2p = False  # NetAccess 0: no P2P cloud
                self.on_change()
            return self._reply(rpc_id, {})
        if s.activated:
            return self._reply(rpc_id, error="initialised")
        if method == "DevInit.setProtocolAgree":
            self._agreed = isinstance(params, dict) and params.get("ProtocolEnable") is True
            return self._reply(rpc_id, {}, error=None if self._agreed else "bad_request")
        if not self._agreed:
            return self._reply(rpc_id, error="agree_first")
        try:
            payload = open_envelope(params, await self._key())
        except BadEnvelope:
            return self._reply(rpc_id, error="envelope")
        user = payload.get("name", "") if isinstance(payload, dict) else ""
        password = payload.get("pwd", "") if isinstance(payload, dict) else ""
        if not isinstance(password, str) or not password_is_strong(password, 32):
            return self._reply(rpc_id, error="weak")
        if not isinstance(user, str) or not re.fullmatch(r"\w{1,31}", user):
            return self._reply(rpc_id, error="bad_request")
        s.activate(password, user)
        self._just_initialised = True
        self.on_change()
        return self._reply(rpc_id, {})

    async def _key(self) -> rsa.RSAPrivateKey:
        """The device's RSA key, made on first use in a thread (tens of ms: the other devices go on)."""
        if self._rsa is None:
            self._rsa = await asyncio.to_thread(rsa.generate_private_key, public_exponent=65537, key_size=2048)
        return self._rsa

    @classmethod
    def _reply(cls, rpc_id: object, params: object = None, *, error: str | None = None) -> web.Response:
        body: dict[str, object] = {"id": rpc_id, "result": error is None}
        if error is None:
            body["params"] = params
        else:
            code, message = cls.RPC_ERRORS[error]
            body["error"] = {"code": code, "message": message}
        return web.json_response(body)
