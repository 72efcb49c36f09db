"""Secrets at rest: Fernet with a key derived from the settings' secret key by HKDF-SHA256."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from closedloop.errors import ConfigurationError

# Domain separation: the same secret key derives other keys elsewhere with other labels.
_INFO = b"closedloop/notifications/secrets/v1"
_SALT = b"closedloop-notifications"


class SecretBox:
    """Encrypts and decrypts channel URLs, tokens and passwords."""

    def __init__(self, secret_key: str) -> None:
        raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))

    def encrypt(self, value: str | None) -> str | None:
        """The Fernet token of `value` (None stays None)."""
        if value is None:
            return None
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        """The clear value of a token written by `encrypt` with the same secret key."""
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "a stored notification secret cannot be decrypted: CLOSEDLOOP_SECRET_KEY changed since it was saved"
            ) from exc
