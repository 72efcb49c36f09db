"""Optional second factor for admins: time-based one-time codes (RFC 6238, HMAC-SHA1, 30 s, 6 digits).

The shared secret is kept encrypted (Fernet, key derived from the workspace secret key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from closedloop.users.passwords import tokens_equal

STEP_SECONDS = 30
DIGITS = 6
# Codes of the previous and next step are accepted too (clock drift between phone and server).
DRIFT_STEPS = 1
ISSUER = "closedloop"


def _box(secret_key: str) -> Fernet:
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"closedloop-users", info=b"closedloop/users/totp/v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def new_secret() -> str:
    """A random base32 secret (160 bits) for an authenticator app."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def seal(secret: str, *, secret_key: str) -> str:
    """The secret encrypted for storage in users.totp_secret."""
    return _box(secret_key).encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str, *, secret_key: str) -> str | None:
    """The secret back, or None when the workspace key changed since it was stored."""
    try:
        return _box(secret_key).decrypt(sealed.encode("ascii")).decode()
    except InvalidToken:
        return None


def code_at(secret: str, moment: datetime, *, digits: int = DIGITS) -> str:
    """The one-time code of `secret` for the 30-second step containing `moment` (RFC 4226 truncation)."""
    counter = int(moment.timestamp()) // STEP_SECONDS
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def verify(secret: str, code: str, moment: datetime) -> bool:
    """True when `code` is the code of this step or a neighbouring one (compared in constant time)."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return False
    from datetime import timedelta

    found = False
    for drift in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        expected = code_at(secret, moment + timedelta(seconds=drift * STEP_SECONDS))
        found = tokens_equal(expected, code) or found
    return found


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app scans (as a QR code) or takes as text."""
    label = quote(f"{ISSUER}:{email}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}&digits={DIGITS}&period={STEP_SECONDS}"
