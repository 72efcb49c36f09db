"""Example deliveries for each inbound kind: what an ERP, an email tool or an ad platform posts.

POST /api/v1/integrations/{source}/events with the JSON body below and three headers:

    X-Closedloop-Delivery: <a unique id per delivery; a repeat is refused with 409>
    X-Closedloop-Timestamp: <unix seconds; more than 5 minutes from the server's clock is refused>
    X-Closedloop-Signature: v1=<hex HMAC-SHA256(key=secret, msg=f"{timestamp}." + raw body)>

Each event carries the generic import columns of its kind (SPEC section 7); a bad event is
quarantined with its reason and the others are written. `closedloop integration example KIND`
prints one, and `closedloop integration sign` prints the headers for a body.
"""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, dict[str, Any]] = {
    # ERP invoices and orders -> revenue events (LTV, churn). Amounts in major units.
    "revenue": {
        "events": [
            {
                "external_id": "INV-2026-000123",
                "kind": "invoice",
                "company_tax_id": "24536806",
                "company": "台灣精密股份有限公司",
                "occurred_at": "2026-11-20T10:00:00+08:00",
                "amount": "126000",
                "currency": "TWD",
                "tax_included": True,
                "tax_rate": "0.05",
                "period_start": "2026-12-01",
                "period_end": "2027-11-30",
            },
            {
                "external_id": "SO-2026-0456",
                "kind": "order",
                "company_domain": "acme.com.cn",
                "occurred_at": "2026-11-21T09:30:00+08:00",
                "amount": "8800",
                "currency": "CNY",
            },
        ]
    },
    # Email marketing events -> touchpoints: event send|open|click|unsubscribe (or type email_*).
    "touchpoints": {
        "events": [
            {
                "external_id": "mc-evt-9f1",
                "event": "click",
                "email": "ming@example.com.tw",
                "occurred_at": "2026-11-22T08:15:00Z",
                "utm_source": "newsletter",
                "utm_medium": "email",
                "utm_campaign": "2026-11-webinar",
            },
            {
                "external_id": "mc-evt-9f2",
                "event": "unsubscribe",
                "email": "lee@example.cn",
                "occurred_at": "2026-11-22T09:00:00Z",
            },
        ]
    },
    # Ad platform spend per campaign and day.
    "spend": {
        "events": [
            {
                "date": "2026-11-22",
                "channel": "Paid Search",
                "campaign": "TW-brand-search",
                "amount": "3250.50",
                "currency": "TWD",
                "impressions": 18000,
                "clicks": 412,
            }
        ]
    },
    # Customer satisfaction (CSAT/NPS) and support signals, shared with sales and marketing.
    "feedback": {
        "events": [
            {
                "company": "台灣精密股份有限公司",
                "lead_email": "ming@example.com.tw",
                "occurred_at": "2026-11-22T12:00:00+08:00",
                "score": 4,
                "scale": 5,
                "comment": "導入順利",
            }
        ]
    },
}
