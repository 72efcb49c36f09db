"""The web app's pages: one module per page group, combined into one router (web/app.py includes it).

Every module in this package that defines a `router` is included, assets first (the static
files), then the rest in name order; a new page group is a new module here plus its NAV entry in
`common.py`.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
_names = sorted(info.name for info in pkgutil.iter_modules(__path__))
for _name in ["assets", *(n for n in _names if n != "assets")]:
    _module = importlib.import_module(f"{__name__}.{_name}")
    if hasattr(_module, "router"):
        router.include_router(_module.router)
