"""One call per document: the bytes of a pack, the glossary or the SLA agreement (what CLI and worker use)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.clock import Clock, system_clock
from closedloop.handoffs.models import REJECTION_REASONS
from closedloop.i18n import translate
from closedloop.reports import build, glossary, render

KINDS = ("weekly", "monthly")
FORMATS = ("html", "pdf")


def as_of_moment(url: str, as_of: str | datetime | None, clock: Clock = system_clock) -> datetime:
    """`--as-of` read as the analytics layer reads it (a local date or moment; default now)."""
    return api.slice_for(url, as_of=as_of, clock=clock).as_of


def _local(url: str, moment: datetime) -> str:
    """The moment in the reporting time zone, as the packs print it."""
    return moment.astimezone(ZoneInfo(api.workspace(url).time_zone)).isoformat(timespec="seconds")


def _out(html: str, output_format: str) -> bytes:
    return render.to_pdf(html) if output_format == "pdf" else html.encode("utf-8")


def pack_html(pack: dict[str, Any], lang: str) -> str:
    """A built pack as HTML in `lang`."""
    return render.render_html("pack.html", lang, pack=pack, charts=render.charts(pack, lang))


def render_pack(
    url: str, *, session: Session, kind: str, lang: str = "en", output_format: str = "html",
    as_of: str | datetime | None = None, clock: Clock = system_clock,
) -> tuple[bytes, dict[str, Any]]:  # fmt: skip
    """The weekly review pack or monthly closed-loop report as HTML or PDF bytes, and its numbers."""
    moment = as_of_moment(url, as_of, clock)
    pack = build.build_pack(url, session=session, kind=kind, as_of=moment)
    return _out(pack_html(pack, lang), output_format), pack


def render_glossary(
    url: str, *, session: Session, lang: str = "en", output_format: str = "html",
    as_of: str | datetime | None = None, clock: Clock = system_clock,
) -> bytes:  # fmt: skip
    """The glossary and "how we work" page in `lang`."""
    moment = as_of_moment(url, as_of, clock)
    html = render.render_html("glossary.html", lang, g=glossary.glossary(session, moment, lang),
                              as_of=_local(url, moment))  # fmt: skip
    return _out(html, output_format)


def render_sla_agreement(
    url: str, *, session: Session, lang: str = "en", output_format: str = "html",
    as_of: str | datetime | None = None, clock: Clock = system_clock,
) -> bytes:  # fmt: skip
    """The printable one-page SLA agreement with the targets in force."""
    moment = as_of_moment(url, as_of, clock)
    reasons = [{"code": r, "name": translate(f"reason.{r}", lang)} for r in REJECTION_REASONS]
    html = render.render_html("sla.html", lang, terms=glossary.sla_terms(session, moment, lang), reasons=reasons,
                              as_of=_local(url, moment))  # fmt: skip
    return _out(html, output_format)
