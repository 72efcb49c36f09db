"""The web app's pages: one module per page group, combined into one router (web/app.py includes it)."""

from __future__ import annotations

from fastapi import APIRouter

from closedloop.web.pages import (
    assets,
    explore,
    leads,
    marketing,
    models_page,
    overview,
    pipeline,
    prefs,
    queue,
)

router = APIRouter(include_in_schema=False)
for _module in (assets, overview, explore, marketing, leads, queue, pipeline, prefs, models_page):
    router.include_router(_module.router)
