"""The pages' catalogue is complete: every key the pages use exists, in all three languages."""

from __future__ import annotations

import re
import string
from pathlib import Path

from closedloop.analytics.declarations import LEAD_DIMENSIONS
from closedloop.attribution.service import MODELS
from closedloop.handoffs.models import ACTIVITY_TYPES, REJECTION_REASONS
from closedloop.i18n import LANGUAGES, translate
from closedloop.i18n.catalog import MESSAGES
from closedloop.i18n.messages.web import MESSAGES as WEB
from closedloop.web.pages import marketing, overview, pipeline, queue

WEB_DIR = Path(__file__).resolve().parents[3] / "src" / "closedloop" / "web"
KEY = re.compile(r"""["'](web\.[a-z_.]*[a-z_])["']""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_page_message_has_three_languages_with_the_same_placeholders() -> None:
    for key, entry in WEB.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
        assert _fields(entry["zh-TW"]) == _fields(entry["en"]) == _fields(entry["zh-CN"]), key


def test_zh_texts_are_not_english_left_behind() -> None:
    """A zh text identical to a multi-word English one is an untranslated string."""
    for key, entry in WEB.items():
        if " " in entry["en"] and not entry["en"].startswith("{"):
            assert entry["zh-TW"] != entry["en"] and entry["zh-CN"] != entry["en"], key


def test_every_key_written_in_the_pages_and_templates_exists() -> None:
    used = set()
    for path in [*(WEB_DIR / "pages").glob("*.py"), *(WEB_DIR / "templates" / "pages").glob("*.html")]:
        used |= set(KEY.findall(path.read_text(encoding="utf-8")))
    assert used and used <= set(MESSAGES), sorted(used - set(MESSAGES))


def test_keys_built_at_run_time_exist() -> None:
    """Keys assembled from data (metric, dimension, model, reason, activity ...) are in the catalogue."""
    built = (
        [f"web.metric.{m}" for m in (*overview.CARDS, *marketing.CAMPAIGN_MONEY)]
        + [f"web.dim.{d}" for d in LEAD_DIMENSIONS]
        + [f"web.model.{m}" for m in MODELS]
        + [f"web.conversion.{c}" for c in ("lead", "mql", "sql", "opportunity", "won")]
        + [f"web.activity.{a}" for a in ACTIVITY_TYPES]
        + [f"reason.{r}" for r in REJECTION_REASONS]
        + [f"web.lost.{r}" for r in pipeline.LOST_REASONS]
        + [f"web.queue.done.{d}" for d in queue.DONE]
        + [f"web.pipeline.done.{d}" for d in pipeline.DONE]
        + [f"web.handoff.{s}" for s in ("open", "accepted", "rejected", "closed")]
        + [f"web.role.{r}" for r in ("admin", "manager", "marketing", "sales", "viewer")]
        + [f"web.unit.{u}" for u in ("days", "hours", "months")]
        + [f"web.leads.sla.{s}" for s in ("waiting", "overdue")]
        + [f"stage.{s}" for s in ("lead", "mql", "sal", "sql", "opportunity", "customer", "recycled", "lost")]
    )
    missing = [k for k in built if k not in MESSAGES or any(not MESSAGES[k].get(lang) for lang in LANGUAGES)]
    assert missing == []


def test_a_known_translation() -> None:
    assert translate("web.nav.pipeline", "zh-TW") == "商機看板"
    assert translate("web.page_of", "zh-CN", n=2, pages=5) == "第 2 页,共 5 页"
