"""Schema-driven fuzzing of API operations (valid and invalid inputs), shared by the domains' fuzz tests.

schemathesis's pytest plugin does not run under pytest 9, so the operations are walked with its
Python API: each operation's hypothesis strategy is drawn a few times per generation mode, and every
failure is collected so one run reports them all.
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error


def fuzz_operations(
    app: Any, *, paths: re.Pattern[str], headers: dict[str, str], examples: dict[GenerationMode, int]
) -> tuple[int, list[str]]:
    """(how many operations matched `paths`, the failures): any 5xx or schema violation is a failure."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [op.ok() for op in schema.get_all_operations()]
    operations = [op for op in operations if paths.match(op.path)]
    failures: list[str] = []
    for operation in operations:
        for mode, count in examples.items():
            try:
                _runner(operation, mode, count, headers, failures)()
            except Unsatisfiable:  # no invalid input exists (an operation without parameters)
                assert mode is GenerationMode.NEGATIVE, operation.label
    return len(operations), failures


def _runner(
    operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str], failures: list[str]
) -> Any:
    """A hypothesis test drawing `examples` cases of one operation; failures are collected, not raised."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])
        except Exception as exc:  # every operation's failure is reported together
            failures.append(f"{operation.label} [{mode.value}]: {type(exc).__name__}: {str(exc)[:400]}")

    return run
