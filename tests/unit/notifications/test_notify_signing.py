"""Signing schemes against independent implementations, backoff bounds and URL checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.notifications.channels import dingtalk, feishu, line, webhook
from closedloop.notifications.channels.base import Destination, Envelope
from closedloop.notifications.render import render
from closedloop.notifications.urlsafety import UnsafeDestination, check, matches_prefix, refusal
from closedloop.outbox.worker import RetryPolicy

secrets_ = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=64)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))


@given(secrets_, moments)
def test_dingtalk_sign_verifies(secret, now):
    url = dingtalk.signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, now)
    query = parse_qs(urlsplit(url).query)
    ts = query["timestamp"][0]
    assert int(ts) == int(now.timestamp() * 1000)
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    )
    assert query["sign"][0] == expected.decode()
    assert query["access_token"] == ["abc"]


@given(secrets_, moments)
def test_feishu_sign_verifies(secret, now):
    notice = render("deal_won", {"deal_name": "x"}, "en")
    doc = feishu.payload(notice, secret, now)
    key = f"{doc['timestamp']}\n{secret}".encode()
    assert doc["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert doc["timestamp"] == str(int(now.timestamp()))


@given(secrets_, moments)
def test_webhook_signature_verifies(secret, now):
    notice = render("deal_won", {"deal_name": "x"}, "en")
    envelope = Envelope("cld_1", "deal.won:1", "deal.won", {"deal_id": 1}, now)
    request = webhook.build(notice, Destination("webhook", "https://h.example.com/in", secret), envelope, now)
    ts = request.headers["X-Closedloop-Timestamp"]
    mac = hmac.new(secret.encode(), ts.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Closedloop-Signature"] == "v1=" + mac
    assert request.headers["Idempotency-Key"] == "cld_1"


def test_line_retry_key_is_a_stable_uuid():
    assert line.retry_key("cld_abc") == line.retry_key("cld_abc")
    assert line.retry_key("cld_abc") != line.retry_key("cld_abd")


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_exponential_with_bounded_jitter(attempt, seed):
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(hours=1))
    step = min(3600, 30 * 2 ** (attempt - 1))
    delay = policy.delay(attempt, random.Random(seed)).total_seconds()
    assert step / 2 <= delay <= step


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),
        ("::ffff:10.0.0.1", "private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refusal_reasons(address, reason):
    assert refusal(ipaddress.ip_address(address)) == reason


def test_names_are_resolved_and_the_checked_address_is_pinned():
    resolver = {"hooks.example.com": ["93.184.216.34"], "intranet.example.com": ["93.184.216.34", "10.0.0.7"]}

    def resolve(host, port):
        return resolver[host]

    target = check("https://hooks.example.com/x", allowed_prefixes=[], resolver=resolve)
    assert (target.host, target.port, target.address) == ("hooks.example.com", 443, "93.184.216.34")
    # One private answer among public ones is enough to refuse.
    with pytest.raises(UnsafeDestination, match=r"10\.0\.0\.7"):
        check("https://intranet.example.com/x", allowed_prefixes=[], resolver=resolve)
    allowed = check(
        "https://intranet.example.com/x", allowed_prefixes=["https://intranet.example.com/"], resolver=resolve
    )
    assert allowed.address == "93.184.216.34"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "http://user:pw@example.com/", "file:///etc/passwd", "http:///nohost"],
)
def test_other_schemes_and_credentials_refused(url):
    with pytest.raises(UnsafeDestination):
        check(url, allowed_prefixes=[url], resolver=lambda h, p: ["93.184.216.34"])


def test_metadata_refused_even_when_allow_listed():
    with pytest.raises(UnsafeDestination, match="metadata"):
        check("http://169.254.169.254/latest", allowed_prefixes=["http://169.254.169.254"])


def test_prefix_matches_only_at_a_boundary():
    assert matches_prefix("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080")
    assert matches_prefix("http://127.0.0.1:8080", "http://127.0.0.1:8080")
    assert not matches_prefix("http://127.0.0.1:80801/hook", "http://127.0.0.1:8080")
    assert not matches_prefix("http://127.0.0.1.evil.com/", "http://127.0.0.1")
    assert matches_prefix("http://10.0.0.5/hooks/a", "http://10.0.0.5/hooks/")


def test_line_409_with_accepted_request_id_counts_as_delivered():
    from closedloop.notifications.channels.base import DeliveryFailed
    from closedloop.notifications.http import HttpResponse

    line.check(HttpResponse(409, {"x-line-accepted-request-id": "abc"}, b"{}"))
    with pytest.raises(DeliveryFailed):
        line.check(HttpResponse(409, {}, b'{"message":"conflict"}'))
    with pytest.raises(DeliveryFailed) as failure:
        line.check(HttpResponse(429, {"retry-after": "30"}, b""))
    assert failure.value.retry_after == 30
