"""The default channel grouping on worked examples; the row and vectorised derivations agree."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.errors import ValidationFailed
from closedloop.marketing.channels import CHANNELS, derive_channel, derive_channels, validate_rules

EXAMPLES = [
    ({"utm_source": "google", "utm_medium": "cpc"}, "Paid Search"),
    ({"gclid": "Cj0KCQ"}, "Paid Search"),
    ({"msclkid": "abc", "utm_source": "bing"}, "Paid Search"),
    ({"utm_source": "Facebook", "utm_medium": "paid_social"}, "Paid Social"),
    ({"fbclid": "x", "utm_medium": "cpc"}, "Paid Social"),
    ({"ttclid": "x"}, "Paid Social"),
    ({"utm_source": "line", "utm_medium": "cpc"}, "Paid Social"),  # LINE Ads are paid social
    ({"utm_source": "gdn", "utm_medium": "display"}, "Display"),
    ({"utm_source": "partnerx", "utm_medium": "affiliate"}, "Affiliates"),
    ({"utm_source": "newsletter", "utm_medium": "email"}, "Email"),
    ({"utm_source": "mailchimp", "utm_medium": "e-mail"}, "Email"),
    ({"utm_source": "line", "utm_medium": "message"}, "Messaging"),
    ({"utm_source": "wechat"}, "Messaging"),
    ({"referrer": "https://liff.line.me/123"}, "Messaging"),
    ({"line_click_id": "x"}, "Messaging"),
    ({"utm_source": "computex", "utm_medium": "event"}, "Events"),
    ({"utm_medium": "webinar"}, "Events"),
    ({"utm_source": "facebook", "utm_medium": "social"}, "Organic Social"),
    ({"referrer": "https://l.facebook.com/l.php"}, "Organic Social"),
    ({"referrer": "https://www.dcard.tw/f/tech"}, "Organic Social"),
    ({"fbclid": "x"}, "Organic Social"),
    ({"utm_source": "google", "utm_medium": "organic"}, "Organic Search"),
    ({"referrer": "https://www.google.com.tw/search?q=crm"}, "Organic Search"),
    ({"referrer": "https://tw.search.yahoo.com/search?p=crm"}, "Organic Search"),
    ({"referrer": "https://www.baidu.com/s?wd=crm"}, "Organic Search"),
    ({"referrer": "https://blog.example.org/post"}, "Referral"),
    ({"utm_source": "partner-site", "utm_medium": "referral"}, "Referral"),
    ({}, "Direct"),
    ({"utm_source": "(direct)", "utm_medium": "(none)"}, "Direct"),
    ({"utm_source": "someplace", "utm_medium": "print"}, "Other"),
]


@pytest.mark.parametrize(("touch", "channel"), EXAMPLES)
def test_default_grouping(touch: dict[str, str], channel: str) -> None:
    assert derive_channel(touch) == channel


def test_vectorised_matches_the_examples() -> None:
    frame = pd.DataFrame([t for t, _ in EXAMPLES])
    assert derive_channels(frame).tolist() == [c for _, c in EXAMPLES]


def test_first_match_wins_and_rules_are_editable() -> None:
    rules = [
        {"channel": "Events", "when": [{"campaign_regex": "^expo"}]},
        {"channel": "Paid Search", "when": [{"click_id": ["gclid"]}]},
    ]
    touch = {"utm_campaign": "Expo2025", "gclid": "x"}
    assert derive_channel(touch, rules) == "Events"
    assert derive_channel({"gclid": "x"}, rules) == "Paid Search"
    assert derive_channel({"utm_source": "google"}, rules) == "Other"
    with pytest.raises(ValidationFailed):
        validate_rules([{"channel": "X", "when": [{"colour_in": ["red"]}]}])
    with pytest.raises(ValidationFailed):
        validate_rules([{"channel": "X", "when": [{"source_regex": "("}]}])


VALUES = st.sampled_from(["", "google", "facebook", "line", "cpc", "email", "organic", "social", "event",
                          "display", "referral", "(direct)", "Paid_Social", "newsletter", "x"])  # fmt: skip
REFERRERS = st.sampled_from(
    ["", "https://www.google.com/", "https://line.me/x", "https://ptt.cc/b", "https://a.b/c"]
)
CLICKS = st.sampled_from(["", "id1"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "utm_source": VALUES, "utm_medium": VALUES, "utm_campaign": VALUES, "referrer": REFERRERS,
    "gclid": CLICKS, "fbclid": CLICKS, "line_click_id": CLICKS, "ttclid": CLICKS,
}), min_size=1, max_size=30))  # fmt: skip
def test_row_and_vectorised_derivations_agree(touches: list[dict[str, str]]) -> None:
    vectorised = derive_channels(pd.DataFrame(touches)).tolist()
    assert vectorised == [derive_channel(t) for t in touches]
    assert set(vectorised) <= set(CHANNELS)
