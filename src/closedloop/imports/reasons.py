"""Row-level error reasons in the report's language.

The importers write each reason in English (it is also what the quarantine keeps); a report
shown in zh-TW or zh-CN matches the reason against these patterns and translates it, keeping
the values it quotes. A reason no pattern knows (an email validator's wording) stays English.
"""

from __future__ import annotations

import re
from functools import lru_cache

from closedloop.i18n import normalise_language, translate
from closedloop.imports.report import ImportReport, RowError

# (pattern, message key); the named groups are the message's placeholders.
PATTERNS: tuple[tuple[str, str], ...] = (
    (r"required", "imports.reason.required"),
    (r"required \(or period_start and period_end\)", "imports.reason.required_date_or_period"),
    (r"not a date/time", "imports.reason.not_datetime"),
    (r"not a (?:valid )?date: (?P<value>.*)", "imports.reason.not_date"),
    (r"not a (?:valid )?time: (?P<value>.*)", "imports.reason.not_time"),
    (r"not a (?:finite )?number: (?P<value>.*)", "imports.reason.not_number"),
    (r"not a whole non-negative number", "imports.reason.not_count"),
    (r"not an email address", "imports.reason.not_email"),
    (r"longer than (?P<n>\d+) characters", "imports.reason.too_long"),
    (r"not a touch type \((?P<allowed>.*)\)", "imports.reason.not_touch_type"),
    (r"not a lead type \((?P<allowed>.*)\)", "imports.reason.not_lead_type"),
    (r"not a source type \((?P<allowed>.*)\)", "imports.reason.not_source_type"),
    (r"not a revenue kind \((?P<allowed>.*)\)", "imports.reason.not_revenue_kind"),
    (r"not a cost kind \((?P<allowed>.*)\)", "imports.reason.not_cost_kind"),
    (r"not an activity type \((?P<allowed>.*)\)", "imports.reason.not_activity_type"),
    (r"not a channel of the channel rules(?P<allowed> \(.*\))?", "imports.reason.not_channel"),
    (r"not a lifecycle stage: (?P<value>.*)", "imports.reason.not_stage"),
    (r"no lead with this identity \(import (?:the )?leads first\)", "imports.reason.no_lead"),
    (r"no deal with this external id \(import deals first\)", "imports.reason.no_deal"),
    (r"no revenue document with this external id", "imports.reason.no_document"),
    (r"no team with this name", "imports.reason.no_team"),
    (r"no company with this name", "imports.reason.no_company"),
    (r"no company and no lead", "imports.reason.no_company_or_lead"),
    (r"one of (?P<columns>.+) is required", "imports.reason.one_of_required"),
    (r"one identity required: (?P<columns>.+)", "imports.reason.one_identity"),
    (r"row has more fields than the header", "imports.reason.extra_fields"),
    (r"row has (?P<n>\d+) more field\(s\) than the header", "imports.reason.extra_fields_n"),
    (r"period ends before it starts", "imports.reason.period_order"),
    (r"closed before it was created", "imports.reason.closed_before_created"),
    (r"a deal amount cannot be negative", "imports.reason.negative_amount"),
    (r"a rate is positive", "imports.reason.rate_positive"),
    (r"scale is 5 or 10", "imports.reason.scale"),
    (r"score out of range (?P<low>\d+)-(?P<top>\d+)", "imports.reason.score_range"),
    (r"same record as row (?P<row>\d+) of this file", "imports.reason.same_as_row"),
    (r"identities belong to different leads (?P<ids>.*): merge them first", "imports.reason.merge_first"),
    (r"the same campaign and day is also in (?P<currency>.*)", "imports.reason.two_currencies"),
)
_COMPILED = tuple((re.compile(pattern + r"\Z", re.DOTALL), key) for pattern, key in PATTERNS)


@lru_cache(maxsize=4096)
def translate_reason(reason: str, lang: str) -> str:
    """`reason` in `lang` when a pattern knows it, else unchanged."""
    lang = normalise_language(lang)
    if lang == "en":
        return reason
    for pattern, key in _COMPILED:
        match = pattern.match(reason)
        if match:
            values = {k: (v if v is not None else "") for k, v in match.groupdict().items()}
            return translate(key, lang, **values)
    return reason


def translated_error(error: RowError, lang: str) -> RowError:
    """The error with its reason in `lang`."""
    reason = translate_reason(error.reason, lang)
    return error if reason == error.reason else RowError(error.row, error.column, error.value, reason)


def translated_errors(report: ImportReport, lang: str) -> list[RowError]:
    """The report's kept row errors with their reasons in `lang`."""
    return [translated_error(e, lang) for e in report.errors]
