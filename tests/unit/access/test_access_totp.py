"""One-time codes against the RFC 6238 test vectors, drift window and sealed storage."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from closedloop.users import totp

# RFC 6238 appendix B: ASCII "12345678901234567890" (SHA-1), 8-digit codes at these Unix times.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = {
    59: "94287082",
    1111111109: "07081804",
    1111111111: "14050471",
    1234567890: "89005924",
    2000000000: "69279037",
    20000000000: "65353130",
}


def test_rfc6238_vectors() -> None:
    for seconds, code in RFC_VECTORS.items():
        moment = datetime.fromtimestamp(seconds, UTC)
        assert totp.code_at(RFC_SECRET, moment, digits=8) == code
        assert totp.code_at(RFC_SECRET, moment) == code[-6:]


def test_verify_accepts_one_step_of_drift_only() -> None:
    now = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    code = totp.code_at(RFC_SECRET, now)
    assert totp.verify(RFC_SECRET, code, now + timedelta(seconds=30))
    assert totp.verify(RFC_SECRET, code[:3] + " " + code[3:], now)
    assert not totp.verify(RFC_SECRET, code, now + timedelta(seconds=95))
    assert not totp.verify(RFC_SECRET, "12345", now) and not totp.verify(RFC_SECRET, "abcdef", now)


def test_secret_is_sealed_with_the_workspace_key() -> None:
    secret = totp.new_secret()
    sealed = totp.seal(secret, secret_key="k" * 40)
    assert secret not in sealed
    assert totp.unseal(sealed, secret_key="k" * 40) == secret
    assert totp.unseal(sealed, secret_key="j" * 40) is None
    assert totp.provisioning_uri(secret, "a@corp.example").startswith(
        "otpauth://totp/closedloop%3Aa%40corp.example?"
    )
