"""Schema-driven fuzzing of the review API (valid and invalid inputs): never a 500."""

from __future__ import annotations

import re
import secrets

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from closedloop.config import Settings
from closedloop.db import unit_of_work
from closedloop.reviews.models import Review
from closedloop.users import service
from closedloop.users.actor import system_actor
from closedloop.web.app import create_app

REVIEW_PATHS = re.compile(r"^/api/v1/(reviews|action-items)")
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 2}  # kept short: a review runs the agenda


def test_review_api_never_answers_a_server_error(store) -> None:
    from datetime import UTC, date, datetime

    with unit_of_work(store.session_factory) as session:
        actor = system_actor("cli")
        admin = service.create_user(session=session, actor=actor, email="admin@corp.example", role="admin",
                                    password=None)  # fmt: skip
        session.add(Review(title="w", period_start=date(2026, 3, 9), period_end=date(2026, 3, 15),
                           data_as_of=datetime(2026, 3, 16, tzinfo=UTC)))  # fmt: skip
        _, key = service.create_api_key(session=session, actor=actor, user=admin)
    app = create_app(Settings(database_url=store.url, secret_key=secrets.token_urlsafe(40)))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    operations = [op.ok() for op in schema.get_all_operations()]
    operations = [op for op in operations if REVIEW_PATHS.match(op.path)]
    assert len(operations) == 6
    failures: list[str] = []
    for operation in operations:
        for mode, examples in EXAMPLES.items():
            try:
                _runner(operation, mode, examples, headers, failures)()
            except Unsatisfiable:  # no invalid input exists (an operation without parameters)
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert failures == []


def _runner(operation, mode: GenerationMode, examples: int, headers: dict[str, str], failures: list[str]):
    """A hypothesis test drawing `examples` cases of one operation; failures are collected, not raised."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        try:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
        except Exception as exc:  # every operation's failure is reported together
            failures.append(f"{operation.label} [{mode.value}]: {type(exc).__name__}: {str(exc)[:400]}")

    return run
