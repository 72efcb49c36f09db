"""Pure capture pieces: event parsing, form parsing, origins, token buckets, the snippet tag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.capture import forms
from closedloop.capture.cli import snippet_html
from closedloop.capture.events import BatchError, CaptureEvent, parse_batch, parse_event, parse_timestamp
from closedloop.capture.ratelimit import RateLimiter, TokenBuckets
from closedloop.capture.service import normalise_origin, origin_allowed
from closedloop.errors import ValidationFailed

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_event_reads_utms_and_click_ids_from_the_landing_url_and_explicit_fields_win() -> None:
    event = parse_event(
        {
            "id": "e1",
            "type": "ad_click",
            "url": "https://Shop.Example.com/p?utm_source=google&UTM_MEDIUM=cpc&gclid=abc&x=1#top",
            "ref": "https://www.google.com/search?q=secret",
            "utm_campaign": "Brand TW",
            "utm_medium": "paid",
            "vid": "visitor-123",
        },
        index=0,
        visitor_key=None,
        now=NOW,
    )
    assert isinstance(event, CaptureEvent)
    assert event.values == {
        "utm_source": "google",
        "utm_medium": "paid",
        "gclid": "abc",
        "utm_campaign": "Brand TW",
    }
    # Landing pages and referrers keep scheme, host and path only (no query: ids and search terms).
    assert event.landing_page == "https://shop.example.com/p"
    assert event.referrer == "https://www.google.com/search"
    assert event.occurred_at == NOW and event.visitor_key == "visitor-123"


def test_timestamps_iso_or_epoch_ms_future_skew_forgiven_old_refused() -> None:
    assert parse_timestamp("2026-05-01T20:00:00+08:00", now=NOW) == NOW
    assert parse_timestamp(1777636800000, now=NOW) == NOW  # 2026-05-01T12:00:00Z in ms
    assert parse_timestamp("2026-05-01T12:05:00Z", now=NOW) == NOW + timedelta(minutes=5)
    assert parse_timestamp("2026-05-02T12:00:00Z", now=NOW) == NOW  # a day ahead: the server's time
    for bad in ("2026-05-01T12:00:00", "yesterday", True, -5, "2024-01-01T00:00:00Z"):
        with pytest.raises(ValueError):
            parse_timestamp(bad, now=NOW)


def test_every_bad_field_is_named_with_its_event_index() -> None:
    parsed = parse_batch(
        {
            "vid": "visitor-123",
            "events": [
                {"id": "ok"},
                {"id": "has space", "type": "form_submit", "url": "javascript:alert(1)", "utm_source": 5},
                {"id": "x", "vid": "short"},
                ["not", "an", "object"],
            ],
        },
        now=NOW,
        max_events=10,
    )
    assert [e.event_id for e in parsed.events] == ["ok"]
    found = {(index, err.field) for index, _, errors in parsed.rejected for err in errors}
    assert found == {(1, "id"), (1, "type"), (1, "url"), (1, "utm_source"), (2, "vid"), (3, "(event)")}
    assert parsed.rejected[0][1]["vid"] == "visitor-123"  # the batch's visitor id is kept with the event


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "(body)"),
        ({"events": []}, "events"),
        ({"events": "x"}, "events"),
        ({"events": [{}] * 11}, "events"),
    ],
)
def test_unusable_batches_raise_naming_the_field(body, field) -> None:
    with pytest.raises(BatchError) as caught:
        parse_batch(body, now=NOW, max_events=10)
    assert caught.value.error.field == field and caught.value.error.index is None


def test_form_fields_are_validated_and_split_into_lead_values_custom_and_touches() -> None:
    parsed = forms.parse_submission(
        {
            "Email": "  Lin@Example.COM ",
            "phone": "(02) 2345-6789",
            "first_name": "Lin",
            "Company": "Acme 股份有限公司",
            "cl_vid": "visitor-123",
            "cl_first_utm_source": "facebook",
            "cl_last_gclid": "G1",
            "cl_first_ts": "1777636800000",
            "cl_hp": "",
            "password": "",
        },
        now=NOW,
        required=["email", "first_name"],
    )
    assert isinstance(parsed, forms.FormSubmission)
    assert (parsed.email, parsed.phone) == ("lin@example.com", "+886223456789")
    assert parsed.lead_values == {"first_name": "Lin"}
    assert parsed.custom == {"company": "Acme 股份有限公司"}
    assert parsed.first_touch == {"utm_source": "facebook"} and parsed.last_touch == {"gclid": "G1"}
    assert parsed.first_at == NOW and not parsed.honeypot


def test_form_errors_name_each_field() -> None:
    errors = forms.parse_submission(
        {"email": "nobody@", "phone": "12", "country": "Taiwan"}, now=NOW, required=["email", "last_name"]
    )
    assert isinstance(errors, list)
    assert [e.field for e in errors] == ["country", "email", "phone", "last_name"]
    assert forms.parse_submission({"name": "x"}, now=NOW, required=[])[0].field == "email"
    # A form can require more fields than the server does, never fewer.
    stricter = forms.parse_submission({"email": "a@example.com", "cl_required": "company, email"}, now=NOW)
    assert [(e.field, e.reason) for e in stricter] == [("company", "required")]


def test_origins_are_normalised_and_matched_exactly() -> None:
    assert normalise_origin("HTTPS://WWW.Example.com:443/path?q") == "https://www.example.com"
    assert normalise_origin("http://localhost:8080") == "http://localhost:8080"
    for bad in ("ftp://example.com", "example.com", "https://"):
        with pytest.raises(ValidationFailed):
            normalise_origin(bad)
    allowed = ["https://www.example.com"]
    assert origin_allowed(allowed, "https://www.example.com")
    assert not origin_allowed(allowed, "http://www.example.com")
    assert not origin_allowed(allowed, "https://www.example.com.evil.test")
    assert not origin_allowed(allowed, None) and not origin_allowed(allowed, "null")


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_its_rate() -> None:
    clock = FakeTime()
    buckets = TokenBuckets(rate=10, burst=20, monotonic=clock)
    assert buckets.take("k", 20) == 0.0
    assert buckets.take("k", 1) == pytest.approx(0.1)
    clock.now = 0.5  # five tokens back
    assert buckets.take("k", 5) == 0.0
    assert buckets.take("k", 2) == pytest.approx(0.2)
    assert buckets.take("other", 20) == 0.0  # keys do not share


def test_a_request_refused_by_the_key_limit_does_not_spend_the_ip_tokens() -> None:
    limiter = RateLimiter(key_rate=1, key_burst=5, ip_rate=1, ip_burst=10)
    assert limiter.check(key="k", ip="1.2.3.4", cost=5) == 0.0
    assert limiter.check(key="k", ip="1.2.3.4", cost=5) > 0  # key empty
    assert limiter.check(key="k2", ip="1.2.3.4", cost=5) == 0.0  # the IP still had its 5 tokens


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 2), st.integers(1, 5)), min_size=1, max_size=60))
def test_token_bucket_never_allows_more_than_burst_plus_rate_times_time(steps) -> None:
    clock = FakeTime()
    rate, burst = 4.0, 8.0
    buckets = TokenBuckets(rate=rate, burst=burst, monotonic=clock)
    allowed = 0
    for gap, cost in steps:
        clock.now += gap
        if buckets.take("k", cost) == 0.0:
            allowed += cost
    assert allowed <= burst + rate * clock.now + 1e-9


def test_snippet_tag_points_at_the_server_and_names_the_key() -> None:
    tag = snippet_html(base_url="https://cl.example.com/", public_key="pk_abc")
    assert (
        tag == '<script async src="https://cl.example.com/t/closedloop.js" data-site-key="pk_abc"></script>'
    )
