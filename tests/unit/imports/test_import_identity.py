"""Identity normalisation and company keys (SPEC section 8 and 7)."""

from __future__ import annotations

import pytest

from closedloop.accounts.service import AccountError, company_domain, normalise_tax_id
from closedloop.leads.identity import (
    IdentityError,
    is_free_mail,
    normalise_company_name,
    normalise_email,
    normalise_phone,
)


def test_email_trimmed_lowered_and_checked_without_dns() -> None:
    assert normalise_email("  Alice.Wang@Example.COM ") == "alice.wang@example.com"
    assert normalise_email("") is None
    for bad in ("alice", "alice@", "a@b@c.com", "alice@example"):
        with pytest.raises(IdentityError):
            normalise_email(bad)


def test_phone_to_e164_with_the_leads_country() -> None:
    assert normalise_phone("0912-345-678") == "+886912345678"  # default region TW
    assert normalise_phone("(02) 2345-6789") == "+886223456789"
    assert normalise_phone("138 0013 8000", country="CN") == "+8613800138000"
    assert normalise_phone("+1 415 555 2671", country="TW") == "+14155552671"
    with pytest.raises(IdentityError):
        normalise_phone("12")


def test_company_keys() -> None:
    assert normalise_company_name("台灣積體電路製造股份有限公司") == normalise_company_name(
        "臺灣積體電路製造 公司"
    )
    assert normalise_company_name("Acme Co., Ltd.") == normalise_company_name("ACME")
    assert normalise_tax_id("2280-3345") == "22803345"
    assert normalise_tax_id("91350100M000100Y43") == "91350100M000100Y43"
    with pytest.raises(AccountError):
        normalise_tax_id("1234")
    assert is_free_mail("gmail.com") and is_free_mail("yahoo.com.tw") and is_free_mail("qq.com")
    assert company_domain("bob@163.com") is None
    assert company_domain("https://www.Acme.com.tw/about") == "acme.com.tw"
