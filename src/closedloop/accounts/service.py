"""Customer companies: matching by tax id, then domain (never free mail), then normalised name."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.accounts.models import Account
from closedloop.leads.identity import is_free_mail, normalise_company_name, normalise_domain


class AccountError(ValueError):
    """A company reference that cannot be used; the message says why."""


def normalise_tax_id(value: str | None) -> str | None:
    """統一編號 (8 digits) or 统一社会信用代码 (18 characters), spaces and dashes removed, upper-cased."""
    if value is None:
        return None
    text = re.sub(r"[\s\-]", "", str(value)).upper()
    if not text:
        return None
    if re.fullmatch(r"\d{8}", text) or re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", text):
        return text
    raise AccountError(f"not a Taiwan 統一編號 (8 digits) or a 统一社会信用代码 (18 characters): {value!r}")


def company_domain(value: str | None) -> str | None:
    """The company's web domain from a domain, URL or email; None for free-mail providers."""
    domain = normalise_domain(value)
    if domain is None or is_free_mail(domain):
        return None
    return domain


def find_account(
    *, session: Session, tax_id: str | None = None, domain: str | None = None, name: str | None = None
) -> Account | None:
    """The existing account matching by tax id first, then domain, then normalised name."""
    if tax_id:
        found = session.scalar(select(Account).where(Account.tax_id == tax_id))
        if found is not None:
            return found
    domain = company_domain(domain)
    if domain:
        found = session.scalar(select(Account).where(Account.domain == domain).order_by(Account.id).limit(1))
        if found is not None:
            return found
    folded = normalise_company_name(name)
    if folded:
        return session.scalar(
            select(Account).where(Account.normalised_name == folded).order_by(Account.id).limit(1)
        )
    return None


def match_or_create_account(
    *,
    session: Session,
    name: str | None,
    tax_id: str | None = None,
    domain: str | None = None,
    industry: str | None = None,
    company_size: str | None = None,
    employees: int | None = None,
    country: str | None = None,
) -> tuple[Account | None, bool]:
    """(account, created): the matching account, its empty fields filled; a new one when none matches."""
    tax_id = normalise_tax_id(tax_id)
    domain = company_domain(domain)
    account = find_account(session=session, tax_id=tax_id, domain=domain, name=name)
    if account is None:
        label = (name or "").strip() or domain or tax_id
        if not label:
            return None, False
        account = Account(
            name=label,
            normalised_name=normalise_company_name(label) or label.lower(),
            tax_id=tax_id,
            domain=domain,
            industry=industry,
            company_size=company_size,
            employees=employees,
            country=country,
        )
        session.add(account)
        session.flush()
        return account, True
    # Fill only what is empty: an import never overwrites what people entered.
    for attr, value in (
        ("tax_id", tax_id),
        ("domain", domain),
        ("industry", industry),
        ("company_size", company_size),
        ("employees", employees),
        ("country", country),
    ):
        if value is not None and getattr(account, attr) is None:
            if attr == "tax_id" and session.scalar(select(Account.id).where(Account.tax_id == value)):
                continue
            setattr(account, attr, value)
    return account, False
