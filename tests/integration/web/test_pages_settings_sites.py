"""Settings: capture sites, their keys, allowed origins and the exact snippet to paste (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select
from tests.integration.web.settings_world import ROLES, XSS, make_world, no_raw_script, signed_in

from closedloop.audit.models import AuditLog
from closedloop.marketing.models import Site
from closedloop.users.models import User


def test_marketing_registers_a_site_and_gets_the_exact_snippet(store) -> None:
    world = make_world(store)
    marketing, csrf = signed_in(world, "marketing")
    bad = marketing.post("/settings/sites", data={"csrf_token": csrf, "name": XSS, "origins": "ftp://x.tw"})
    assert bad.status_code == 422 and 'id="err-origins"' in bad.text and no_raw_script(bad.text)
    assert marketing.post("/settings/sites", data={"csrf_token": csrf, "name": "", "origins": "https://a.tw"}
                          ).status_code == 422  # fmt: skip
    made = marketing.post("/settings/sites", data={"csrf_token": csrf, "name": XSS,
                                                   "origins": "HTTPS://WWW.Shop.tw:443/path\nhttp://localhost:8080"},
                          follow_redirects=False)  # fmt: skip
    assert made.status_code == 303
    with store.session() as s:
        site = s.scalar(select(Site).where(Site.name == XSS))
        key, site_id = site.public_key, site.id
        assert site.origins == ["http://localhost:8080", "https://www.shop.tw"]
        who = s.scalar(select(AuditLog.actor_user_id).where(AuditLog.action == "site.created"))
        assert who == s.scalar(select(User.id).where(User.email == "marketing@demo.closedloop.example"))
    page = marketing.get("/settings/sites").text
    assert no_raw_script(page) and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The code shown is exactly the tag to paste, escaped in the page (typed out, not built by the code).
    shown = re.search(
        rf'<pre translate="no" class="snippet" id="snippet-{site_id}"><code>(.*?)</code></pre>', page, re.S
    )
    expected = f'<script async src="http://testserver/t/closedloop.js" data-site-key="{key}"></script>'
    assert html.unescape(shown.group(1)) == expected and "<script async" not in shown.group(1)
    # Switch the key off and change the origins.
    off = marketing.post(f"/settings/sites/{site_id}", data={"csrf_token": csrf, "origins": "https://shop.tw"},
                         follow_redirects=False)  # fmt: skip
    assert off.status_code == 303
    with store.session() as s:
        site = s.get(Site, site_id)
        assert site.origins == ["https://shop.tw"] and site.is_active is False
    refused = marketing.post(
        f"/settings/sites/{site_id}", data={"csrf_token": csrf, "origins": "", "active": "1"}
    )
    assert refused.status_code == 422 and f'id="err-origins-{site_id}"' in refused.text
    for role in ROLES:
        if role in ("admin", "marketing"):
            continue
        client, their = signed_in(world, role)
        assert client.get("/settings/sites").status_code == 403, role
        assert client.post("/settings/sites", data={"csrf_token": their, "name": "x", "origins": "https://x.tw"}
                           ).status_code == 403, role  # fmt: skip
    # No CSRF token: refused.
    assert marketing.post("/settings/sites", data={"name": "y", "origins": "https://y.tw"}).status_code == 403
