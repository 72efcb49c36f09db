"""docs/INTEGRATIONS.md cannot drift: every inbound kind has an example there, each example is the one
`closedloop integration example` prints, and each, signed as the page says (HMAC computed here, not by
closedloop), is accepted by the real app's endpoint with every event written and none quarantined.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.integrations import service
from closedloop.integrations.examples import EXAMPLES
from closedloop.integrations.models import INBOUND_KINDS
from closedloop.leads.models import Lead
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

DOC = Path(__file__).resolve().parents[3] / "docs" / "INTEGRATIONS.md"
SIGNING = "doc-example-signing-secret-7c21"
EXAMPLE = re.compile(r"<!-- example: (?P<kind>[a-z_]+) -->\s*```json\n(?P<body>.*?)\n```", re.DOTALL)


def documented() -> dict[str, dict]:
    found = {m["kind"]: json.loads(m["body"]) for m in EXAMPLE.finditer(DOC.read_text(encoding="utf-8"))}
    assert len(found) == len(EXAMPLE.findall(DOC.read_text(encoding="utf-8")))  # no kind twice
    return found


def test_every_inbound_kind_is_documented_with_the_cli_example() -> None:
    examples = documented()
    assert sorted(examples) == sorted(INBOUND_KINDS)
    assert examples == EXAMPLES
    from closedloop.integrations.cli import integration

    for kind in INBOUND_KINDS:
        printed = CliRunner().invoke(integration, ["example", kind])
        assert printed.exit_code == 0 and json.loads(printed.output) == examples[kind]


def test_each_documented_example_is_accepted_by_the_real_endpoint(store) -> None:
    secret_key = secrets.token_urlsafe(40)
    with unit_of_work(store.session_factory) as session:
        # The leads the email and feedback examples name.
        session.add_all([Lead(email="ming@example.com.tw"), Lead(email="lee@example.cn")])
        for kind in INBOUND_KINDS:
            service.add_source(session=session, name=f"doc-{kind}", kind=kind, secret=SIGNING,
                               secret_key=secret_key, actor=system_actor("cli"))  # fmt: skip
    app = create_app(Settings(database_url=store.url, secret_key=secret_key))
    with TestClient(app) as client:
        for kind, document in documented().items():
            body = json.dumps(document, ensure_ascii=False).encode("utf-8")
            timestamp = int(time.time())
            digest = hmac.new(SIGNING.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
            headers = {"X-Closedloop-Delivery": f"doc-{kind}-1", "X-Closedloop-Timestamp": str(timestamp),
                       "X-Closedloop-Signature": f"v1={digest}", "Content-Type": "application/json"}  # fmt: skip
            response = client.post(f"/api/v1/integrations/doc-{kind}/events", content=body, headers=headers)
            assert response.status_code == 202, (kind, response.text)
            answer = response.json()
            assert (answer["kind"], answer["rows"], answer["inserted"], answer["rejected"]) == (
                kind, len(document["events"]), len(document["events"]), 0,
            ), answer  # fmt: skip
            # The page says a repeated delivery id is refused.
            again = client.post(f"/api/v1/integrations/doc-{kind}/events", content=body, headers=headers)
            assert again.status_code == 409
