"""Asking the analytics layer for a page's numbers: in parallel, and remembered per store snapshot.

A page needs a dozen independent analytics calls. They run on DuckDB cursors in a small thread
pool (DuckDB releases the GIL), and their results are kept while the analytics snapshot they were
read from is current: the snapshot changes whenever the store changes, so a kept result is never
older than the data. A kept result also expires with the minute it was computed in, so cohort
maturity (measured against now) moves on as time passes.
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from closedloop.analytics import api, snapshot

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pages-numbers")
_KEPT: OrderedDict[str, Any] = OrderedDict()
_LOCK = threading.Lock()
KEEP = 512


def _minute() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")


def _call(url: str, kind: str, kwargs: dict[str, Any]) -> Any:
    if kind == "funnel":
        return api.funnel(url, **kwargs)
    if kind == "metrics":
        names = kwargs.pop("names")
        return api.metrics(url, names, **kwargs)
    if kind == "drill":
        return api.drill(url, **kwargs)
    if kind == "root_cause":
        from closedloop.analytics import insights

        return insights.root_cause(url, **kwargs)
    if kind == "mix_vs_rate":
        from closedloop.analytics import insights

        return insights.mix_vs_rate(url, **kwargs)
    raise ValueError(kind)


def _key(url: str, generation: str, kind: str, kwargs: dict[str, Any]) -> str:
    return json.dumps([url, generation, _minute(), kind, kwargs], sort_keys=True, default=str)


def current(url: str) -> str:
    """The analytics snapshot to read for a page that has numbers to compute.

    After a write the store is read live until it is copied again; on SQLite the copy is made by
    the next look that finds the store quiet. A page with a dozen analytics calls looks twice:
    with no write in between, the second look copies now, and the calls read the copy. Reading
    live costs far more than the copy (the overview at scale m: ~10 s live against <1 s for the
    copy and the calls), and the copy then serves the following requests too.
    """
    generation = snapshot.schema(url)
    if generation == snapshot.LIVE:
        generation = snapshot.schema(url)
    return generation


def ask(url: str, calls: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Run named analytics calls {name: (funnel|metrics|drill|root_cause|mix_vs_rate, kwargs)}; results by name."""
    generation = current(url) if calls else snapshot.schema(url)
    kept = generation != snapshot.LIVE
    out: dict[str, Any] = {}
    todo: dict[str, tuple[str, dict[str, Any], str]] = {}
    for name, (kind, kwargs) in calls.items():
        key = _key(url, generation, kind, kwargs)
        with _LOCK:
            if kept and key in _KEPT:
                _KEPT.move_to_end(key)
                out[name] = _KEPT[key]
                continue
        todo[name] = (kind, kwargs, key)
    # Each call runs in a copy of this request's context, so it notes its freshness on the page's record.
    futures = {
        name: _POOL.submit(contextvars.copy_context().run, _call, url, kind, dict(kwargs))
        for name, (kind, kwargs, _) in todo.items()
    }
    for name, future in futures.items():
        out[name] = future.result()
        if kept:
            with _LOCK:
                _KEPT[todo[name][2]] = out[name]
                while len(_KEPT) > KEEP:
                    _KEPT.popitem(last=False)
    return out


def workspace(url: str) -> Any:
    """The workspace settings as the analytics layer reads them, kept per snapshot."""
    generation = snapshot.schema(url)
    key = _key(url, generation, "workspace", {})
    with _LOCK:
        if generation != snapshot.LIVE and key in _KEPT:
            return _KEPT[key]
    found = api.workspace(url)
    if generation != snapshot.LIVE:
        with _LOCK:
            _KEPT[key] = found
    return found


def chart(build: Callable[..., dict[str, Any]], rows: list[dict[str, Any]], **labels: Any) -> dict[str, Any]:
    """A chart spec, built once per distinct rows and labels (Altair takes ~0.1 s for a busy chart)."""
    key = json.dumps([build.__name__, rows, labels], sort_keys=True, default=str)
    with _LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
    spec = build(rows, **labels)
    with _LOCK:
        _KEPT[key] = spec
        while len(_KEPT) > KEEP:
            _KEPT.popitem(last=False)
    return spec


def kept(url: str, name: str, compute: Callable[[], Any]) -> Any:
    """Any value read from the store, kept while the analytics snapshot (the store's state) is current."""
    generation = snapshot.schema(url)
    key = _key(url, generation, name, {})
    with _LOCK:
        if generation != snapshot.LIVE and key in _KEPT:
            return _KEPT[key]
    value = compute()
    if generation != snapshot.LIVE:
        with _LOCK:
            _KEPT[key] = value
    return value
