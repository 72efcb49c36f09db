"""Property-based fuzzing of the people-and-records API from its OpenAPI schema: never a 500.

schemathesis's pytest plugin does not run under pytest 9, so the operations are walked with its
Python API: each operation's hypothesis strategy (valid and invalid inputs) is drawn a few times.
"""

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
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    operations = [op.ok() for op in schema.get_all_operations()]
    operations = [op for op in operations if MY_PATHS.match(op.path)]
    assert len(operations) >= 40

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
