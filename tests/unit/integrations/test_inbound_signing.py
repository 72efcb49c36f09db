"""The inbound signature check: a sender's independent HMAC verifies; any change or delay refuses."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.errors import Unauthenticated
from closedloop.integrations.signing import verify

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
secrets_ = st.text(min_size=16, max_size=64)


def sender_signature(secret: str, ts: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


@given(secrets_, st.binary(max_size=2000), st.integers(min_value=-300, max_value=300))
def test_sender_signature_verifies_within_the_window(secret, body, skew):
    ts = int(NOW.timestamp()) + skew
    signed_at = verify(
        secret=secret, timestamp=str(ts), signatures=sender_signature(secret, ts, body), body=body, now=NOW
    )
    assert signed_at == NOW + timedelta(seconds=skew)


@given(secrets_, st.binary(min_size=1, max_size=500), st.data())
def test_any_changed_byte_is_refused(secret, body, data):
    ts = int(NOW.timestamp())
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    changed = bytearray(body)
    changed[position] ^= 0x01
    with pytest.raises(Unauthenticated):
        verify(
            secret=secret,
            timestamp=str(ts),
            signatures=sender_signature(secret, ts, body),
            body=bytes(changed),
            now=NOW,
        )


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_outside_five_minutes_refused(skew):
    ts = int(NOW.timestamp()) + skew
    with pytest.raises(Unauthenticated, match="5 minutes"):
        verify(
            secret="s" * 16,
            timestamp=str(ts),
            signatures=sender_signature("s" * 16, ts, b"{}"),
            body=b"{}",
            now=NOW,
        )


@pytest.mark.parametrize("timestamp", [None, "", "12a", "-5", "1.5"])
def test_malformed_timestamp_refused(timestamp):
    with pytest.raises(Unauthenticated):
        verify(secret="s" * 16, timestamp=timestamp, signatures="v1=00", body=b"{}", now=NOW)


def test_integration_messages_complete():
    from closedloop.i18n import LANGUAGES, MESSAGES

    keys = [k for k in MESSAGES if k.startswith("integrations.")]
    assert keys
    for key in keys:
        assert all(MESSAGES[key].get(lang) for lang in LANGUAGES), key
