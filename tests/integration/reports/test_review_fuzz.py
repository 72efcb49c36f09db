"""Schema-driven fuzzing of the review API (valid and invalid inputs): never a 500."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime

from schemathesis import GenerationMode
from tests.schema_fuzz import fuzz_operations

from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.reviews.models import Review
from closedloop.users import service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

REVIEW_PATHS = re.compile(r"^/api/v1/(reviews|action-items)")
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 2}  # kept short: a review runs the agenda


def test_review_api_never_answers_a_server_error(store) -> None:
    with unit_of_work(store.session_factory) as session:
        actor = system_actor("cli")
        admin = service.create_user(session=session, actor=actor, email="admin@corp.example", role="admin",
                                    password=None)  # fmt: skip
        session.add(Review(title="w", period_start=date(2026, 3, 9), period_end=date(2026, 3, 15),
                           data_as_of=datetime(2026, 3, 16, tzinfo=UTC)))  # fmt: skip
        _, key = service.create_api_key(session=session, actor=actor, user=admin)
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    count, failures = fuzz_operations(app, paths=REVIEW_PATHS, headers={"Authorization": f"Bearer {key}"},
                                      examples=EXAMPLES)  # fmt: skip
    assert count == 6
    assert failures == []
