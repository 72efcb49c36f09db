"""Property-based fuzzing of the people-and-records API from its OpenAPI schema: never a 500.

The walk over the operations is the shared helper in tests/schema_fuzz.py.
"""

from __future__ import annotations

import re
import secrets

from schemathesis import GenerationMode
from tests.schema_fuzz import fuzz_operations

from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.leads.models import Lead
from closedloop.users import service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

# The routes of issue 3 (other domains' routes are fuzzed by their own tests).
MY_PATHS = re.compile(
    r"^/api/v1/(session|users|teams|api-keys|persons|audit|leads|touchpoints|campaigns|spend|deals|handoffs"
    r"|activities|goals)"
)
EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 2}


def test_no_server_errors_from_schema_driven_inputs(store) -> None:
    """Whatever the input, an admin's request ends in a 2xx or a 4xx, never a 5xx."""
    with unit_of_work(store.session_factory) as session:
        actor = system_actor("cli")
        admin = service.create_user(
            session=session, actor=actor, email="admin@corp.example", role="admin", password=None
        )
        service.create_team(session=session, actor=actor, name="north")
        session.add(Lead(email="someone@lead.example", owner_id=admin.id))
        _, key = service.create_api_key(session=session, actor=actor, user=admin)
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    count, failures = fuzz_operations(app, paths=MY_PATHS, headers={"Authorization": f"Bearer {key}"},
                                      examples=EXAMPLES)  # fmt: skip
    assert count >= 40
    assert failures == []
