"""Initialising a factory-fresh Dahua camera: the anonymous ``/OutsideCmd`` JSON-RPC of the web wizard.

A Dahua (or OEM: KBVision, Intelbras) camera from about 2017 on ships *uninitialised*: every CGI
answers ``401 Invalid Authority!`` until an admin password is set, and the CGI API has no call
for it. The web UI's wizard does it over JSON-RPC posted to ``/OutsideCmd`` without a login
(source: an installer tool's notes from reading the wizard's code, validated on Intelbras
VIP-5460-Z-IA and VIP-1230-D-G3 cameras in 2026 [L]):

1. ``DevInit.getStatus`` → ``params.Init``: 1 factory-fresh, 2 initialised (``Find`` says which
   recovery contacts the firmware supports).
2. ``Security.getEncryptInfo`` → the device's RSA public key, ``"N:<hex>,E:010001"``.
3. ``DevInit.setProtocolAgree {"ProtocolEnable": true}`` — the licence; everything else is refused
   before it. This call carries a ``session`` field; steps 1, 4 and 5 must not.
4. ``DevInit.account`` with an encrypted envelope of ``{"name", "pwd", "CellPhone", "Mail"}``.
5. ``DevInit.access`` with an envelope of ``{"NetAccess": 0, "UpgradeCheck": 2}``: P2P cloud off,
   no automatic firmware check (the wizard tolerates its failure; so do we).

The envelope (``cipher: "RPAC-256"``): a random key of 32 *decimal digits*; ``salt`` = that key's
ASCII encrypted with the device's RSA key (PKCS#1 v1.5), lower-case hex; ``content`` = the JSON
text in AES-256-CBC with the key's ASCII bytes, IV = sixteen ASCII ``"0"`` characters (0x30),
zero padding (not PKCS#7), Base64.

The password never leaves this process in clear text, and never appears in an error.

    .venv/bin/python -c "from camfleet.drivers.dahua_init import envelope; \\
        from cryptography.hazmat.primitives.asymmetric import rsa; k = rsa.generate_private_key(65537, 2048); \\
        n = k.public_key().public_numbers(); print(envelope({'x': 1}, f'N:{n.n:X},E:010001'))"
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CIPHER = "RPAC-256"
KEY_DIGITS = 32
IV = b"0" * 16
#: ``DevInit.getStatus`` ``Init`` values.
FACTORY_FRESH, INITIALISED = 1, 2


def parse_public_key(pub: str) -> rsa.RSAPublicKey:
    """``"N:<hex>,E:<hex>"`` (``Security.getEncryptInfo``) to a key; ValueError when it is not that."""
    fields = dict(part.split(":", 1) for part in pub.split(",") if ":" in part)
    try:
        return rsa.RSAPublicNumbers(int(fields["E"], 16), int(fields["N"], 16)).public_key()
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not an RSA key in N:<hex>,E:<hex> form ({type(exc).__name__})") from None


def zero_pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 16)


def envelope(payload: Any, pub: str) -> dict[str, str]:
    """``{"cipher", "salt", "content"}`` carrying ``payload`` for the device whose key is ``pub``."""
    key = "".join(secrets.choice("0123456789") for _ in range(KEY_DIGITS)).encode("ascii")
    salt = parse_public_key(pub).encrypt(key, padding.PKCS1v15()).hex()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(IV)).encryptor()
    sealed = encryptor.update(zero_pad(json.dumps(payload, separators=(",", ":")).encode("utf-8")))
    sealed += encryptor.finalize()
    return {"cipher": CIPHER, "salt": salt, "content": base64.b64encode(sealed).decode("ascii")}
