"""Static files: our CSS and JS, and the offline Vega bundle (built once from vl-convert, then cached)."""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from closedloop.errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parents[1] / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where the built Vega bundle is kept between runs (the user's cache directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "closedloop"


@lru_cache(maxsize=1)
def vega_bundle() -> bytes:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert builds it offline in ~15 s, once)."""
    import vl_convert

    path = cache_dir() / f"vega-bundle-{vl_convert.__version__}.js"
    with _LOCK:
        if path.exists():
            return path.read_bytes()
        body = vl_convert.javascript_bundle().encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(body)
        partial.replace(path)  # atomic: a second process never reads half a file
        return body


@lru_cache(maxsize=16)
def _own(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def version(name: str) -> str:
    """A short content hash for cache-busting URLs of our own files."""
    return hashlib.sha256(_own(name)).hexdigest()[:10]


@router.get("/static/vendor/vega-bundle.js")
def vega() -> Response:
    """The offline chart library (never a CDN: the machine may be offline)."""
    return Response(
        vega_bundle(), media_type=TYPES[".js"], headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/static/{name}")
def static(name: str) -> Response:
    """pages.css and pages.js."""
    suffix = Path(name).suffix
    if name not in {p.name for p in STATIC.iterdir()} or suffix not in TYPES:
        raise NotFound("no such file")
    return Response(_own(name), media_type=TYPES[suffix], headers={"Cache-Control": "public, max-age=3600"})
