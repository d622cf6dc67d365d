"""The API against its own OpenAPI document, fuzzed by schemathesis (hostile input).

Every operation of /api/openapi.json, with generated inputs (schemathesis' strategies,
driven here by hypothesis directly): never a 5xx, every response as documented (status,
content type, schema), every API error the SPEC §10 body, schema-invalid input
refused. FUZZ_EXAMPLES raises the number
of cases per operation for a long local run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


def operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_keeps_its_openapi_contract(app: Any, product: dict[str, Any]) -> None:
    ops = operations(app)
    assert len(ops) >= 9, [op.label for op in ops]
    for op in ops:

        @given(case=op.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            # Schema-valid bodies may still break a rule JSON Schema cannot say (a check
            # digit, a calendar date, a lot both input and output): 400 naming the field.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            if response.status_code >= 400 and case.path.startswith("/api/"):
                body = response.json()
                assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body

        check()
