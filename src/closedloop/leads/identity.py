"""Identity normalisation (SPEC section 8): emails trimmed and lower-cased, phones in E.164."""

from __future__ import annotations

import hashlib
import re

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.com.tw",
        "yahoo.com.hk",
        "yahoo.co.jp",
        "hotmail.com",
        "hotmail.com.tw",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "pchome.com.tw",
        "seed.net.tw",
        "hinet.net",
        "ms1.hinet.net",
        "gmx.com",
        "mail.com",
        "yandex.com",
    }
)
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class IdentityError(ValueError):
    """An identity value that cannot be normalised; the message says why."""


def normalise_email(value: str | None) -> str | None:
    """Trimmed, lower-cased email after a syntax check (no DNS); None for blank; IdentityError if invalid."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise IdentityError(str(exc)) from exc
    return text


def email_domain(email: str | None) -> str | None:
    """The domain part of a normalised email."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1]


def is_free_mail(domain: str | None) -> bool:
    """True for consumer mail providers, whose domain says nothing about the company."""
    return bool(domain) and domain.lower().strip() in FREE_MAIL_DOMAINS


def normalise_domain(value: str | None) -> str | None:
    """A bare lower-case host from a domain, URL or email ("https://www.Acme.com.tw/x" -> "acme.com.tw")."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    if text.startswith("www."):
        text = text[4:]
    return text or None


def normalise_phone(value: str | None, *, country: str | None = None) -> str | None:
    """E.164 form of a phone number; the default region is the lead's country, else TW."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    import phonenumbers

    region = (country or "TW").upper()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise IdentityError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise IdentityError("not a possible phone number for its region")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def identity_hash(kind: str, value: str, *, salt: str = "") -> str:
    """A salted SHA-256 of one normalised identity (erasure keeps these, never the value)."""
    return hashlib.sha256(f"{salt}:{kind}:{value}".encode()).hexdigest()


_COMPANY_SUFFIXES = re.compile(
    r"(股份有限公司|有限公司|有限責任公司|有限责任公司|股份公司|集團|集团|公司"
    r"|\b(co|corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|pte|pty|sa|ag|bv|kk)\b\.?)",
)


def normalise_company_name(value: str | None) -> str | None:
    """A company name folded for matching: case, width, punctuation and legal suffixes removed."""
    if value is None:
        return None
    import unicodedata

    text = unicodedata.normalize("NFKC", str(value)).lower().strip()
    text = text.replace("臺", "台")
    text = _COMPANY_SUFFIXES.sub(" ", text)
    text = re.sub(r"[\s\.,&'\"()\-_/]+", " ", text).strip()
    return text or None
