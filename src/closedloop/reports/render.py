"""Packs as HTML (Jinja2, autoescaped) and PDF (WeasyPrint, CJK fonts); charts as static SVG."""

from __future__ import annotations

from typing import Any

from closedloop.i18n import translate
from closedloop.i18n.catalog import MESSAGES

FONTS = {"en": "Noto Sans CJK TC", "zh-TW": "Noto Sans CJK TC", "zh-CN": "Noto Sans CJK SC"}
HTML_LANG = {"en": "en", "zh-TW": "zh-Hant-TW", "zh-CN": "zh-Hans-CN"}


def fmt(value: Any, unit: str | None = None, currency: str | None = None) -> str:
    """A figure as people read it: ratios as percentages, money with its currency, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "money":
        return f"{value:,.0f} {currency or ''}".strip()
    if unit in ("days", "hours", "months", "score"):
        return f"{value:,.1f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def metric_label(metric: str, stage: str | None, lang: str) -> str:
    """A short metric name in `lang` (stage counts name their stage)."""
    if metric == "stage_count" and stage:
        return translate("reports.metric.stage_count", lang, stage=translate(f"stage.{stage}", lang))
    key = f"reports.metric.{metric}"
    if key in MESSAGES:
        return translate(key, lang)
    from closedloop.analytics.declarations import METRICS

    declared = METRICS.get(metric)
    return declared.descriptions.get(lang, metric) if declared else metric


def _svg(spec: dict[str, Any], lang: str) -> str:
    from closedloop.web.charts import to_svg

    spec = {**spec, "config": {**spec.get("config", {}), "font": FONTS[lang]}}
    return to_svg(spec, width=620)


def charts(pack: dict[str, Any], lang: str) -> dict[str, str]:
    """The pack's charts as SVG, built from the same Vega-Lite specs as the pages."""
    from closedloop.web import charts as specs

    out: dict[str, str] = {}
    rows = pack["funnel"]["rows"]
    counts = rows[0]["counts"] if rows else {}
    funnel_rows = [{"stage": s, "label": translate(f"stage.{s}", lang), "count": counts.get(s, 0)}
                   for s in pack["funnel"]["stages"]]  # fmt: skip
    out["funnel"] = _svg(
        specs.funnel(funnel_rows, title=translate("reports.h.funnel", lang),
                     stage_label=translate("reports.chart.stage", lang),
                     count_label=translate("reports.chart.count", lang)), lang,
    )  # fmt: skip
    goals = [g for g in pack["scorecard"]["goals"] if g["attainment"] is not None]
    if goals:
        bars = [{"key": g["goal"], "value": round(100 * g["attainment"], 1)} for g in goals]
        out["goals"] = _svg(
            specs.bars(bars, title=translate("reports.h.goals", lang), key_label=translate("reports.col.goal", lang),
                       value_label=translate("reports.col.attainment", lang) + " (%)"), lang,
        )  # fmt: skip
    return out


def environment(lang: str) -> Any:
    """A Jinja2 environment over the report templates, autoescaping, with `t` and `fmt` for `lang`."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("closedloop.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        t=lambda key, **params: translate(key, lang, **params),
        fmt=fmt,
        metric_label=lambda metric, stage=None: metric_label(metric, stage, lang),
        lang=lang,
        html_lang=HTML_LANG[lang],
        font=FONTS[lang],
    )
    return env


def render_html(template: str, lang: str, **context: Any) -> str:
    """One template rendered in `lang`."""
    return str(environment(lang).get_template(template).render(**context))


def to_pdf(html: str) -> bytes:
    """The HTML laid out as PDF by WeasyPrint (fonts from the system's fontconfig)."""
    import weasyprint

    return bytes(weasyprint.HTML(string=html).write_pdf())
